// Every command documents itself from the table it parses with (src/cli/options.ts, command.ts): `--help` and
// `rtsr help` print its usage, each option with its default, and examples that parse; each documented option
// takes a value of its form and refuses a wrong one naming the flag; an unknown flag, command or subcommand is an
// error that names the nearest known one. The commands come from the CLI's own list, so a new one is covered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CliError, parseOptions } from '../src/cli/args.js';
import type { AnyCommand } from '../src/cli/command.js';
import { COMMANDS } from '../src/cli/commands.js';
import type { Option } from '../src/cli/options.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function rtsr(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20e3 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every command and subcommand, by its full name ("speed-model fit"). */
async function allCommands(): Promise<[string, AnyCommand][]> {
  const found: [string, AnyCommand][] = [];
  const walk = (name: string, c: AnyCommand) => {
    found.push([name, c]);
    for (const [sub, s] of Object.entries(c.subcommands ?? {})) walk(`${name} ${sub}`, s);
  };
  for (const [name, load] of Object.entries(COMMANDS)) walk(name, (await load()).command);
  return found;
}

const options = (c: AnyCommand) => Object.entries(c.options as Record<string, Option>);

/** A value of the option's form, as typed and as parsed; for a flag, none. */
function sample(o: Option): [string[], unknown] {
  switch (o.kind) {
    case 'flag':
      return [[], true];
    case 'int':
      return [[String(o.min)], o.min];
    case 'number':
      return [['2.5'], 2.5];
    case 'share':
      return [['0.25'], 0.25];
    case 'size':
      return [['16x9'], { w: 16, h: 9 }];
    case 'choice':
      return [[o.choices[o.choices.length - 1]], o.choices[o.choices.length - 1]];
    case 'text':
      return [['some text'], 'some text'];
  }
}

/** Values not of the option's form, or out of its range; none for free text and flags. */
function malformed(o: Option): string[] {
  switch (o.kind) {
    case 'int':
      return ['1.5', String(o.min - 1), ...(o.max === undefined ? [] : [String(o.max + 1)])];
    case 'number':
      return ['fast', '0', 'Infinity'];
    case 'share':
      return ['0', '1'];
    case 'size':
      return ['9by7', '0x9', '8193x1'];
    case 'choice':
      return ['nope'];
    default:
      return [];
  }
}

test('rtsr --help and rtsr help list every command with a one-line summary', () => {
  const r = rtsr('--help');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(rtsr('help').out, r.out);
  assert.deepEqual(rtsr().out, r.out);
  const listed = r.out.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(listed.map(([name]) => name), Object.keys(COMMANDS));
  for (const [name, summary] of listed) assert.ok(summary && summary.length <= 100, `${name}: ${summary}`);
});

test('every command answers --help, and rtsr help, with its usage, each option with its default, and examples', async () => {
  for (const [name, command] of await allCommands()) {
    const r = rtsr(...name.split(' '), '--help');
    assert.equal(r.code, 0, `${name}: ${r.err}`);
    assert.equal(r.err, '');
    assert.ok(r.out.startsWith(`usage: rtsr ${name} `), `${name}:\n${r.out}`);
    assert.ok(r.out.includes(`\n${command.summary}\n`), name);
    for (const [flag, o] of options(command)) {
      assert.ok(o.help.length > 0, `${name} --${flag} has no help`);
      const line = r.out.split('\n').findIndex((l) => l.startsWith(`  --${flag}`));
      assert.ok(line >= 0, `${name} --help does not list --${flag}`);
      // A long option name puts its help on the next line.
      const text = r.out.split('\n').slice(line, line + 2).join(' ');
      assert.ok(text.includes(o.help), `${name} --${flag}: ${text}`);
      if (o.kind !== 'flag' && o.default !== undefined) assert.ok(text.includes(`(default: ${o.default})`), `${name} --${flag}: ${text}`);
    }
    assert.match(r.out, /^ {2}-h, --help {2,}print this help$/m);
    assert.ok(command.examples.length > 0, `${name} has no example`);
    assert.match(r.out, /\nexamples?:\n(  rtsr .*\n)+$/);
    for (const example of command.examples) assert.ok(r.out.includes(`\n  ${example}\n`), `${name}: ${example}`);
    assert.equal(rtsr('help', ...name.split(' ')).out, r.out, `rtsr help ${name}`);
  }
});

