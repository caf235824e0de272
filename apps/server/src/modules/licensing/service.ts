/** Assembles the licensing commands from the platform's pieces and the ports. */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/connect.ts';
import type { Cipher } from '../../platform/crypto/index.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { activationCommands } from './activations.ts';
import { DEFAULT_PRODUCTS, iso, parseProducts, type LicensingContext } from './context.ts';
import { effectiveStatus, licenceCommands } from './licences.ts';
import { PolicyBook } from './policies.ts';
import type { LicensingCaller, LicensingPorts } from './ports.ts';
import { SeatPersonalData } from './personal-data.ts';
import { LicenseDirectory, LicenseRepository } from './repo.ts';
import { scimCommands } from './scim.ts';
import { seatCommands } from './seats.ts';
import { LicenseValidator, type ValidatorOptions } from './validator.ts';

export interface LicensingOptions {
  /** The products licences may name (default: DEFAULT_PRODUCTS). */
  products?: readonly string[];
  validator?: ValidatorOptions;
}

export interface LicensingServiceDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  ports: LicensingPorts;
  /** Seals seat emails and computes their blind index; without it (the operator CLI) seats are unavailable. */
  cipher?: Cipher;
  /** Tells the other nodes that licensing data changed (see `INVALIDATE_CHANNEL`). */
  broadcast?: () => Promise<void>;
}

export function createLicensingService(deps: LicensingServiceDeps, options: LicensingOptions = {}) {
  const directory = new LicenseDirectory(deps.database);
  const caches: { validator?: LicenseValidator } = {};
  const ctx: LicensingContext = {
    ...deps,
    products: new Set(options.products ?? DEFAULT_PRODUCTS),
    directory,
    people: new SeatPersonalData(deps.cipher),
    policies: new PolicyBook(directory, deps.clock),
    invalidate: () => {
      caches.validator?.invalidate();
      // Other nodes clear theirs too (without a bus they catch up within the caches' TTLs).
      deps
        .broadcast?.()
        .catch((err: unknown) =>
          deps.logger.warn({ err }, 'licensing: could not tell other nodes to clear their caches'),
        );
    },
  };
  const validator = new LicenseValidator(ctx, options.validator);
  caches.validator = validator;
  const seats = seatCommands(ctx);
  return {
    ctx,
    validator,
    licences: licenceCommands(ctx),
    seats,
    activations: activationCommands(ctx, validator),
    scim: scimCommands(ctx, seats),
    policies: ctx.policies,

    /** A user's own seats, in every org. */
    async mySeats(caller: LicensingCaller) {
      const now = deps.clock.now().getTime();
      if (!caller.emailVerified) return [];
      const holder = await ctx.people.holder(caller.email);
      return (await directory.seatsOf(holder.index)).map((r) => ({
        licenseId: r.id,
        orgId: r.tenant_id,
        products: parseProducts(r.products),
        licenseStatus: effectiveStatus(r, now),
        expiresAt: iso(r.expires_at === null ? null : Number(r.expires_at)),
        seatStatus: r.seat_status,
      }));
    },

    /** Whether an org has this licence (for routes that must answer 404 otherwise). */
    async orgHasLicense(orgId: string, licenseId: string) {
      return Boolean(
        await withTenant(deps.database, orgId, (scope) => new LicenseRepository(scope).license(licenseId)),
      );
    },
  };
}

export type LicensingService = ReturnType<typeof createLicensingService>;
