/**
 * The maps module: cloud maps, sharing, versions, import/export, and the map content store (snapshot + the
 * durable update log) that the collab module appends to. Other modules use it only through this file.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { MapContentStore, plaintextSealer } from './content.ts';
import { jsonOnlyFormats, type MapFormats } from './formats.ts';
import { requestAuthIdentity, type ContentSealer, type MapsIdentity } from './ports.ts';
import { installMapRoutes } from './routes.ts';
import { MapsService } from './service.ts';

export { MapContentStore, canWrite, type AppendEntry, type AppendResult, type LogTail } from './content.ts';
export type { MapFormats } from './formats.ts';
export type { Caller, ContentSealer, MapsIdentity, SealRef } from './ports.ts';
export type { MapRole, ShareRole } from './repository.ts';
export { testAuthorization, testIdentity } from './testing.ts';
export { MapsService, type MapsListener, type MapSummary } from './service.ts';

export interface MapsModuleOptions {
  /** Default: reads `request.auth` (the identity module's auth hook). */
  identity?: MapsIdentity;
  /** Default: platform/crypto's cipher when the platform has one, else content is stored unsealed. */
  sealer?: ContentSealer;
  /** Default: the document JSON contract only (packages/formats plugs in here). */
  formats?: MapFormats;
}

export interface MapsModule {
  readonly service: MapsService;
  readonly content: MapContentStore;
  readonly identity: MapsIdentity;
  readonly formats: MapFormats;
}

function platformCipher(platform: AppDeps['platform']): ContentSealer | undefined {
  const cipher = (platform as unknown as { crypto?: { cipher?: Partial<ContentSealer> } }).crypto?.cipher;
  if (cipher && typeof cipher.seal === 'function' && typeof cipher.open === 'function') {
    return cipher as ContentSealer;
  }
  return undefined;
}

const instances = new WeakMap<AppDeps, MapsModule>();

/** The maps module of one app (one per AppDeps): the maps and collab plugins share it. */
export function mapsModule(deps: AppDeps): MapsModule {
  let module = instances.get(deps);
  if (!module) {
    const { platform } = deps;
    const options = deps.maps ?? {};
    const sealer = options.sealer ?? platformCipher(platform);
    if (!sealer) {
      platform.logger.warn('maps: no cipher on the platform yet; map content is stored unsealed');
    }
    const identity = options.identity ?? requestAuthIdentity;
    const content = new MapContentStore(
      platform.database,
      sealer ?? plaintextSealer,
      platform.clock,
      sealer !== undefined,
    );
    const service = new MapsService(platform.database, content, identity, platform.clock);
    module = { service, content, identity, formats: options.formats ?? jsonOnlyFormats };
    instances.set(deps, module);
  }
  return module;
}

export async function mapsPlugin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const module = mapsModule(deps);
  installMapRoutes(app, { service: module.service, identity: module.identity, formats: module.formats });
}
