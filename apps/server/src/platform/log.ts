/**
 * Logging with pino. Request logs carry the request id, method, route and status, and never the client IP,
 * headers that carry credentials, or bodies: IPs live only in tables whose 30-day retention purge covers them
 * (docs/operations.md, "Logs and retention"), so logs kept for any length of time hold no personal data.
 */
import { pino, type DestinationStream, type LogFn, type Logger } from 'pino';

export type { Logger };

/** Paths redacted wherever they occur in a logged object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'clientSecret',
  '*.clientSecret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'canopy' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVEL_VALUES: Record<LevelName, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/**
 * Fastify's per-request logger, made only when a request logs something at an enabled level (Fastify's
 * `childLoggerFactory`). pino's `child()` copies and serialises the bindings, and a route with its own level
 * (`logLevel`) also rebuilds every log method: about 1–2 µs on every request of every route, for a logger most
 * requests never write to (licence validation, the hottest route, logs only warnings and errors). The child it
 * makes is exactly the one Fastify's default factory would make, so the lines are the same.
 */
export class LazyRequestLogger {
  #child: Logger | undefined;
  readonly #threshold: number;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: { level?: string },
  ) {
    this.#threshold = parent.levels.values[options.level ?? parent.level] ?? Number.POSITIVE_INFINITY;
  }

  /** The real child logger (made on first use). */
  get real(): Logger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.#child?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return this.#child
      ? this.#child.isLevelEnabled(level)
      : (this.parent.levels.values[level] ?? 0) >= this.#threshold;
  }

  child(bindings: Record<string, unknown>, options?: { level?: string }): Logger {
    return this.real.child(bindings, options);
  }

  silent(): void {}

  declare trace: Logger['trace'];
  declare debug: Logger['debug'];
  declare info: Logger['info'];
  declare warn: Logger['warn'];
  declare error: Logger['error'];
  declare fatal: Logger['fatal'];

  static {
    for (const name of Object.keys(LEVEL_VALUES) as LevelName[]) {
      const value = LEVEL_VALUES[name];
      Object.defineProperty(LazyRequestLogger.prototype, name, {
        value: function (this: LazyRequestLogger, ...args: unknown[]): void {
          // Once the child exists, its own level decides (it may have been changed through `level`).
          if (this.#child || value >= this.#threshold) this.real[name](...(args as Parameters<LogFn>));
        },
      });
    }
  }
}
