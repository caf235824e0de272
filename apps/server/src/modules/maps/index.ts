/**
 * The maps module: cloud maps, sharing, versions, import/export, and the map content store (snapshot + the
 * durable update log) that the collab module appends to. Other modules use it only through this file.
 */
import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { withSystemContext } from '../../platform/db/tenant.ts';
import { MapBlobSweep } from './blob-sweep.ts';
import { MapBlobs, type MapBlobLimits } from './blobs.ts';
import { MapContentStore, plaintextSealer } from './content.ts';
import { registerMapContentKeys } from './content-keys.ts';
import { packageFormats, type MapFormats } from './formats.ts';
import { identityModuleAdapter } from './identity-adapter.ts';
import type { ContentSealer, MapsIdentity } from './ports.ts';
import { MapBlobAccess } from './blob-access.ts';
import { installMapRoutes } from './routes.ts';
import { MapsService } from './service.ts';

export {
  MapContentStore,
  canWrite,
  type AppendEntry,
  type AppendResult,
  type CommittedAppend,
  type LoadedReplica,
  type LogTail,
} from './content.ts';
export type { MapFormats } from './formats.ts';
export { MapBlobs, DEFAULT_MAP_BLOB_LIMITS, type MapBlobLimits, type BlobContent } from './blobs.ts';
export type { Caller, ContentSealer, MapsIdentity, SealRef } from './ports.ts';
export type { MapRole, ShareRole } from './repository.ts';
export { testAuthorization, testIdentity } from './testing.ts';
export { MapsService, type MapsListener, type MapSummary } from './service.ts';

export interface MapsModuleOptions {
  /**
   * Default: the identity module (`request.auth`, session cookie, accounts by email). Routes are then
   * classified `authenticated`; with an injected identity they are `custom` (the port authenticates).
   */
  identity?: MapsIdentity;
  /** Default: platform/crypto's cipher when the platform has one, else content is stored unsealed. */
  sealer?: ContentSealer;
  /** Default: packages/formats. */
  formats?: MapFormats;
  /** Size limits of imported images and attachments (blobs.ts: 25 MiB each, 100 MiB per file). */
  blobLimits?: Partial<MapBlobLimits>;
  /** Body limit of `POST /maps/import`. Default: packages/formats' input limit (64 MiB). */
  importBodyLimit?: number;
}

export interface MapsModule {
  readonly service: MapsService;
  /** Images and attachments as callers reach them (store, read, export, an org's storage view). */
  readonly blobAccess: MapBlobAccess;
  readonly content: MapContentStore;
  readonly identity: MapsIdentity;
  readonly formats: MapFormats;
  /** Images and attachments of maps, in the platform's default blob store. */
  readonly blobs: MapBlobs;
  /** The daily sweep of blobs nothing uses and of shredded tenants' maps. */
  readonly sweep: MapBlobSweep;
  readonly importBodyLimit?: number;
  /** How the module's routes are classified for the auth hook (platform/http/auth.ts). */
  readonly access: FastifyContextConfig;
}

const instances = new WeakMap<AppDeps, MapsModule>();

/** The maps module of one app (one per AppDeps): the maps and collab plugins share it. */
export function mapsModule(deps: AppDeps): MapsModule {
  let module = instances.get(deps);
  if (!module) {
    const { platform } = deps;
    const options = deps.maps ?? {};
    const sealer: ContentSealer | undefined = options.sealer ?? platform.crypto.cipher;
    if (!sealer) {
      platform.logger.warn('maps: no cipher on the platform yet; map content is stored unsealed');
    }
    const identity = options.identity ?? identityModuleAdapter(platform);
    const content = new MapContentStore(
      platform.database,
      sealer ?? plaintextSealer,
      platform.clock,
      sealer !== undefined,
    );
    // Tenant key rotation re-seals map content too; an injected sealer has keys of its own.
    if (sealer === platform.crypto.cipher)
      registerMapContentKeys(platform.crypto.dataKeys, platform.database, content);
    // Sealed with the tenant's data key; the platform registers the store with tenant key rotation.
    const blobs = new MapBlobs(platform.blobs.default, {
      tenantQuotaBytes: platform.config.blobQuotaBytes,
      ...options.blobLimits,
    });
    const service = new MapsService(platform.database, content, identity, platform.clock, blobs);
    const access = options.identity
      ? { access: 'custom' as const, accessNote: 'authenticated by the injected maps identity port' }
      : { access: 'authenticated' as const };
    module = {
      service,
      blobAccess: new MapBlobAccess(platform.database, service, identity, blobs),
      content,
      identity,
      formats: options.formats ?? packageFormats,
      blobs,
      sweep: new MapBlobSweep(platform.database, content, blobs, platform.clock),
      ...(options.importBodyLimit !== undefined ? { importBodyLimit: options.importBodyLimit } : {}),
      access,
    };
    instances.set(deps, module);
  }
  return module;
}

export const SWEEP_BLOBS_JOB = 'maps.sweep_blobs';

/**
 * Daily (`blob-sweep.ts`): deletes map blobs no map row names (an import that died between its blobs and its
 * row, a deletion that failed after the rows), blobs of live maps that nothing has used for
 * `UNUSED_BLOB_GRACE_MS`, and every map of a crypto-shredded tenant, rows and blobs (unreadable for good; the
 * tenant's deletion leaves nothing behind). Tenants are those with keys in `tenant_data_keys` (every blob is
 * sealed with one).
 */
export async function sweepMapBlobs(
  deps: AppDeps,
): Promise<{ tenants: number; maps: number; blobs: number; unused: number; rows: number; sized: number }> {
  const { platform } = deps;
  const { sweep } = mapsModule(deps);
  const rows = await withSystemContext(platform.database, 'maps: tenants for the blob sweep', (trx) =>
    trx.selectFrom('tenant_data_keys').select(['tenant_id', 'purpose']).distinct().execute(),
  );
  const shredded = new Set(rows.filter((r) => r.purpose === 'shredded').map((r) => r.tenant_id));
  const tenants = new Set(rows.map((r) => r.tenant_id));
  const total = { tenants: 0, maps: 0, blobs: 0, unused: 0, rows: 0, sized: 0 };
  for (const tenantId of tenants) {
    const swept = shredded.has(tenantId)
      ? { ...(await sweep.shreddedTenant(tenantId)), unused: 0, sized: 0 }
      : { ...(await sweep.tenant(tenantId)), rows: 0 };
    if (swept.blobs + swept.unused + swept.rows + swept.sized > 0) {
      total.tenants++;
      total.maps += swept.maps;
      total.blobs += swept.blobs;
      total.unused += swept.unused;
      total.rows += swept.rows;
      total.sized += swept.sized;
    }
  }
  if (total.blobs + total.unused + total.rows + total.sized > 0)
    platform.logger.info(
      total,
      "maps: swept blobs that nothing uses and the maps of shredded tenants; blob sizes set right ('sized')",
    );
  return total;
}

export async function mapsPlugin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const module = mapsModule(deps);
  installMapRoutes(app, module);
  deps.platform.jobs.define(SWEEP_BLOBS_JOB, async () => void (await sweepMapBlobs(deps)));
  await deps.platform.jobs.schedule(SWEEP_BLOBS_JOB, 24 * 3_600_000);
}
