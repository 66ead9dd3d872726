// `rtsr profile`: measures block, head, tail and whole-model latencies on this device into a profile file for
// `rtsr speed-model fit`. Resumes: run the same command again after an interruption.
import { defaultProfilePath, type ProfileSetup } from '../latency/profile-file.js';
import { runProfile } from '../latency/profiler.js';
import { createRunner } from '../latency/runner.js';
import { CliError, intOption, parseCli } from './args.js';
import { parseSize } from './info.js';
import { resolveTarget, TARGET_NAMES_HELP } from './target-option.js';

const USAGE = `usage: rtsr profile [--target ${TARGET_NAMES_HELP}] [--scale 2|3|4] [--input WxH] [--samples 400] [--out FILE]
                    [--repeats 15] [--warmup 1] [--batch 24] [--seed 1]`;

/** The flags that name a profile's setup; `speed-model` takes them too, to find and check its files. */
export const SETUP_OPTIONS = { target: { type: 'string' }, scale: { type: 'string' }, input: { type: 'string' } } as const;

/** The setup flags as given (for checking files against) and with defaults filled in (for default paths). */
export function parseSetup(v: Record<string, string | boolean | undefined>): { given: Partial<ProfileSetup>; full: ProfileSetup } {
  const scale = intOption('scale', v.scale as string | undefined, 2, 2);
  if (scale > 4) throw new CliError(`--scale must be 2, 3 or 4, got ${scale}`);
  // By default the LR size whose output is 1280×720 ("720p" in SR papers means the output).
  const input = v.input ? parseSize(v.input as string, 'input') : { w: Math.round(1280 / scale), h: Math.round(720 / scale) };
  const target = (v.target as string | undefined) ?? 'native';
  const given = { ...(v.target ? { target } : {}), ...(v.scale ? { scale } : {}), ...(v.input ? { input } : {}) };
  return { given, full: { target, scale, input } };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    ...SETUP_OPTIONS,
    samples: { type: 'string' },
    out: { type: 'string' },
    repeats: { type: 'string' },
    warmup: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const { full } = parseSetup(values);
  const { scale, input } = full;
  const target = await resolveTarget(full.target);
  const out = (values.out as string | undefined) ?? defaultProfilePath(full);
  const runner = await createRunner({ target, scale, h: input.h, w: input.w });
  const t0 = performance.now();
  const p = await runProfile(runner, {
    out,
    scale,
    input,
    samples: intOption('samples', values.samples as string | undefined, 400),
    seed: intOption('seed', values.seed as string | undefined, 1, 0),
    warmup: intOption('warmup', values.warmup as string | undefined, 1, 0),
    repeats: intOption('repeats', values.repeats as string | undefined, 15),
    batch: intOption('batch', values.batch as string | undefined, 24),
    log: (line) => process.stderr.write(line + '\n'),
  });
  const { runner: r, compiler, threads, cpu } = p.device;
  process.stdout.write(
    `${out}: ${p.measurements.length} parts (${r}, ${compiler}, ${threads} threads, ${cpu}); ${((performance.now() - t0) / 60e3).toFixed(1)} min this run\n`,
  );
}
