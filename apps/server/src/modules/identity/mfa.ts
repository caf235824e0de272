/**
 * TOTP two-step verification (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) with ten single-use recovery codes.
 * The secret is sealed; a code is accepted once (the last used time step is kept); recovery codes are stored
 * as SHA-256 and may be given wherever a code is asked for.
 */
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { AccountRow, AccountStore } from './account-store.ts';
import { nowMs, type Caller, type IdentityDeps } from './deps.ts';
import { invalidTotp, mfaAlreadyEnabled, mfaNotPending } from './errors.ts';
import { hashToken } from './secrets.ts';

const PERIOD = 30;
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_PATTERN = /^[a-z0-9]{5}-?[a-z0-9]{5}$/i;

function totpFor(secretBase32: string, label: string): TOTP {
  return new TOTP({
    issuer: 'Canopy',
    label,
    secret: Secret.fromBase32(secretBase32),
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
  });
}

function recoveryCode(): string {
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length] ?? 'a');
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

const hashRecovery = (code: string) => hashToken(`recovery:${code.toLowerCase().replace('-', '')}`);

export class Mfa {
  constructor(
    private readonly deps: IdentityDeps,
    private readonly accounts: AccountStore,
  ) {}

  /** Starts enrolment: a new secret, kept pending until a code from it is confirmed. */
  async begin(row: AccountRow): Promise<{ secret: string; otpauthUrl: string }> {
    if (row.totp_enabled_at !== null) throw mfaAlreadyEnabled();
    const account = await this.accounts.open(row);
    const secret = new Secret({ size: 20 }).base32;
    await this.accounts.update(row.id, {
      totp_pending_sealed: await this.accounts.seal(row, 'totp_pending_sealed', secret),
      updated_at: nowMs(this.deps),
    });
    return { secret, otpauthUrl: totpFor(secret, account.email).toString() };
  }

  /** Confirms enrolment with a code from the pending secret; returns the recovery codes (shown once). */
  async confirm(row: AccountRow, code: string, caller: Caller): Promise<string[]> {
    if (row.totp_enabled_at !== null) throw mfaAlreadyEnabled();
    if (!row.totp_pending_sealed) throw mfaNotPending();
    const secret = await this.accounts.openColumn(row, 'totp_pending_sealed', row.totp_pending_sealed);
    const step = this.matchingStep(secret, code);
    if (step === undefined) throw invalidTotp();
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    const now = nowMs(this.deps);
    const sealed = await this.accounts.seal(row, 'totp_secret_sealed', secret);
    await this.deps.database.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('account_id', '=', row.id).execute();
      await trx
        .insertInto('recovery_codes')
        .values(
          codes.map((c) => ({
            account_id: row.id,
            code_hash: hashRecovery(c),
            used_at: null,
            created_at: now,
          })),
        )
        .execute();
      await this.accounts.update(
        row.id,
        {
          totp_secret_sealed: sealed,
          totp_pending_sealed: null,
          totp_enabled_at: now,
          totp_last_step: step,
          updated_at: now,
        },
        trx,
      );
    });
    await this.deps.audit.record(row.tenant_id, {
      action: 'mfa.enabled',
      actorId: row.id,
      subjectId: row.id,
      ip: caller.ip,
    });
    return codes;
  }

  async disable(row: AccountRow, caller: Caller): Promise<void> {
    await this.deps.database.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('account_id', '=', row.id).execute();
      await this.accounts.update(
        row.id,
        {
          totp_secret_sealed: null,
          totp_pending_sealed: null,
          totp_enabled_at: null,
          totp_last_step: null,
          updated_at: nowMs(this.deps),
        },
        trx,
      );
    });
    await this.deps.audit.record(row.tenant_id, {
      action: 'mfa.disabled',
      actorId: row.id,
      subjectId: row.id,
      ip: caller.ip,
    });
  }

  private matchingStep(secretBase32: string, code: string): number | undefined {
    if (!/^\d{6}$/.test(code)) return undefined;
    const now = nowMs(this.deps);
    const delta = totpFor(secretBase32, 'x').validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) return undefined;
    return Math.floor(now / 1000 / PERIOD) + delta;
  }

  /** Checks a TOTP code or a recovery code for an account with MFA on; each is accepted once. */
  async check(row: AccountRow, code: string, caller: Caller): Promise<boolean> {
    if (!row.totp_secret_sealed) return false;
    const trimmed = code.trim();
    if (RECOVERY_PATTERN.test(trimmed)) {
      const r = await this.deps.database.db
        .updateTable('recovery_codes')
        .set({ used_at: nowMs(this.deps) })
        .where('account_id', '=', row.id)
        .where('code_hash', '=', hashRecovery(trimmed))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await this.deps.audit.record(row.tenant_id, {
        action: 'mfa.recovery_code_used',
        actorId: row.id,
        subjectId: row.id,
        ip: caller.ip,
      });
      return true;
    }
    const secret = await this.accounts.openColumn(row, 'totp_secret_sealed', row.totp_secret_sealed);
    const step = this.matchingStep(secret, trimmed);
    if (step === undefined) return false;
    // Accept each time step once, even within its window: a code seen by someone else cannot be replayed.
    const r = await this.deps.database.db
      .updateTable('accounts')
      .set({ totp_last_step: step })
      .where('id', '=', row.id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}

/** For tests and the CLI: the current code of a base32 secret at `timestamp`. */
export function totpCode(secretBase32: string, timestamp: number): string {
  return totpFor(secretBase32, 'x').generate({ timestamp });
}
