// `rtsr speed-model fit|eval|predict`: fit the latency predictor to a profile, show its accuracy on held-out
// blocks against a FLOPs baseline, and predict a whole network's latency.
import { existsSync } from 'node:fs';
import { evaluate, evaluationSvg } from '../latency/evaluate.js';
import { DEFAULT_FIT, fitSpeedModel } from '../latency/fit.js';
import { checkSetup, defaultProfilePath, profileSetup, readProfile } from '../latency/profile-file.js';
import { modelPathFor, SpeedModel } from '../latency/speed-model.js';
import { findModel } from '../models/zoo.js';
import type { ArchSpec } from '../models/registry.js';
import { parseArchArg } from './arch-arg.js';
import { checkWholeModels } from '../latency/check.js';
import { createRunner } from '../latency/runner.js';
import { randomArchitectures } from '../latency/sampling.js';
import { writeFileAtomic } from '../util/atomic.js';
import { CliError, intOption, parseCli } from './args.js';
import { parseSetup, SETUP_OPTIONS } from './profile.js';
import { resolveTarget } from './target-option.js';

const USAGE = `usage: rtsr speed-model fit [--profile FILE] [--out MODEL] [--holdout 0.2] [--seed 1] [--steps 2000]
       rtsr speed-model eval [--model MODEL] [--profile FILE] [--svg OUT.svg] [--json]
       rtsr speed-model predict --arch PRESET|JSON|FILE|MODEL [--model MODEL] [--json]
       rtsr speed-model check [--model MODEL] [--models 20] [--rounds 15] [--seed 7] [--json]  (compiles and times
         random whole networks of the search space here, against the model's predictions)
   every subcommand: [--target native|wasm|…] [--scale 2] [--input WxH] pick the default files
   (profiles/<target>-x<scale>-<WxH>.json and .model.json) and are checked against the files given`;

type Values = Record<string, string | boolean | undefined>;

function loadModel(v: Values): { model: SpeedModel; path: string } {
  const { given, full } = parseSetup(v);
  const path = (v.model as string | undefined) ?? modelPathFor(defaultProfilePath(full));
  if (!existsSync(path))
    throw new CliError(`no speed model at ${path}: run 'rtsr profile' and 'rtsr speed-model fit' for this setup, or pass --model`);
  const model = SpeedModel.load(path);
  checkSetup(model.data.setup, given, path);
  return { model, path };
}

async function fit(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, { ...SETUP_OPTIONS, profile: { type: 'string' }, out: { type: 'string' }, holdout: { type: 'string' }, seed: { type: 'string' }, steps: { type: 'string' } });
  const { given, full } = parseSetup(values);
  const profilePath = (values.profile as string | undefined) ?? defaultProfilePath(full);
  const profile = readProfile(profilePath);
  checkSetup(profileSetup(profile), given, profilePath);
  const holdout = values.holdout === undefined ? DEFAULT_FIT.holdout : Number(values.holdout);
  if (!(holdout > 0 && holdout < 1)) throw new CliError(`--holdout must be a share in (0, 1), got '${values.holdout}'`);
  const model = fitSpeedModel(profile, profilePath, {
    holdout,
    seed: intOption('seed', values.seed as string | undefined, DEFAULT_FIT.seed, 0),
    steps: intOption('steps', values.steps as string | undefined, DEFAULT_FIT.steps),
  });
  const out = (values.out as string | undefined) ?? modelPathFor(profilePath);
  model.save(out);
  const d = model.data;
  const val = Object.entries(d.alignValidation).map(([a, m]) => `${a}: ${(100 * m).toFixed(1)} %`).join(', ');
  process.stdout.write(`${out}: alignment ${d.align} (validation MAPE ${val}); whole network ≈ ${d.networkFactor.toFixed(3)} × parts ${d.blockOffsetMs < 0 ? '−' : '+'} ${Math.abs(d.blockOffsetMs).toFixed(3)} ms per block\n`);
}

