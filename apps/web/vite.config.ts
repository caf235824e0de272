import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vite';

// Loro (the co-editing model's CRDT, through packages/model) ships several builds. Its "browser" build loads its
// WebAssembly from a sibling file (`new URL(..., import.meta.url)`), which Vite turns into a hashed asset: that is
// what production uses. In development the package's export map would pick its "bundler" build, which imports the
// .wasm file as an ES module (the WebAssembly ESM integration), which Vite does not support; so the browser build
// is named here for both, and kept out of dependency pre-bundling, which would cut the link to the sibling file.
// Resolved from packages/model, the one package that depends on Loro (wherever npm placed it).
const loroPackage = createRequire(new URL('../../packages/model/package.json', import.meta.url)).resolve(
  'loro-crdt/package.json',
);
const loroBrowserBuild = join(dirname(loroPackage), 'browser', 'index.js');

// The server serves dist/ same-origin under a strict CSP, so the build must not rely on inline scripts or styles:
// Vite emits the entry as an external module script and the CSS as a linked file.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  resolve: { alias: { 'loro-crdt': loroBrowserBuild } },
  optimizeDeps: { exclude: ['loro-crdt'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The polyfill would be bundled into the entry chunk; modern browsers do not need it.
    modulePreload: { polyfill: false },
  },
  server: { host: '127.0.0.1' },
});
