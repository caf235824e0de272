import { defineConfig } from 'vite';

// The server serves dist/ same-origin under a strict CSP, so the build must not rely on inline scripts or styles:
// Vite emits the entry as an external module script and the CSS as a linked file.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
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
