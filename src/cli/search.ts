// `rtsr search`: the best network for a latency budget on this device, end to end (see src/search/run.ts).
import { selectBackend } from '../backends/index.js';
import { resolveDataDir } from '../data/datadir.js';
import { BENCHMARK_SETS, listSets } from '../data/datasets.js';
import { useBackend } from '../engine/tensor.js';
import { checkSetup, profileSetup, readProfile } from '../latency/profile-file.js';
import { budgetLines } from '../search/report.js';
import { search } from '../search/run.js';
import { resolveTarget } from './target-option.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { defaultInput, OPTIONS, type Options } from './options.js';
import { RECIPE_OPTIONS, recipeOption, teacherOption } from './recipe-option.js';

const options = {
  scale: { ...OPTIONS.scale, min: 2, max: 4 },
  'budget-ms': { ...OPTIONS['budget-ms'], help: "the latency budget for one frame at --input, on this device (or --device-profile's)" },
  input: OPTIONS.input,
  target: OPTIONS.target,
  'device-profile': { kind: 'text', value: 'FILE', help: "search for the device of this profile (rtsr serve's profiling page) instead of this one" },
  backend: OPTIONS.backend,
  data: { ...OPTIONS.data, help: 'the data folder: T91 or BSD200 to train on, the benchmark sets there to evaluate on; default: $RTSR_DATA, else data/' },
  out: { ...OPTIONS.out, help: 'the run folder; default: runs/search-x<scale>-<budget>ms[-quick]' },
  quick: { kind: 'flag', help: 'a small, brief search on the bundled data: the pipeline end to end, not a model to use' },
  baseline: { ...OPTIONS.model, multiple: true, help: 'a hand-designed model measured and plotted beside the result' },
  'no-width-gradient': { kind: 'flag', help: "the seed's variant, for the ablation: no width gate gets a gradient from the latency term" },
  'gate-worth': { kind: 'choice', choices: ['straight-through', 'taylor'], default: 'straight-through', help: "what a channel is worth to its width gate's gradient: docs/search.md" },
  seed: OPTIONS.seed,
  ...RECIPE_OPTIONS,
} as const satisfies Options;

export const command = defineCommand({
  summary: 'the best network for a latency budget on this device, end to end',
  usage: ['--budget-ms MS [--scale 2|3|4] [--input WxH] [options]'],
  options,
  examples: ['rtsr search --quick --budget-ms 33', 'rtsr search --scale 4 --budget-ms 33 --data ../shared/datasets --out runs/x4-33ms'],
  run,
});

async function run({ values, usage }: Args<typeof options>): Promise<void> {
  // Every argument is checked here, before profiling or training can take minutes.
  if (values['budget-ms'] === undefined) throw new CliError(`search needs --budget-ms\n${usage}`);
  const { scale, seed, 'budget-ms': budgetMs, 'gate-worth': gateWorth } = values;
  const input = values.input ?? defaultInput(scale);
  const recipe = recipeOption(values);
  const teacher = teacherOption(values, recipe, scale);
  useBackend(await selectBackend(values.backend, { tune: true }));
  const target = await resolveTarget(values.target);
  const dataDir = resolveDataDir(values.data);
  const present = await listSets(dataDir);
  const trainSets = ['T91', 'BSD200'].filter((s) => present.includes(s));
  const evalSets = BENCHMARK_SETS.filter((s) => present.includes(s));
  if (trainSets.length === 0 || evalSets.length === 0) throw new CliError(`${dataDir} needs T91 or BSD200 to train and Set5 to evaluate (sets there: ${present.join(', ') || 'none'})`);
  const deviceProfile = values['device-profile'];
  // Read and checked now, not after the data is loaded: a bad file fails in a second.
  if (deviceProfile) checkSetup(profileSetup(readProfile(deviceProfile)), { scale, input }, deviceProfile);
  const outDir = values.out ?? `runs/search-x${scale}-${budgetMs}ms${values.quick ? '-quick' : ''}`;
  const report = await search({
    scale, budgetMs, input, target, deviceProfile, dataDir, trainSets, evalSets, outDir,
    quick: values.quick,
    baselines: values.baseline,
    widthGradient: !values['no-width-gradient'],
    gateWorth,
    seed,
    recipe,
    teacher: teacher?.model,
    teacherPath: teacher?.ref.path,
    log: (line) => process.stderr.write(line + '\n'),
  });
  const set = evalSets[0];
  process.stdout.write(
    `searched ${JSON.stringify(report.architecture)}\n` +
      `predicted ${report.predicted_ms.toFixed(1)} ms, measured ${report.measured_ms.toFixed(1)} ms on ${report.measured_on} (budget ${budgetMs} ms); ` +
      `${set} ${report.metrics[set].psnr.toFixed(2)} dB; ${(report.search_seconds / 60).toFixed(1)} min\n${budgetLines(report).join('\n')}\nreport: ${outDir}/report.md\n`,
  );
}
