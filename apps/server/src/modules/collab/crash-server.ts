/**
 * A real Canopy server process for the crash test (and the bench): the full app on the configured database,
 * with the test identity port (`authorization: Test <account>@<tenant>`), jobs on (compaction runs), and a
 * small compaction threshold. Prints `URL <url>` once listening; meant to be killed with SIGKILL.
 */
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { createPlatform } from '../../platform/index.ts';
import { testIdentity } from '../maps/index.ts';

const config = loadConfig({ ...process.env, CANOPY_LOG_LEVEL: process.env.CANOPY_LOG_LEVEL ?? 'warn' });
const platform = await createPlatform(config);
const app = await buildApp(config, {
  platform,
  maps: { identity: testIdentity },
  collab: {
    compactAfter: Number(process.env.CANOPY_TEST_COMPACT_AFTER ?? 50),
    limits: { updatesPerSecond: 1_000, updateBurst: 5_000, maxConnectionsPerAccount: 1_000 },
  },
});
await app.listen({ port: config.port, host: config.host });
if (config.runJobs) platform.jobs.start(200);
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
console.log(`URL http://${config.host}:${port}`);
// The bench profiles this process (node --cpu-prof): a profile is written only on an orderly exit.
if (process.env.CANOPY_EXIT_ON_SIGTERM) process.once('SIGTERM', () => process.exit(0));
