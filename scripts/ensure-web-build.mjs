#!/usr/bin/env node
// Before `npm start`: builds the web app when apps/web/dist is missing or older than its sources, so that
// `npm install && npm start` serves the browser app without another step. A failed build does not stop the
// server (the API works without it); the error is printed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = join(import.meta.dirname, '..', 'apps', 'web');
const built = join(web, 'dist', 'index.html');

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (!existsSync(join(web, 'package.json'))) process.exit(0);
const sources = Math.max(newest(join(web, 'src')), statSync(join(web, 'index.html')).mtimeMs);
if (existsSync(built) && statSync(built).mtimeMs >= sources) process.exit(0);
console.log('building the web app (apps/web) ...');
const r = spawnSync('npm', ['run', 'build', '-w', 'apps/web'], { stdio: 'inherit' });
if (r.status !== 0) console.error('the web app did not build; the API is served without it');
