/**
 * Logging with pino. Request logs carry the request id, method, route and status, and never the client IP,
 * headers that carry credentials, or bodies: IPs live only in tables whose 30-day retention purge covers them
 * (docs/operations.md, "Logs and retention"), so logs kept for any length of time hold no personal data.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

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
