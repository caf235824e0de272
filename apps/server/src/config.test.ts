import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('configuration', () => {
  it('runs on embedded defaults with no variables at all', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.databaseUrl).toMatch(/^sqlite:.*data\/canopy\.sqlite$/);
    expect(c.blobUrl).toMatch(/^file:.*data\/blobs$/);
    expect(c.smtpUrl).toBeUndefined();
    expect(c.trustProxy).toBe(false);
  });

  it('reports every bad value at once, by variable name', () => {
    let error: unknown;
    try {
      loadConfig({
        CANOPY_PORT: 'eighty',
        CANOPY_DATABASE_URL: 'oracle://x',
        CANOPY_TLS_CERT: '/c.pem',
        CANOPY_METRICS_ALLOW: 'some',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('CANOPY_PORT');
    expect(problems).toContain('CANOPY_DATABASE_URL');
    expect(problems).toContain('CANOPY_TLS_CERT/CANOPY_TLS_KEY');
    expect(problems).toContain('CANOPY_METRICS_ALLOW');
  });

  it('never prints a secret, even in an error', () => {
    let message = '';
    try {
      loadConfig({
        CANOPY_BOOTSTRAP_ADMIN_EMAIL: 'op@example.com',
        CANOPY_BOOTSTRAP_ADMIN_PASSWORD: 'short',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('CANOPY_BOOTSTRAP_ADMIN_PASSWORD');
    expect(message).not.toContain('short');
    const c = loadConfig({
      CANOPY_DATABASE_URL: 'postgres://canopy:hunter22@db.internal:5432/canopy',
      CANOPY_SMTP_URL: 'smtp://mailer:pa55@smtp.internal:587',
      CANOPY_BOOTSTRAP_ADMIN_EMAIL: 'op@example.com',
      CANOPY_BOOTSTRAP_ADMIN_PASSWORD: 'correct horse battery',
    });
    const shown = JSON.stringify(describeConfig(c));
    for (const secret of ['hunter22', 'pa55', 'correct horse battery']) expect(shown).not.toContain(secret);
    expect(shown).toContain('db.internal');
  });

  it('reads the same keys from a JSON file, with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-config-'));
    dirs.push(dir);
    const file = join(dir, 'canopy.json');
    writeFileSync(
      file,
      JSON.stringify({
        CANOPY_PORT: 9000,
        CANOPY_HOST: '0.0.0.0',
        CANOPY_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2',
      }),
    );
    const c = loadConfig({ CANOPY_CONFIG_FILE: file, CANOPY_HOST: '127.0.0.2' });
    expect(c.port).toBe(9000);
    expect(c.host).toBe('127.0.0.2');
    expect(c.trustProxy).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('names unknown keys in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canopy-config-'));
    dirs.push(dir);
    const file = join(dir, 'canopy.json');
    writeFileSync(file, JSON.stringify({ CANOPY_PROT: 1 }));
    expect(() => loadConfig({ CANOPY_CONFIG_FILE: file })).toThrow(/CANOPY_PROT: unknown key/);
  });
});
