// `rtsr eval --model NAME --scale S [--sets A,B] [--data DIR] [--json]`: PSNR/SSIM per benchmark set under the
// published protocol. Progress goes to stderr so that `--json` leaves exactly one JSON object on stdout.
import { BENCHMARK_SETS, listSets } from '../data/datasets.js';
import { resolveDataDir } from '../data/datadir.js';
import { evaluate, type EvalResult } from '../eval/evaluate.js';
import { KNOWN_MODELS, resolveModel } from '../eval/models.js';
import { selfEnsemble, type Upscaler } from '../eval/upscaler.js';
import { saveModel } from '../models/model-io.js';
import { findModel } from '../models/zoo.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';
import { resolveTarget } from './target-option.js';

const options = {
  model: { ...OPTIONS.model, help: `a built-in (${KNOWN_MODELS.join(', ')}), a zoo model (see rtsr zoo) or a model file` },
  scale: { ...OPTIONS.scale, default: undefined, help: 'the upscaling factor: needed for a built-in; a trained model has its own' },
  sets: { kind: 'text', value: 'LIST', help: `comma-separated set names; default: those of ${BENCHMARK_SETS.join(', ')} in the data folder` },
  data: OPTIONS.data,
  target: { ...OPTIONS.target, help: 'where a trained model runs; default: native where a C compiler exists, else wasm' },
  'save-metrics': { kind: 'flag', help: 'store the measured PSNR/SSIM in the model file (trained models only)' },
  'self-ensemble': { kind: 'flag', help: "score the model's self-ensemble: the mean of its SR of the 8 flips and rotations of each image (8 times the work)" },
  json: { ...OPTIONS.json, help: 'print one JSON object {model, scale, sets: {<set>: {psnr, ssim, images}}} instead of a table' },
} as const satisfies Options;

export const command = defineCommand({
  summary: 'Y-PSNR/SSIM on the benchmark sets by the published protocol',
  usage: ['--model NAME|FILE [options]'],
  options,
  examples: ['rtsr eval --model wdsr-b-x2 --sets Set5,Set14', 'rtsr eval --model bicubic --scale 4 --data ../shared/datasets --json'],
  run,
});

async function run({ values, usage }: Args<typeof options>): Promise<void> {
  if (values.model === undefined) throw new CliError(`--model is required\n${usage}`);
  // Before the evaluation, not after minutes of it.
  if (values['save-metrics'] && KNOWN_MODELS.includes(values.model)) throw new CliError('--save-metrics needs a trained model file, not a built-in');
  if (values['save-metrics'] && values['self-ensemble']) throw new CliError("--save-metrics stores the model's own figures, not its self-ensemble's");

  let dataDir: string;
  try {
    dataDir = resolveDataDir(values.data);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const present = await listSets(dataDir);
  const sets = values.sets === undefined ? BENCHMARK_SETS.filter((s) => present.includes(s)) : values.sets.split(',').map((s) => s.trim());
  const unknown = sets.filter((s) => !present.includes(s));
  if (unknown.length > 0 || sets.length === 0) {
    const what = unknown.length > 0 ? `unknown set${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `'${s}'`).join(', ')}` : 'no sets to evaluate';
    throw new CliError(`${what} in ${dataDir}; sets there: ${present.length ? present.join(', ') : '(none)'}`);
  }

  const target = await resolveTarget(values.target);
  let model: Upscaler;
  try {
    model = await resolveModel(values.model, values.scale, target);
    if (values['self-ensemble']) model = selfEnsemble(model);
  } catch (err) {
    throw new CliError((err as Error).message);
  }

  const started = Date.now();
  const result = await evaluate(model, dataDir, sets, (r) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${r.set} ${r.index}/${r.total} ${r.name}\x1b[K`);
    if (r.index === r.total) {
      process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${r.set}: ${r.total} images done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    }
  });
  if (values['save-metrics']) {
    const { path, model: m, info } = findModel(values.model);
    saveModel(path, m, { ...info, metrics: { ...info.metrics, ...result.sets } });
    process.stderr.write(`metrics saved in ${path}\n`);
  }
  process.stdout.write(values.json ? JSON.stringify(result) + '\n' : formatTable(result, dataDir));
}

function formatTable(r: EvalResult, dataDir: string): string {
  const rows = Object.entries(r.sets).map(
    ([set, s]) => `${set.padEnd(10)}${String(s.images).padStart(7)}${s.psnr.toFixed(2).padStart(11)}${s.ssim.toFixed(4).padStart(9)}`,
  );
  return [`${r.model} x${r.scale}, data ${dataDir}`, `${'set'.padEnd(10)}${'images'.padStart(7)}${'PSNR (dB)'.padStart(11)}${'SSIM'.padStart(9)}`, ...rows, ''].join('\n');
}
