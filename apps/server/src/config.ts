/**
 * One validated configuration, read from environment variables (names in API.md, "Operating") and an optional
 * JSON file (`CANOPY_CONFIG_FILE`) that may set the same keys. Every bad value is reported at once, by name.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const ConfigSchema = Type.Object({
  CANOPY_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  CANOPY_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  CANOPY_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  CANOPY_DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  CANOPY_DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^(sqlite:|postgres(ql)?://|mysql://|mariadb://)' }),
  ),
  CANOPY_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  CANOPY_BLOB_URL: Type.Optional(Type.String({ pattern: '^(file:|s3://)' })),
  CANOPY_BLOB_REGIONS: Type.Optional(
    Type.String({
      description: 'named regional blob stores: "eu=s3://bucket-eu?region=eu-central-1,us=file:/srv/us"',
    }),
  ),
  CANOPY_SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  CANOPY_MAIL_PRINT: Type.Boolean({
    default: true,
    description: 'print outbox mail to the console when no SMTP is set',
  }),
  CANOPY_MAIL_FROM: Type.String({ default: 'Canopy <no-reply@localhost>' }),
  CANOPY_TLS_CERT: Type.Optional(Type.String({ minLength: 1 })),
  CANOPY_TLS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  CANOPY_TRUSTED_PROXIES: Type.Optional(Type.String({ description: 'comma-separated IPs/CIDRs, or "true"' })),
  CANOPY_ALLOW_PRIVATE_OUTBOUND: Type.Boolean({ default: false }),
  CANOPY_BOOTSTRAP_ADMIN_EMAIL: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' })),
  CANOPY_BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  CANOPY_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  CANOPY_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  CANOPY_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600 }),
  CANOPY_METRICS_ALLOW: Type.String({ default: 'loopback', description: '"all", "loopback" or "none"' }),
  CANOPY_CORS_ORIGINS: Type.Optional(
    Type.String({ description: 'comma-separated origins; CORS is off without it' }),
  ),
  CANOPY_SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  CANOPY_JOBS: Type.Boolean({ default: true, description: 'run the job worker in this process' }),
  CANOPY_COLLAB_MAX_CONNECTIONS: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'co-editing sockets open on this node at once (more are closed with 1013)',
  }),
  CANOPY_BLOB_QUOTA_MIB: Type.Integer({
    minimum: 0,
    default: 10_240,
    description: "MiB of images and attachments each organisation's maps may hold (0: no limit)",
  }),
  CANOPY_SQLITE_CACHE_MIB: Type.Integer({
    minimum: 1,
    maximum: 4096,
    default: 16,
    description: "MiB of SQLite's page cache (the embedded database only; it fills up to this and stays)",
  }),
  CANOPY_PASSWORD_HASH: Type.Union([Type.Literal('argon2id'), Type.Literal('bcrypt')], {
    default: 'argon2id',
  }),
  CANOPY_SESSION_IDLE_MINUTES: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  CANOPY_SESSION_ABSOLUTE_HOURS: Type.Number({ exclusiveMinimum: 0, default: 12 }),
  CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL: Type.Boolean({ default: false }),
  CANOPY_LICENSE_PRODUCTS: Type.String({
    default: 'desktop-windows,desktop-mac,mobile,teams,snap,reader',
    pattern: '^[a-z0-9][a-z0-9-]*(,[a-z0-9][a-z0-9-]*)*$',
  }),
});
type RawConfig = Static<typeof ConfigSchema>;

/** Keys whose values are never printed (config dumps, logs, errors). */
export const SECRET_KEYS = new Set<string>([
  'CANOPY_BOOTSTRAP_ADMIN_PASSWORD',
  'CANOPY_SMTP_URL',
  'CANOPY_DATABASE_URL',
  'CANOPY_REDIS_URL',
]);

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  blobUrl: string;
  blobRegions: Record<string, string>;
  smtpUrl: string | undefined;
  mailFrom: string;
  mailPrint: boolean;
  tls: { certFile: string; keyFile: string } | undefined;
  trustProxy: boolean | string[];
  allowPrivateOutbound: boolean;
  bootstrapAdmin: { email: string; password: string } | undefined;
  logLevel: string;
  bodyLimitBytes: number;
  rateLimitPerMinute: number;
  metricsAllow: 'all' | 'loopback' | 'none';
  corsOrigins: string[];
  shutdownGraceMs: number;
  runJobs: boolean;
  /** Co-editing sockets open on this node at once (docs/protocol/collab.md R35). */
  collabMaxConnections: number;
  /** Bytes of images and attachments each tenant's maps may hold; 0 for no limit. */
  blobQuotaBytes: number;
  /** MiB of SQLite's page cache on the server's connection (SQLite only). */
  sqliteCacheMiB: number;
  identity: {
    passwordHash: 'argon2id' | 'bcrypt';
    sessionIdleMinutes: number;
    sessionAbsoluteHours: number;
    /** API.md's 409 email_taken on sign-up; off by default because it tells anyone which emails have accounts. */
    signUpRevealsTakenEmail: boolean;
  };
  licenseProducts: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, string | undefined>;

