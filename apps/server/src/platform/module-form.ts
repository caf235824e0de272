/**
 * The server runs in two forms: from its TypeScript sources through tsx's loader (tests, `npx canopy`), and
 * compiled to plain JavaScript by `scripts/build-server.mjs` (what `npm start` runs: no compiler, no loader
 * thread, no esbuild process at run time). The compiler rewrites the extensions of imports, not those of file
 * names the code builds; what loads modules by name at run time (migrations, the CLI's commands, a worker's
 * entry) asks here.
 */

/** The extension of the module at `moduleUrl` (`import.meta.url`): `.ts` from the sources, `.js` compiled. */
export function moduleExtension(moduleUrl: string): '.ts' | '.js' {
  return new URL(moduleUrl).pathname.endsWith('.ts') ? '.ts' : '.js';
}

/** The module `name` (no extension) beside `moduleUrl`, in the same form. */
export function siblingModule(name: string, moduleUrl: string): URL {
  return new URL(`./${name}${moduleExtension(moduleUrl)}`, moduleUrl);
}
