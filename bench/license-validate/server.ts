// The server side of the license-validate benchmark, run as its own process so that the load generator does
// not share its event loop: Canopy (real identity, real signing keys) on a fresh database named by
// CANOPY_DATABASE_URL with a verified user holding a seat, and a bare Fastify route returning a constant.
// Prints one JSON line {canopy, bare, token}, then serves until stdin closes. On stdin, `profile <file>` starts
// a V8 CPU profile and `stop` writes it to that file (BENCH_PROFILE in index.ts); `cpu` prints this process's
// CPU time so far (`process.cpuUsage()`, µs) as one JSON line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Fastify from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../apps/server/src/app.ts';
import { loadConfig } from '../../apps/server/src/config.ts';
import { identityService } from '../../apps/server/src/modules/identity/index.ts';
import { createPlatform } from '../../apps/server/src/platform/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-lic-'));
const config = loadConfig({
  CANOPY_DATA_DIR: dataDir,
  CANOPY_DATABASE_URL: process.env.CANOPY_DATABASE_URL ?? `sqlite:${join(dataDir, 'bench.sqlite')}`,
  CANOPY_LOG_LEVEL: 'silent',
  CANOPY_JOBS: 'false',
  CANOPY_HOST: '127.0.0.1',
  CANOPY_PORT: '0',
  CANOPY_RATE_LIMIT_PER_MINUTE: '100000000',
  CANOPY_BOOTSTRAP_ADMIN_EMAIL: 'ops@bench.test',
  CANOPY_BOOTSTRAP_ADMIN_PASSWORD: 'operator secret for the bench',
});
const platform = await createPlatform(config, { logger: pino({ level: 'silent' }) });
const app = await buildApp(config, { platform, webAppDir: null });

const post = async (url: string, payload: object, token?: string) => {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    payload,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json<Record<string, unknown>>();
};
const password = 'a long enough bench secret';
await post('/accounts', { email: 'user@bench.test', password, firstName: 'Bench', lastName: 'User' });
const mailer = identityService(platform).deps.mailer;
await mailer.flush();
const link = /[?&]token=([A-Za-z0-9_\-.%]+)/.exec(
  mailer.outbox.find((m) => m.to === 'user@bench.test')?.text ?? '',
);
await post('/accounts/verify', { token: decodeURIComponent(link?.[1] ?? '') });
const userToken = String((await post('/sessions', { email: 'user@bench.test', password })).token);
const opsToken = String(
  (await post('/sessions', { email: 'ops@bench.test', password: 'operator secret for the bench' })).token,
);
const me = await app.inject({
  method: 'GET',
  url: '/api/v1/me',
  headers: { authorization: `Bearer ${userToken}` },
});
const orgId = me.json<{ orgs: { id: string }[] }>().orgs[0]?.id ?? '';
const licence = await post('/admin/licenses', { orgId, products: ['desktop-windows'], seats: 10 }, opsToken);
await post(`/orgs/${orgId}/licenses/${String(licence.id)}/seats`, { email: 'user@bench.test' }, userToken);
const probe = await post(
  '/licenses/validate',
  { product: 'desktop-windows', fingerprint: 'bench-pc' },
  userToken,
);
if (probe.code !== 'VALID') throw new Error(`setup did not give a valid licence: ${JSON.stringify(probe)}`);

const canopy = await app.listen({ host: '127.0.0.1', port: 0 });
const bare = Fastify({ logger: false });
bare.post('/constant', async () => ({ valid: true, code: 'VALID' }));
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

console.log(JSON.stringify({ canopy, bare: bareUrl, token: userToken }));

const inspector = new Session();
let profileFile = '';
createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    if (line.startsWith('profile ')) {
      profileFile = line.slice('profile '.length);
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    } else if (line === 'cpu') {
      console.log(JSON.stringify(process.cpuUsage()));
    } else if (line === 'stop' && profileFile) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(profileFile, JSON.stringify(profile));
      inspector.disconnect();
    }
  })();
});
process.stdin.on('end', () => {
  void (async () => {
    await bare.close();
    await app.close();
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  })();
});
