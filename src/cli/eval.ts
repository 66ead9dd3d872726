// `rtsr eval --model NAME --scale S [--sets A,B] [--data DIR] [--json]`: PSNR/SSIM per benchmark set under the
// published protocol. Progress goes to stderr so that `--json` leaves exactly one JSON object on stdout.
import { BENCHMARK_SETS, listSets } from '../data/datasets.js';
import { resolveDataDir } from '../data/datadir.js';
import { evaluate, type EvalResult } from '../eval/evaluate.js';
import { KNOWN_MODELS, resolveModel } from '../eval/models.js';
import type { Upscaler } from '../eval/upscaler.js';
import { saveModel } from '../models/model-io.js';
import { findModel } from '../models/zoo.js';
import { CliError, intOption, parseCli } from './args.js';
import { resolveTarget, TARGET_NAMES_HELP, TARGET_OPTION } from './target-option.js';

const USAGE = `usage: rtsr eval --model NAME|FILE [--scale 2|3|4] [--sets ${BENCHMARK_SETS.join(',')}] [--data DIR] [--json]

  --model NAME   a built-in (${KNOWN_MODELS.join(', ')}), a zoo name (see rtsr zoo) or a model file
  --scale S      upscaling factor (required for built-ins; a trained model has its own)
  --target T     where a trained model runs: ${TARGET_NAMES_HELP} (default: native where a C compiler exists)
  --save-metrics store the measured PSNR/SSIM in the model file (trained models only)
  --sets LIST    comma-separated set names (default: those of ${BENCHMARK_SETS.join(', ')} in the data folder)
  --data DIR     data folder holding <Set>/HR/* (default: $RTSR_DATA, else the bundled data/)
  --json         print one JSON object {model, scale, sets: {<set>: {psnr, ssim, images}}} instead of a table
`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    model: { type: 'string' },
    scale: { type: 'string' },
    sets: { type: 'string' },
    data: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...TARGET_OPTION,
    'save-metrics': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.model === undefined) throw new CliError(`--model is required\n\n${USAGE}`);
  const scale = values.scale === undefined ? undefined : intOption('scale', values.scale, 0);
  // Before the evaluation, not after minutes of it.
  if (values['save-metrics'] && KNOWN_MODELS.includes(values.model)) throw new CliError('--save-metrics needs a trained model file, not a built-in');

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
    model = await resolveModel(values.model, scale, target);
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
