import { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { LazyRequestLogger, createLogger, type Logger } from './log.ts';

/** A logger writing into an array of parsed lines (pino writes synchronously to a plain stream). */
function capture(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

const withoutTime = (lines: Record<string, unknown>[]) => lines.map(({ time: _time, ...rest }) => rest);

describe('LazyRequestLogger', () => {
  it('makes no child for a request that logs nothing at an enabled level', () => {
    const { logger, lines } = capture('info');
    const child = vi.spyOn(logger, 'child');
    const lazy = new LazyRequestLogger(logger, { reqId: 'r1' }, { level: 'warn' });
    lazy.info('not at this level');
    lazy.debug({ a: 1 }, 'nor this');
    expect(lazy.isLevelEnabled('info')).toBe(false);
    expect(lazy.isLevelEnabled('error')).toBe(true);
    expect(lazy.level).toBe('warn');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('writes the lines pino’s own child would write, bindings and redaction included', () => {
    const lazyOut = capture('info');
    const lazy = new LazyRequestLogger(lazyOut.logger, { reqId: 'r2' }, {});
    const directOut = capture('info');
    const direct = directOut.logger.child({ reqId: 'r2' }, {});
    for (const log of [lazy, direct]) {
      log.info({ route: '/x', authorization: 'Bearer secret' }, 'request');
      log.warn('careful');
      log.debug('hidden');
      log.error(new Error('boom'), 'failed');
    }
    expect(lazyOut.lines).toHaveLength(3);
    expect(withoutTime(lazyOut.lines)).toEqual(withoutTime(directOut.lines));
    expect(lazyOut.lines[0]).toMatchObject({ reqId: 'r2', authorization: '[redacted]', msg: 'request' });
  });

  it('follows a level changed on it, and makes children of its own', () => {
    const { logger, lines } = capture('info');
    const lazy = new LazyRequestLogger(logger, { reqId: 'r3' }, { level: 'error' });
    lazy.level = 'debug';
    lazy.debug('now shown');
    lazy.child({ step: 'inner' }).info('nested');
    expect(lines.map((l) => [l.reqId, l.step, l.msg])).toEqual([
      ['r3', undefined, 'now shown'],
      ['r3', 'inner', 'nested'],
    ]);
  });

  it('serves as Fastify’s request logger: the route’s logLevel holds, the request id is bound', async () => {
    const { logger, lines } = capture('info');
    const app = Fastify({
      loggerInstance: logger,
      logController: new LogController({ disableRequestLogging: true }),
      genReqId: () => 'req-42',
      childLoggerFactory: (parent, bindings, options) =>
        new LazyRequestLogger(parent as Logger, bindings, options) as unknown as FastifyBaseLogger,
    });
    app.get('/quiet', { logLevel: 'warn' }, async (request) => {
      request.log.info('dropped');
      request.log.warn('kept');
      return {};
    });
    await app.inject({ url: '/quiet' });
    await app.close();
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([['req-42', 'kept']]);
  });
});