test("every example is a command line that its command's options parse", async () => {
  const byName = new Map(await allCommands());
  for (const [name, command] of byName) {
    for (const example of command.examples) {
      // Words as a shell splits them here: on spaces, single quotes kept together.
      const words = (example.match(/'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^'(.*)'$/, '$1'));
      assert.equal(words.shift(), 'rtsr', example);
      let full = words.shift()!;
      while (byName.get(full)?.subcommands && Object.hasOwn(byName.get(full)!.subcommands!, words[0])) full += ` ${words.shift()}`;
      assert.ok(full === name || full.startsWith(`${name} `), `${name}'s example runs ${full}: ${example}`);
      const target = byName.get(full)!;
      assert.ok(target.run, `${example}: ${full} runs nothing`);
      const parsed = parseOptions(words, target.options, target.args !== undefined, full);
      assert.ok(parsed.positionals.length <= (target.args?.length ?? 0), `${example}: too many arguments`);
    }
  }
});

test('each documented option parses a value of its form, takes its default when absent, and refuses a malformed value naming itself', async () => {
  for (const [name, command] of await allCommands()) {
    const positional = command.args !== undefined;
    const none = parseOptions([], command.options, positional, name);
    assert.equal(none.given.size, 0);
    for (const [flag, o] of options(command)) {
      const [typed, value] = sample(o);
      const got = parseOptions([`--${flag}`, ...typed], command.options, positional, name);
      assert.deepEqual(got.values[flag], o.multiple ? [value] : value, `${name} --${flag} ${typed}`);
      assert.deepEqual([...got.given], [flag]);
      if (o.multiple) assert.deepEqual(parseOptions([`--${flag}`, ...typed, `--${flag}`, ...typed], command.options, positional, name).values[flag], [value, value]);
      const absent = o.kind === 'flag' ? false : o.multiple ? [] : o.default === undefined ? undefined : parseOptions([`--${flag}`, o.default], command.options, positional, name).values[flag];
      assert.deepEqual(none.values[flag], absent, `${name} --${flag} absent`);
      for (const bad of malformed(o))
        assert.throws(
          () => parseOptions([`--${flag}=${bad}`], command.options, positional, name),
          (e: Error) => e instanceof CliError && e.message.startsWith(`--${flag} `),
          `${name} --${flag}=${bad}`,
        );
    }
  }
});

test('an unknown flag, command or subcommand exits 2 naming the nearest known one', () => {
  const cases: [string[], RegExp][] = [
    [['bench', '--thread', '2'], /^rtsr: Unknown option '--thread' \(did you mean --threads\?\); 'rtsr bench --help' lists the options\n$/],
    [['upscale', 'a.png', 'b.png', '--overwrit'], /^rtsr: Unknown option '--overwrit' \(did you mean --overwrite\?\)/],
    [['zoo', '--jsno'], /^rtsr: Unknown option '--jsno' \(did you mean --json\?\)/],
    [['info', '--colour'], /^rtsr: Unknown option '--colour'; 'rtsr info --help' lists the options\n$/],
    [['upscal'], /^rtsr: unknown command 'upscal' \(did you mean upscale\?\); 'rtsr --help' lists the commands\n$/],
    [['speed-model', 'fitt'], /^rtsr: unknown subcommand 'speed-model fitt' \(did you mean fit\?\)\nusage: rtsr speed-model fit /],
    [['speed-model'], /^rtsr: speed-model needs a subcommand: fit, eval, predict, check\n/],
  ];
  for (const [args, message] of cases) {
    const r = rtsr(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
    assert.equal(r.out, '');
  }
});
