/**
 * The `canopy` operator CLI: `canopy <command> [options]`, `canopy <command> --help`. Commands honour the same
 * environment variables as the server (API.md, "Operating"). Each command lives in cli/<name>.ts (`.js`
 * compiled).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from './config.ts';
import { moduleExtension } from './platform/module-form.ts';

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], env: NodeJS.ProcessEnv): Promise<number | void>;
}

async function loadCommands(): Promise<CliCommand[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'cli');
  const ext = moduleExtension(import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(ext) && !f.includes('.test.'));
  const commands: CliCommand[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as {
      command?: CliCommand;
      commands?: CliCommand[];
    };
    if (mod.command) commands.push(mod.command);
    if (mod.commands) commands.push(...mod.commands);
  }
  return commands.sort((a, b) => a.name.localeCompare(b.name));
}

function help(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: canopy <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `canopy <command> --help` for a command's options. Configuration comes from CANOPY_* environment",
    'variables (see README.md, "Configuration").',
  ].join('\n');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help(commands));
    return name ? 0 : 2;
  }
  // Two-word commands ("keys rotate") are found by their first word and get the rest.
  const command =
    commands.find((c) => c.name === name) ?? commands.find((c) => c.name === `${name} ${rest[0] ?? ''}`);
  if (!command) {
    console.error(`canopy: unknown command "${name}"\n\n${help(commands)}`);
    return 2;
  }
  const args = command.name.includes(' ') ? rest.slice(1) : rest;
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    return (await command.run(args, env)) ?? 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78; // EX_CONFIG
    }
    throw err;
  }
}
