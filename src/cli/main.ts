#!/usr/bin/env node
// `rtsr <command> …`, `rtsr <command> --help`, `rtsr help [<command>]`, `rtsr --help`.
import { didYouMean } from '../util/nearest.js';
import { InputError } from '../util/errors.js';
import { CliError } from './args.js';
import { runCommand } from './command.js';
import { COMMANDS } from './commands.js';

/** The commands with their one-line summaries (loading every command module: a tenth of a second). */
async function overview(): Promise<string> {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(width)}  ${(await COMMANDS[n]()).command.summary}`));
  return `usage: rtsr <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'rtsr <command> --help' (or 'rtsr help <command>'): its options and an example\n`;
}

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const [name, args] = first === 'help' && rest.length > 0 ? [rest[0], [...rest.slice(1), '--help']] : [first, rest];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return void process.stdout.write(await overview());
  if (!Object.hasOwn(COMMANDS, name)) throw new CliError(`unknown command '${name}'${didYouMean(name, Object.keys(COMMANDS))}; 'rtsr --help' lists the commands`);
  await runCommand(name, (await COMMANDS[name]()).command, args);
}

// Exit 2: the arguments or the input files are at fault; exit 1: anything else failed while running.
main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof InputError) {
    process.stderr.write(`rtsr: ${err.message}\n`);
    process.exit(2);
  }
  // Errors already name the file, op or shapes at fault; the stack is for rtsr's developers.
  const debug = process.env.RTSR_DEBUG && err instanceof Error;
  process.stderr.write(`rtsr: ${debug ? err.stack : err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
