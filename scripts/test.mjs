#!/usr/bin/env node
// `npm test`: runs every suite. Suites that need an external service run once per enabled backend;
// without the variables below only the embedded ones (SQLite, local files, in-process) run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const backends = [
  ['CANOPY_TEST_DIALECTS', 'sqlite', 'sqlite,postgres,mysql', 'SQL dialects (postgres, mysql)'],
  ['CANOPY_TEST_REDIS_URL', '', 'redis://127.0.0.1:6379', 'Redis (rate limits, pub/sub)'],
  ['CANOPY_TEST_S3', '', '1', 'S3 blob store (local S3-protocol server)'],
  ['CANOPY_TEST_SMTP', '', '1', 'SMTP mail (local smtp-server)'],
];
console.log('Backends for this run:');
for (const [name, dflt, example, what] of backends) {
  const value = process.env[name] ?? dflt;
  const on = value !== '' && !(name === 'CANOPY_TEST_DIALECTS' && value === 'sqlite');
  console.log(
    `  ${on ? 'on     ' : 'skipped'} ${what}${on ? ` (${name}=${value})` : ` — enable with ${name}=${example}`}`,
  );
}

const outDir = mkdtempSync(join(tmpdir(), 'canopy-test-'));
const report = join(outDir, 'report.json');
const result = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: process.env },
);
let summary = '';
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`;
} catch {
  summary = '';
}
rmSync(outDir, { recursive: true, force: true });
if (summary) console.log(`\nTests: ${summary}`);
process.exit(result.status ?? 1);
