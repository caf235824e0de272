#!/usr/bin/env node
// The `canopy` command. The server runs from its TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
try {
  const code = await main(process.argv.slice(2), process.env);
  if (code) process.exitCode = code;
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