async function evalCmd(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, { ...SETUP_OPTIONS, model: { type: 'string' }, profile: { type: 'string' }, svg: { type: 'string' }, json: { type: 'boolean', default: false } });
  const { model, path } = loadModel(values);
  const profilePath = (values.profile as string | undefined) ?? model.data.profile;
  const profile = readProfile(profilePath);
  checkSetup(profileSetup(profile), model.data.setup, profilePath);
  const r = evaluate(model, profile);
  const svg = (values.svg as string | undefined) ?? path.replace(/(\.model)?\.json$/, '') + '.eval.svg';
  const { target, scale, input } = model.data.setup;
  writeFileAtomic(svg, evaluationSvg(r, `${r.heldOut} held-out blocks, ${target} ×${scale} ${input.w}x${input.h}, ${model.data.device.cpu}`));
  if (values.json) {
    process.stdout.write(JSON.stringify(r.result) + '\n');
    return;
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const g = r.result.ms_per_gmac;
  const row = (name: string, a: { within10: number; within5: number; mape: number }) =>
    `  ${name.padEnd(20)} ${pct(a.within10).padStart(8)} ${pct(a.within5).padStart(8)} ${pct(a.mape).padStart(8)}`;
  const lines = [
    `${r.heldOut} held-out blocks of ${profilePath}:`,
    `  ${'predictor'.padEnd(20)} ${'±10 %'.padStart(8)} ${'±5 %'.padStart(8)} ${'MAPE'.padStart(8)}`,
    row('speed model', r.result),
    row('FLOPs-proportional', r.result.flops_baseline),
    `ms per GMAC over the ${profilePath} blocks (flat in MACs = one figure): median ${g.median.toFixed(2)}, 10–90 % ${g.p10.toFixed(2)}–${g.p90.toFixed(2)} (×${(g.p90 / g.p10).toFixed(2)}), range ${g.min.toFixed(2)}–${g.max.toFixed(2)}`,
    'whole networks (composition fitted on the other networks):',
    ...r.models.map((m) => `  C=${m.c}, ${m.blocks} blocks: measured ${m.measured.toFixed(1)} ms, predicted ${m.predicted.toFixed(1)} ms (${((m.predicted / m.measured - 1) * 100).toFixed(1)} %)`),
    `plot: ${svg}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** --arch: a preset, JSON or JSON file (parseArchArg), else a model file or zoo name (findModel). */
function archOf(text: string, scale: number): ArchSpec {
  if (existsSync(text) && !text.endsWith('.json')) return findModel(text).model.spec;
  try {
    return parseArchArg(text, scale);
  } catch (err) {
    try {
      return findModel(text).model.spec;
    } catch {
      throw new CliError((err as Error).message);
    }
  }
}

async function predict(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, { ...SETUP_OPTIONS, arch: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean', default: false } });
  if (!values.arch) throw new CliError(`predict needs --arch\n${USAGE}`);
  const { model, path } = loadModel(values);
  const spec = archOf(values.arch as string, model.data.setup.scale);
  if (spec.arch !== 'wdsr-b') throw new CliError(`the speed model covers wdsr-b networks; --arch is ${spec.arch}`);
  if (spec.scale !== model.data.setup.scale) throw new CliError(`--arch is a ×${spec.scale} network; ${path} predicts ×${model.data.setup.scale}`);
  const ms = model.specMs(spec);
  if (values.json) {
    process.stdout.write(JSON.stringify({ ms }) + '\n');
    return;
  }
  const { target, input } = model.data.setup;
  process.stdout.write(`wdsr-b C=${spec.channels}, ${spec.blocks.length} blocks, ×${spec.scale} at ${input.w}x${input.h} (${target}, ${model.data.device.cpu}): ${ms.toFixed(1)} ms\n`);
}

async function check(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, { ...SETUP_OPTIONS, model: { type: 'string' }, models: { type: 'string' }, rounds: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean', default: false } });
  const { model, path } = loadModel(values);
  const { target, scale, input } = model.data.setup;
  const runner = await createRunner({ target: await resolveTarget(target), scale, h: input.h, w: input.w });
  const archs = randomArchitectures(intOption('models', values.models as string | undefined, 20), intOption('seed', values.seed as string | undefined, 7, 0));
  const rows = await checkWholeModels(runner, model, archs, intOption('rounds', values.rounds as string | undefined, 15), scale);
  const within10 = rows.filter((r) => Math.abs(r.error) <= 0.1).length / rows.length;
  const worst = Math.max(...rows.map((r) => Math.abs(r.error)));
  if (values.json) {
    process.stdout.write(JSON.stringify({ model: path, within10, worst, rows: rows.map((r) => ({ c: r.part.c, blocks: r.part.blocks, measured_ms: r.measuredMs, predicted_ms: r.predictedMs, error: r.error })) }) + '\n');
    return;
  }
  const lines = rows.map((r) => `  C=${String(r.part.c).padStart(2)}, ${String(r.part.blocks.length).padStart(2)} blocks: measured ${r.measuredMs.toFixed(1).padStart(7)} ms (spread ${(100 * r.spread).toFixed(1)} %), predicted ${r.predictedMs.toFixed(1).padStart(7)} ms (${(100 * r.error).toFixed(1)} %)`);
  process.stdout.write(`${rows.length} random networks, ${path}, ${input.w}x${input.h} ×${scale}:\n${lines.join('\n')}\nwithin ±10 %: ${(100 * within10).toFixed(0)} %; worst ${(100 * worst).toFixed(1)} %\n`);
}

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const commands: Record<string, (a: string[]) => Promise<void>> = { fit, eval: evalCmd, predict, check };
  const cmd = sub === undefined ? undefined : commands[sub];
  if (!cmd) throw new CliError(USAGE);
  await cmd(rest);
}