function readFileSource(path: string, problems: string[]): Source {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(`CANOPY_CONFIG_FILE: ${path} must hold a JSON object`);
      return {};
    }
    const out: Source = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (!(k in ConfigSchema.properties)) problems.push(`${k}: unknown key in ${path}`);
      else out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    return out;
  } catch (err) {
    problems.push(`CANOPY_CONFIG_FILE: cannot read ${path}: ${(err as Error).message}`);
    return {};
  }
}

/** Environment variables win over the file. Values are strings; the schema converts and checks them. */
export function loadConfig(env: Source = process.env): Config {
  const problems: string[] = [];
  const fileSource = env.CANOPY_CONFIG_FILE ? readFileSource(env.CANOPY_CONFIG_FILE, problems) : {};
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key] ?? fileSource[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, merged));
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const key = error.path.replace(/^\//, '');
    const shown = SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(merged[key]);
    problems.push(`${key}: ${error.message} (got ${shown})`);
  }
  const raw = converted as RawConfig;
  if (Boolean(raw.CANOPY_TLS_CERT) !== Boolean(raw.CANOPY_TLS_KEY)) {
    problems.push('CANOPY_TLS_CERT/CANOPY_TLS_KEY: set both or neither');
  }
  if (Boolean(raw.CANOPY_BOOTSTRAP_ADMIN_EMAIL) !== Boolean(raw.CANOPY_BOOTSTRAP_ADMIN_PASSWORD)) {
    problems.push('CANOPY_BOOTSTRAP_ADMIN_EMAIL/CANOPY_BOOTSTRAP_ADMIN_PASSWORD: set both or neither');
  }
  if (!['all', 'loopback', 'none'].includes(String(raw.CANOPY_METRICS_ALLOW))) {
    problems.push(
      `CANOPY_METRICS_ALLOW: must be all, loopback or none (got ${JSON.stringify(raw.CANOPY_METRICS_ALLOW)})`,
    );
  }
  const blobRegions: Record<string, string> = {};
  for (const part of (raw.CANOPY_BLOB_REGIONS ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const url = part.slice(eq + 1).trim();
    if (
      eq < 1 ||
      !/^[a-z][a-z0-9-]{0,31}$/.test(name) ||
      name === 'default' ||
      !/^(file:|s3:\/\/)/.test(url)
    ) {
      problems.push(
        `CANOPY_BLOB_REGIONS: "${part.split('?')[0] ?? ''}" is not name=file:<dir> or name=s3://bucket?...`,
      );
    } else blobRegions[name] = url;
  }
  if (problems.length) throw new ConfigError(problems);

  const dataDir = resolve(raw.CANOPY_DATA_DIR);
  const scheme = raw.CANOPY_TLS_CERT ? 'https' : 'http';
  const trusted = raw.CANOPY_TRUSTED_PROXIES?.trim();
  return {
    port: raw.CANOPY_PORT,
    host: raw.CANOPY_HOST,
    publicUrl: (raw.CANOPY_PUBLIC_URL ?? `${scheme}://${raw.CANOPY_HOST}:${raw.CANOPY_PORT}`).replace(
      /\/$/,
      '',
    ),
    dataDir,
    databaseUrl: raw.CANOPY_DATABASE_URL ?? `sqlite:${resolve(dataDir, 'canopy.sqlite')}`,
    redisUrl: raw.CANOPY_REDIS_URL,
    blobUrl: raw.CANOPY_BLOB_URL ?? `file:${resolve(dataDir, 'blobs')}`,
    blobRegions,
    smtpUrl: raw.CANOPY_SMTP_URL,
    mailFrom: raw.CANOPY_MAIL_FROM,
    mailPrint: raw.CANOPY_MAIL_PRINT,
    tls:
      raw.CANOPY_TLS_CERT && raw.CANOPY_TLS_KEY
        ? { certFile: raw.CANOPY_TLS_CERT, keyFile: raw.CANOPY_TLS_KEY }
        : undefined,
    trustProxy: !trusted
      ? false
      : trusted === 'true'
        ? true
        : trusted
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    allowPrivateOutbound: raw.CANOPY_ALLOW_PRIVATE_OUTBOUND,
    bootstrapAdmin:
      raw.CANOPY_BOOTSTRAP_ADMIN_EMAIL && raw.CANOPY_BOOTSTRAP_ADMIN_PASSWORD
        ? { email: raw.CANOPY_BOOTSTRAP_ADMIN_EMAIL, password: raw.CANOPY_BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
    logLevel: raw.CANOPY_LOG_LEVEL,
    bodyLimitBytes: raw.CANOPY_BODY_LIMIT_BYTES,
    rateLimitPerMinute: raw.CANOPY_RATE_LIMIT_PER_MINUTE,
    metricsAllow: raw.CANOPY_METRICS_ALLOW as Config['metricsAllow'],
    corsOrigins: raw.CANOPY_CORS_ORIGINS ? raw.CANOPY_CORS_ORIGINS.split(',').map((s) => s.trim()) : [],
    shutdownGraceMs: raw.CANOPY_SHUTDOWN_GRACE_MS,
    runJobs: raw.CANOPY_JOBS,
    collabMaxConnections: raw.CANOPY_COLLAB_MAX_CONNECTIONS,
    blobQuotaBytes: raw.CANOPY_BLOB_QUOTA_MIB * 1024 * 1024,
    sqliteCacheMiB: raw.CANOPY_SQLITE_CACHE_MIB,
    identity: {
      passwordHash: raw.CANOPY_PASSWORD_HASH,
      sessionIdleMinutes: raw.CANOPY_SESSION_IDLE_MINUTES,
      sessionAbsoluteHours: raw.CANOPY_SESSION_ABSOLUTE_HOURS,
      signUpRevealsTakenEmail: raw.CANOPY_SIGNUP_REVEALS_TAKEN_EMAIL,
    },
    licenseProducts: raw.CANOPY_LICENSE_PRODUCTS.split(','),
  };
}

/** A printable view of the configuration with secrets masked (URLs keep scheme and host only). */
export function describeConfig(config: Config): Record<string, unknown> {
  const maskUrl = (u: string | undefined) => {
    if (!u) return u;
    if (u.startsWith('sqlite:') || u.startsWith('file:')) return u;
    try {
      const url = new URL(u);
      return `${url.protocol}//${url.host}${url.pathname}`;
    } catch {
      return '(hidden)';
    }
  };
  return {
    ...config,
    databaseUrl: maskUrl(config.databaseUrl),
    redisUrl: maskUrl(config.redisUrl),
    smtpUrl: maskUrl(config.smtpUrl),
    bootstrapAdmin: config.bootstrapAdmin
      ? { email: config.bootstrapAdmin.email, password: '(hidden)' }
      : undefined,
  };
}
