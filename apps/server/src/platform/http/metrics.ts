/** Prometheus metrics, one registry per app instance (tests build several apps in one process). */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly websockets: Gauge<'kind'>;
  readonly jobsRun: Counter<'job' | 'outcome'>;
  readonly collabLimitCloses: Counter<'reason'>;
  readonly collabUpdates: Counter<'outcome'>;
  readonly collabCommitSeconds: Histogram;
  readonly collabNodesLost: Counter;
  readonly collabMirrorThreadEnds: Counter<'reason'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Includes the event-loop delay (nodejs_eventloop_lag_*) and heap figures.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'canopy_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    websockets: new Gauge({
      name: 'canopy_websockets',
      help: 'Open WebSocket connections',
      labelNames: ['kind'],
      registers: [registry],
    }),
    jobsRun: new Counter({
      name: 'canopy_jobs_total',
      help: 'Jobs run by outcome',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    collabLimitCloses: new Counter({
      name: 'canopy_collab_limit_closes_total',
      help: 'Co-editing sockets closed for a limit (too_big, rate_limited, too_many_connections, too_slow, node_full)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    collabUpdates: new Counter({
      name: 'canopy_collab_updates_total',
      help: 'Co-editing updates: accepted (durable), or refused by refusal code (forbidden, malformed-update...)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    collabCommitSeconds: new Histogram({
      name: 'canopy_collab_commit_seconds',
      help: 'Co-editing commits from start to durable (when the senders are acknowledged)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    collabNodesLost: new Counter({
      name: 'canopy_collab_nodes_lost_total',
      help: "Other nodes taken for dead (silent on the bus for 30 s); their members' presence is dropped here",
      registers: [registry],
    }),
    collabMirrorThreadEnds: new Counter({
      name: 'canopy_collab_mirror_thread_ends_total',
      help:
        "Mirror threads ended (R22) by reason: 'overrun' (50,000 stored updates behind) or 'failed' (died); " +
        'their rooms fold on the event loop until their next fold opens them a new mirror',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  // One labelled child per (method, route, status), kept: prom-client hashes the labels on every `labels()` call.
  // Bounded by the route table times the status codes the app sends.
  const children = new Map<string, ReturnType<Metrics['httpDuration']['labels']>>();
  app.addHook('onResponse', (request, reply, done) => {
    // The route template, never the raw URL: ids and tokens in paths must not become label values.
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = children.get(key);
    if (!child) {
      child = metrics.httpDuration.labels({
        method: request.method,
        route,
        status: String(reply.statusCode),
      });
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
}

/** The co-editing rooms open on this node, read at scrape time. */
export function registerRoomGauge(metrics: Metrics, rooms: () => number): void {
  new Gauge({
    name: 'canopy_collab_rooms',
    help: 'Co-editing rooms open on this node',
    registers: [metrics.registry],
    collect() {
      this.set(rooms());
    },
  });
}

/**
 * The size of Loro's WebAssembly memory on the event loop's thread (every open room's replica, and every map a
 * request opens), read at scrape time, and on the mirror thread (every active room's mirror), as the thread
 * said after its last batch. WebAssembly memory only grows: after a busy hour it stays at its high-water mark,
 * reused by later rooms; the mirror thread's goes with the thread when it ends.
 */
export function registerLoroHeapGauge(
  metrics: Metrics,
  size: () => number | undefined,
  mirrorSize: () => number,
): void {
  new Gauge({
    name: 'canopy_loro_heap_bytes',
    help: "Size of Loro's WebAssembly memory on the event loop's thread (it never shrinks)",
    registers: [metrics.registry],
    collect() {
      const bytes = size();
      if (bytes !== undefined) this.set(bytes);
    },
  });
  new Gauge({
    name: 'canopy_collab_mirror_loro_heap_bytes',
    help: "Size of Loro's WebAssembly memory on the mirror thread, after its last batch (0 while none runs)",
    registers: [metrics.registry],
    collect() {
      this.set(mirrorSize());
    },
  });
}

/** Gauges read at scrape time from the database pool, where the driver exposes its counts. */
export function registerPoolGauges(
  metrics: Metrics,
  poolStats: () => { total: number; idle: number; waiting: number } | undefined,
): void {
  new Gauge({
    name: 'canopy_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [metrics.registry],
    collect() {
      const stats = poolStats();
      if (!stats) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
}
