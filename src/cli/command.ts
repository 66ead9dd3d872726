// A command as data: what it takes (its options, from the shared table of options.ts, and its arguments), how it
// is called, an example, and the function that runs it. One runner parses, answers `--help` and dispatches
// subcommands for every command alike.
import { didYouMean } from '../util/nearest.js';
import { CliError, parseOptions, type Parsed } from './args.js';
import { helpText, usageText } from './help.js';
import type { Options } from './options.js';

export interface Command<O extends Options = Options> {
  /** One line: what it does. */
  readonly summary: string;
  /** How it is called, each line after `rtsr <name> `. */
  readonly usage: readonly string[];
  /** Its positional arguments and what each is; without them it takes none. */
  readonly args?: readonly (readonly [string, string])[];
  readonly options: O;
  /** A paragraph after the options, for what no single option says. */
  readonly notes?: string;
  /** Whole command lines (`rtsr …`), each one that parses. */
  readonly examples: readonly string[];
  readonly subcommands?: Readonly<Record<string, AnyCommand>>;
  /** Absent for a command that only groups subcommands. */
  readonly run?: (args: Args<O>) => Promise<void>;
}

/** Any command: `any`, because each one's run takes the values of its own options. */
export type AnyCommand = Command<any>;

/** What `run` gets: the parsed command line, and the usage text for its own usage errors. */
export interface Args<O extends Options> extends Parsed<O> {
  readonly usage: string;
}

/** The identity, there to infer the options' literal types (so `values.threads` is a number). */
export function defineCommand<const O extends Options>(command: Command<O>): Command<O> {
  return command;
}

/** Runs `rtsr <name> …argv`; `name` includes the parent command's for a subcommand ("speed-model fit"). */
export async function runCommand(name: string, command: AnyCommand, argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const subs = command.subcommands ?? {};
  if (first !== undefined && Object.hasOwn(subs, first)) return runCommand(`${name} ${first}`, subs[first], rest);
  const usage = `${usageText(name, command)}\n'rtsr ${name} --help' lists the options`;
  if (!command.run && !argv.some((a) => a === '--help' || a === '-h')) {
    const known = Object.keys(subs);
    const why = first === undefined ? `${name} needs a subcommand: ${known.join(', ')}` : `unknown subcommand '${name} ${first}'${didYouMean(first, known)}`;
    throw new CliError(`${why}\n${usage}`);
  }
  const parsed = parseOptions(argv, command.options, command.args !== undefined, name);
  if (parsed.help || !command.run) return void process.stdout.write(helpText(name, command));
  await command.run({ ...parsed, usage });
}
