// `rtsr <command> --help`, written from the command's definition: how it is called, its arguments, every
// option with its value's form and default, its subcommands, and an example.
import { HELP_OPTION } from './args.js';
import type { AnyCommand } from './command.js';
import type { Option } from './options.js';

/** "usage: rtsr <name> …", a line for each way to call it, its subcommands' included. */
export function usageText(name: string, command: AnyCommand): string {
  const lines = [
    ...command.usage.map((u) => `rtsr ${name} ${u}`),
    ...Object.entries(command.subcommands ?? {}).flatMap(([sub, c]) => c.usage.map((u) => `rtsr ${name} ${sub} ${u}`)),
  ];
  return lines.map((l, i) => `${i === 0 ? 'usage: ' : '       '}${l}`).join('\n');
}

/** The whole help text. */
export function helpText(name: string, command: AnyCommand): string {
  const options = Object.entries<Option>({ ...command.options, help: HELP_OPTION }).map(([flag, o]) => [optionLabel(flag, o), optionHelp(o)] as const);
  const subs = Object.entries(command.subcommands ?? {}).map(([sub, c]) => [`${sub}`, `${c.summary} ('rtsr ${name} ${sub} --help')`] as const);
  const parts = [
    usageText(name, command),
    command.summary,
    ...(command.args ? [`arguments:\n${columns(command.args)}`] : []),
    `options:\n${columns(options)}`,
    ...(subs.length ? [`subcommands:\n${columns(subs)}`] : []),
    ...(command.notes ? [command.notes] : []),
    ...(command.examples.length ? [`example${command.examples.length > 1 ? 's' : ''}:\n${command.examples.map((e) => `  ${e}`).join('\n')}`] : []),
  ];
  return parts.join('\n\n') + '\n';
}

function optionLabel(flag: string, o: Option): string {
  const value = o.kind === 'flag' ? '' : o.kind === 'choice' ? ` ${o.choices.join('|')}` : ` ${o.value}`;
  return `${flag === 'help' ? '-h, ' : ''}--${flag}${value}`;
}

function optionHelp(o: Option): string {
  const dflt = o.kind !== 'flag' && o.default !== undefined ? ` (default: ${o.default})` : '';
  return `${o.help}${o.multiple ? '; may be given more than once' : ''}${dflt}`;
}

/** Two columns; a label too long for the first gets its text on the next line. */
function columns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.min(26, Math.max(...rows.map(([label]) => label.length)));
  return rows.map(([label, text]) => (label.length > width ? `  ${label}\n  ${' '.repeat(width)}  ${text}` : `  ${label.padEnd(width)}  ${text}`)).join('\n');
}
