// `rtsr search`: the best network for a latency budget on this device, end to end (see src/search/run.ts).
import { selectBackend } from '../backends/index.js';
import { resolveDataDir } from '../data/datadir.js';
import { BENCHMARK_SETS, listSets } from '../data/datasets.js';
import { useBackend } from '../engine/tensor.js';
import { checkSetup, profileSetup, readProfile } from '../latency/profile-file.js';
import { budgetLines } from '../search/report.js';
import { search } from '../search/run.js';
import { resolveTarget, TARGET_OPTION } from './target-option.js';
import { CliError, intOption, msOption, parseCli } from './args.js';
import { parseSize } from './info.js';

const USAGE = `usage: rtsr search --scale 2|3|4 --budget-ms MS [--input 640x360] [--target native|wasm|…] [--device-profile FILE] [--backend native|reference] [--data DIR]
                   [--out DIR] [--quick] [--no-width-gradient] [--gate-worth straight-through|taylor] [--seed 0]
                   [--baseline MODEL …]`;
const WORTH = ['straight-through', 'taylor'] as const;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    scale: { type: 'string', default: '2' },
    'budget-ms': { type: 'string' },
    input: { type: 'string' },
    backend: { type: 'string' },
    ...TARGET_OPTION,
    'device-profile': { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    baseline: { type: 'string', multiple: true, default: [] },
    'no-width-gradient': { type: 'boolean', default: false },
    'gate-worth': { type: 'string', default: 'straight-through' },
    seed: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) return void process.stdout.write(USAGE + '\n');
  // Every argument is checked here, before profiling or training can take minutes.
  if (values['budget-ms'] === undefined) throw new CliError(`search needs --budget-ms\n${USAGE}`);
  const budgetMs = msOption('budget-ms', values['budget-ms'] as string);
  const gateWorth = WORTH.find((w) => w === values['gate-worth']);
  if (!gateWorth) throw new CliError(`--gate-worth must be ${WORTH.join(' or ')}, not '${values['gate-worth']}'\n${USAGE}`);
  const scale = intOption('scale', values.scale as string, 2, 2, 4);
  const seed = intOption('seed', values.seed as string | undefined, 0, 0);
  const input = values.input ? parseSize(values.input as string, 'input') : { w: Math.round(1280 / scale), h: Math.round(720 / scale) };
  useBackend(await selectBackend(values.backend as string | undefined));
  const target = await resolveTarget(values.target as string | undefined);
  const dataDir = resolveDataDir(values.data as string | undefined);
  const present = await listSets(dataDir);
  const trainSets = ['T91', 'BSD200'].filter((s) => present.includes(s));
  const evalSets = BENCHMARK_SETS.filter((s) => present.includes(s));
  if (trainSets.length === 0 || evalSets.length === 0) throw new CliError(`${dataDir} needs T91 or BSD200 to train and Set5 to evaluate (sets there: ${present.join(', ') || 'none'})`);
  const deviceProfile = values['device-profile'] as string | undefined;
  // Read and checked now, not after the data is loaded: a bad file fails in a second.
  if (deviceProfile) checkSetup(profileSetup(readProfile(deviceProfile)), { scale, input }, deviceProfile);
  const outDir = (values.out as string | undefined) ?? `runs/search-x${scale}-${budgetMs}ms${values.quick ? '-quick' : ''}`;
  const report = await search({
    scale, budgetMs, input, target, deviceProfile, dataDir, trainSets, evalSets, outDir,
    quick: values.quick as boolean,
    baselines: values.baseline as string[],
    widthGradient: !values['no-width-gradient'],
    gateWorth,
    seed,
    log: (line) => process.stderr.write(line + '\n'),
  });
  const set = evalSets[0];
  process.stdout.write(
    `searched ${JSON.stringify(report.architecture)}\n` +
      `predicted ${report.predicted_ms.toFixed(1)} ms, measured ${report.measured_ms.toFixed(1)} ms on ${report.measured_on} (budget ${budgetMs} ms); ` +
      `${set} ${report.metrics[set].psnr.toFixed(2)} dB; ${(report.search_seconds / 60).toFixed(1)} min\n${budgetLines(report).join('\n')}\nreport: ${outDir}/report.md\n`,
  );
}
