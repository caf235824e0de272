/**
 * Tells the other nodes when this one rotated, retired or shredded a tenant's keys, so that they drop their
 * cached copy at once instead of after the cache's time-to-live. Best effort (pub/sub may lose a message):
 * correctness never depends on it, since rotation waits out the TTL before destroying a key; it shortens the
 * time a shredded tenant's key stays in other nodes' memory. When the pub/sub connection drops and comes back,
 * announcements may have been lost meanwhile: the whole cache is dropped then.
 */
import type { Logger } from 'pino';
import type { PubSub, Unsubscribe } from '../pubsub/index.ts';
import type { TenantKeyStore } from './tenant-keys.ts';

export const KEY_CACHE_CHANNEL = 'crypto.keys.changed';

export async function linkKeyCacheToPubSub(
  keys: TenantKeyStore,
  pubsub: PubSub,
  logger?: Logger,
): Promise<Unsubscribe> {
  const unsubscribe = await pubsub.subscribe(KEY_CACHE_CHANNEL, (tenantId) => keys.invalidate(tenantId));
  const unlisten = pubsub.onReconnected(() => keys.invalidate());
  keys.onChange = (tenantId) => {
    pubsub
      .publish(KEY_CACHE_CHANNEL, tenantId)
      .catch((err: unknown) => logger?.warn({ err, tenantId }, 'could not announce a key change'));
  };
  return async () => {
    keys.onChange = undefined;
    unlisten();
    await unsubscribe();
  };
}
