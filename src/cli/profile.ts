// `rtsr profile`: measures block, head, tail and whole-model latencies on this device into a profile file for
// `rtsr speed-model fit`. Resumes: run the same command again after an interruption.
import { defaultProfilePath, type ProfileSetup } from '../latency/profile-file.js';
import { runProfile } from '../latency/profiler.js';
import { createRunner } from '../latency/runner.js';
import { type Args, defineCommand } from './command.js';
import { defaultInput, OPTIONS, type Options, type Size } from './options.js';
import { resolveTarget } from './target-option.js';

/** The options that name a profile's setup; `speed-model` takes them too, to find and check its files. */
export const SETUP_OPTIONS = {
  target: { ...OPTIONS.target, default: 'native', help: 'the target measured' },
  scale: { ...OPTIONS.scale, min: 2, max: 4 },
  input: OPTIONS.input,
} as const satisfies Options;

type Setup = { target: string; scale: number; input: Size | undefined };

/** The setup as given (for checking files against) and with defaults filled in (for default paths). */
export function parseSetup(v: Setup, given: ReadonlySet<string>): { given: Partial<ProfileSetup>; full: ProfileSetup } {
  const { target, scale } = v;
  const input = v.input ?? defaultInput(scale);
  const said = { ...(given.has('target') ? { target } : {}), ...(given.has('scale') ? { scale } : {}), ...(given.has('input') ? { input } : {}) };
  return { given: said, full: { target, scale, input } };
}

const options = {
  ...SETUP_OPTIONS,
  samples: { kind: 'int', value: 'N', min: 1, default: '400', help: 'random blocks measured' },
  out: { ...OPTIONS.out, value: 'FILE', help: 'the profile file; default: profiles/<target>-x<scale>-<WxH>.json' },
  repeats: { ...OPTIONS.repeats, default: '15' },
  warmup: { ...OPTIONS.warmup, default: '1' },
  batch: { kind: 'int', value: 'N', min: 1, default: '24', help: 'parts timed in one interleaved round' },
  seed: { ...OPTIONS.seed, default: '1', help: "the seed of the sampled blocks" },
} as const satisfies Options;

export const command = defineCommand({
  summary: 'measure block latencies on this device through the compiler, for the speed model',
  usage: ['[options]'],
  options,
  examples: ['rtsr profile --target wasm --scale 2 --input 640x360 --samples 200'],
  run,
});

async function run({ values, given }: Args<typeof options>): Promise<void> {
  const { full } = parseSetup(values, given);
  const { scale, input } = full;
  const target = await resolveTarget(full.target);
  const out = values.out ?? defaultProfilePath(full);
  const runner = await createRunner({ target, scale, h: input.h, w: input.w });
  const t0 = performance.now();
  const p = await runProfile(runner, {
    out,
    scale,
    input,
    samples: values.samples,
    seed: values.seed,
    warmup: values.warmup,
    repeats: values.repeats,
    batch: values.batch,
    log: (line) => process.stderr.write(line + '\n'),
  });
  const { runner: r, compiler, threads, cpu } = p.device;
  process.stdout.write(
    `${out}: ${p.measurements.length} parts (${r}, ${compiler}, ${threads} threads, ${cpu}); ${((performance.now() - t0) / 60e3).toFixed(1)} min this run\n`,
  );
}
