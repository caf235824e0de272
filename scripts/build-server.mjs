#!/usr/bin/env node
// Compiles the server (apps/server) and the packages it runs (model, formats, sdk) to plain JavaScript, so that
// `npm start` runs no compiler: no tsx loader thread, no esbuild process, ~38 MB less resident memory
// (docs/operations.md). TypeScript's own compiler does it file by file (`--noCheck`: `npm run typecheck` is
// where types are checked), rewriting the `.ts` of relative imports to `.js`; nothing is bundled, so the
// output has the sources' layout and every file the code finds at run time is where it expects it.
//
//   node scripts/build-server.mjs [--out DIR] [--if-stale]
//
// DIR (default dist/server) gets apps/server and packages/* (compiled modules with source maps, the other files
// the sources hold, each package.json with its exports pointed at the compiled modules), apps/server/bin/
// canopy.mjs (the `canopy` command), node_modules (links to this checkout's dependencies; the workspaces' own
// names to the compiled packages) and a link to the web app's build (apps/web/dist). `--if-stale` does nothing
// when DIR was built from the sources as they are now (their names, sizes and modification times, and the
// package files' contents). A build is made beside DIR and swapped in whole: a failed one leaves the last good
// one in place.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const WORKSPACES = ['apps/server', 'packages/model', 'packages/formats', 'packages/sdk'];
const STAMP = '.built-from';

const { values } = parseArgs({
  options: { out: { type: 'string' }, 'if-stale': { type: 'boolean', default: false } },
});
const out = resolve(values.out ?? join(root, 'dist', 'server'));

/** Every file under `dir` (relative to the checkout), skipping node_modules. */
function files(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...files(p));
    else found.push(relative(root, p));
  }
  return found;
}

const sources = WORKSPACES.flatMap((w) => files(join(root, w, 'src'))).sort();
const isTest = (f) => /\.test\.ts$/.test(f);

/**
 * What the build depends on: the sources' names, sizes and times; the contents of the package files (the lock
 * names the dependencies linked; `npm prune` rewrites it unchanged), the compiler's settings and this script.
 */
function stamp() {
  const hash = createHash('sha256');
  for (const f of sources) {
    const s = statSync(join(root, f));
    hash.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  const settings = [
    ...WORKSPACES.map((w) => join(w, 'package.json')),
    'package-lock.json',
    'tsconfig.base.json',
    relative(root, import.meta.filename),
  ];
  for (const f of settings)
    hash
      .update(`${f}\0`)
      .update(readFileSync(join(root, f)))
      .update('\n');
  return hash.digest('hex');
}

const wanted = stamp();
const current = () => existsSync(join(out, STAMP)) && readFileSync(join(out, STAMP), 'utf8') === wanted;
if (values['if-stale'] && current()) process.exit(0);

// One build of DIR at a time (test processes may ask at once): a lock folder holding its builder's pid, taken
// over when that process is gone (or, without a pid, after 10 s). Whoever waited finds the build done.
const lock = `${out}.lock`;
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
mkdirSync(dirname(out), { recursive: true });
for (;;) {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    break;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    let holder = 0;
    try {
      holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // being taken right now
    }
    const orphaned = holder ? !alive(holder) : Date.now() - mtimeOf(lock) > 10_000;
    if (orphaned) rmSync(lock, { recursive: true, force: true });
    else pause(200);
  }
}
process.on('exit', () => rmSync(lock, { recursive: true, force: true }));
if (values['if-stale'] && current()) process.exit(0);
// What a builder killed halfway left beside DIR (no other builder runs now).
for (const entry of readdirSync(dirname(out)))
  if (/^\.?(building|old)-\d+$/.test(entry.slice(basename(out).length)) && entry.startsWith(basename(out)))
    rmSync(join(dirname(out), entry), { recursive: true, force: true });

function mtimeOf(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const started = Date.now();
console.log(`compiling the server to ${relative(process.cwd(), out) || '.'} ...`);
const next = `${out}.building-${process.pid}`;
rmSync(next, { recursive: true, force: true });
mkdirSync(next, { recursive: true });

try {
  // 1. The modules, by TypeScript's compiler, from a configuration made for this build.
  const config = join(next, 'tsconfig.build.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(root, 'tsconfig.base.json'),
      compilerOptions: {
        noEmit: false,
        noCheck: true,
        rewriteRelativeImportExtensions: true,
        rootDir: root,
        outDir: next,
        sourceMap: true,
        types: [],
      },
      files: sources.filter((f) => f.endsWith('.ts') && !isTest(f)).map((f) => join(root, f)),
    }),
  );
  const compiler = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(compiler))
    throw new Error(
      'TypeScript is not installed (a devDependency): compile with `npm run build` before `npm prune --omit=dev`',
    );
  const tsc = spawnSync(process.execPath, [compiler, '-p', config], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0)
    throw new Error(`tsc failed (${tsc.status ?? tsc.signal}):\n${tsc.stdout}${tsc.stderr}`);
  rmSync(config);

  // 2. The other files the sources hold (data, a thread's plain-JavaScript entry); not docs or test data.
  for (const f of sources) {
    if (f.endsWith('.ts') || f.endsWith('.md') || f.includes('/testdata/')) continue;
    mkdirSync(dirname(join(next, f)), { recursive: true });
    copyFileSync(join(root, f), join(next, f));
  }

  // 3. Package files whose exports (and bin) name the compiled modules.
  const toJs = (v) =>
    typeof v === 'string'
      ? v.replace(/\.ts$/, '.js')
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJs(x)]))
        : v;
  for (const w of WORKSPACES) {
    const pkg = JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8'));
    if (pkg.exports) pkg.exports = toJs(pkg.exports);
    delete pkg.devDependencies;
    writeFileSync(join(next, w, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  }
  writeFileSync(
    join(next, 'package.json'),
    `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`,
  );
  mkdirSync(join(next, 'apps', 'server', 'bin'), { recursive: true });
  writeFileSync(
    join(next, 'apps', 'server', 'bin', 'canopy.mjs'),
    [
      '#!/usr/bin/env node',
      '// The `canopy` command, compiled (scripts/build-server.mjs).',
      "const { main } = await import('../src/cli.js');",
      'try {',
      '  const code = await main(process.argv.slice(2), process.env);',
      '  if (code) process.exitCode = code;',
      '} catch (err) {',
      '  console.error(err);',
      '  process.exitCode = 1;',
      '}',
      '',
    ].join('\n'),
  );

  // 4. Dependencies: links to this checkout's, the workspaces' names to the compiled packages.
  const modules = join(next, 'node_modules');
  mkdirSync(join(modules, '@canopy'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry === '@canopy' || entry.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  for (const w of WORKSPACES) {
    const { name } = JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8'));
    symlinkSync(relative(join(modules, '@canopy'), join(next, w)), join(modules, name));
    if (existsSync(join(root, w, 'node_modules')))
      symlinkSync(join(root, w, 'node_modules'), join(next, w, 'node_modules'));
  }
  mkdirSync(join(next, 'apps', 'web'), { recursive: true });
  symlinkSync(join(root, 'apps', 'web', 'dist'), join(next, 'apps', 'web', 'dist'));

  writeFileSync(join(next, STAMP), wanted);
} catch (err) {
  rmSync(next, { recursive: true, force: true });
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

// 5. Swap it in whole.
const old = `${out}.old-${process.pid}`;
if (existsSync(out)) renameSync(out, old);
renameSync(next, out);
rmSync(old, { recursive: true, force: true });
console.log(`compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
