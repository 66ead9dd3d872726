// `rtsr speed-model fit|eval|predict|check`: fit the latency predictor to a profile, show its accuracy on held-out
// blocks against a FLOPs baseline, predict a whole network's latency, and check it on whole networks timed here.
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
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';
import { parseSetup, SETUP_OPTIONS } from './profile.js';
import { resolveTarget } from './target-option.js';

const SETUP_NOTE =
  'The setup options (--target, --scale, --input) pick the default files, profiles/<target>-x<scale>-<WxH>.json and\n.model.json beside it, and are checked against the files given.';
const modelOption = { kind: 'text', value: 'MODEL', help: "the speed model file; default: the setup's" } as const;
const profileOption = { kind: 'text', value: 'FILE', help: "the profile file (rtsr profile); default: the setup's" } as const;

type Setup = Parameters<typeof parseSetup>[0] & { model?: string };

function loadModel(v: Setup, given: ReadonlySet<string>): { model: SpeedModel; path: string } {
  const { given: said, full } = parseSetup(v, given);
  const path = v.model ?? modelPathFor(defaultProfilePath(full));
  if (!existsSync(path))
    throw new CliError(`no speed model at ${path}: run 'rtsr profile' and 'rtsr speed-model fit' for this setup, or pass --model`);
  const model = SpeedModel.load(path);
  checkSetup(model.data.setup, said, path);
  return { model, path };
}

const fitOptions = {
  ...SETUP_OPTIONS,
  profile: profileOption,
  out: { ...OPTIONS.out, value: 'MODEL', help: 'the speed model file to write; default: the profile\'s, ending .model.json' },
  holdout: { kind: 'share', value: 'SHARE', default: String(DEFAULT_FIT.holdout), help: 'the share of blocks held out from the fit, to measure it on' },
  seed: { ...OPTIONS.seed, default: String(DEFAULT_FIT.seed), help: 'the seed of the held-out draw' },
  steps: { kind: 'int', value: 'N', min: 1, default: String(DEFAULT_FIT.steps), help: 'fitting steps' },
} as const satisfies Options;

const evalOptions = {
  ...SETUP_OPTIONS,
  model: modelOption,
  profile: { ...profileOption, help: 'the profile file; default: the one the model was fitted to' },
  svg: { kind: 'text', value: 'OUT.svg', help: "the plot of predicted against measured; default: beside the model, ending .eval.svg" },
  json: OPTIONS.json,
} as const satisfies Options;

const predictOptions = {
  ...SETUP_OPTIONS,
  arch: { ...OPTIONS.arch, value: 'SPEC|MODEL', help: 'a wdsr-b architecture: a preset, its JSON or a JSON file; or a model (zoo name or file)' },
  model: modelOption,
  json: OPTIONS.json,
} as const satisfies Options;

const checkOptions = {
  ...SETUP_OPTIONS,
  model: modelOption,
  models: { kind: 'int', value: 'N', min: 1, default: '20', help: 'random networks of the search space compiled and timed' },
  rounds: { ...OPTIONS.repeats, default: '15' },
  seed: { ...OPTIONS.seed, default: '7', help: 'the seed of the random networks' },
  json: OPTIONS.json,
} as const satisfies Options;

export const command = defineCommand({
  summary: 'fit the latency predictor to a profile, check it, predict a network',
  usage: [],
  options: {},
  notes: SETUP_NOTE,
  examples: ['rtsr speed-model fit --target wasm --input 640x360', 'rtsr speed-model predict --arch wdsr-b-16x24'],
  subcommands: {
    fit: defineCommand({
      summary: 'fit the speed model to a profile',
      usage: ['[--profile FILE] [--out MODEL] [options]'],
      options: fitOptions,
      notes: SETUP_NOTE,
      examples: ['rtsr speed-model fit --profile profiles/native-x2-640x360.json'],
      run: fit,
    }),
    eval: defineCommand({
      summary: 'its accuracy on the held-out blocks against a FLOPs-proportional baseline, with a plot',
      usage: ['[--model MODEL] [--profile FILE] [options]'],
      options: evalOptions,
      notes: SETUP_NOTE,
      examples: ['rtsr speed-model eval --scale 4 --svg eval.svg'],
      run: evalCmd,
    }),
    predict: defineCommand({
      summary: "a network's predicted latency",
      usage: ['--arch SPEC|MODEL [--model MODEL] [options]'],
      options: predictOptions,
      notes: SETUP_NOTE,
      examples: ['rtsr speed-model predict --arch wdsr-b-16x24 --json'],
      run: predict,
    }),
    check: defineCommand({
      summary: "random whole networks of the search space compiled and timed here, against the model's predictions",
      usage: ['[--model MODEL] [options]'],
      options: checkOptions,
      notes: SETUP_NOTE,
      examples: ['rtsr speed-model check --models 10 --rounds 9'],
      run: check,
    }),
  },
});

async function fit({ values, given }: Args<typeof fitOptions>): Promise<void> {
  const { given: said, full } = parseSetup(values, given);
  const profilePath = values.profile ?? defaultProfilePath(full);
  const profile = readProfile(profilePath);
  checkSetup(profileSetup(profile), said, profilePath);
  const model = fitSpeedModel(profile, profilePath, { holdout: values.holdout, seed: values.seed, steps: values.steps });
  const out = values.out ?? modelPathFor(profilePath);
  model.save(out);
  const d = model.data;
  const val = Object.entries(d.alignValidation).map(([a, m]) => `${a}: ${(100 * m).toFixed(1)} %`).join(', ');
  process.stdout.write(`${out}: alignment ${d.align} (validation MAPE ${val}); whole network ≈ ${d.networkFactor.toFixed(3)} × parts ${d.blockOffsetMs < 0 ? '−' : '+'} ${Math.abs(d.blockOffsetMs).toFixed(3)} ms per block\n`);
}

async function evalCmd({ values, given }: Args<typeof evalOptions>): Promise<void> {
  const { model, path } = loadModel(values, given);
  const profilePath = values.profile ?? model.data.profile;
  const profile = readProfile(profilePath);
  checkSetup(profileSetup(profile), model.data.setup, profilePath);
  const r = evaluate(model, profile);
  const svg = values.svg ?? path.replace(/(\.model)?\.json$/, '') + '.eval.svg';
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

async function predict({ values, given, usage }: Args<typeof predictOptions>): Promise<void> {
  if (!values.arch) throw new CliError(`predict needs --arch\n${usage}`);
  const { model, path } = loadModel(values, given);
  const spec = archOf(values.arch, model.data.setup.scale);
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

async function check({ values, given }: Args<typeof checkOptions>): Promise<void> {
  const { model, path } = loadModel(values, given);
  const { target, scale, input } = model.data.setup;
  const runner = await createRunner({ target: await resolveTarget(target), scale, h: input.h, w: input.w });
  const archs = randomArchitectures(values.models, values.seed);
  const rows = await checkWholeModels(runner, model, archs, values.rounds, scale);
  const within10 = rows.filter((r) => Math.abs(r.error) <= 0.1).length / rows.length;
  const worst = Math.max(...rows.map((r) => Math.abs(r.error)));
  if (values.json) {
    process.stdout.write(JSON.stringify({ model: path, within10, worst, rows: rows.map((r) => ({ c: r.part.c, blocks: r.part.blocks, measured_ms: r.measuredMs, predicted_ms: r.predictedMs, error: r.error })) }) + '\n');
    return;
  }
  const lines = rows.map((r) => `  C=${String(r.part.c).padStart(2)}, ${String(r.part.blocks.length).padStart(2)} blocks: measured ${r.measuredMs.toFixed(1).padStart(7)} ms (spread ${(100 * r.spread).toFixed(1)} %), predicted ${r.predictedMs.toFixed(1).padStart(7)} ms (${(100 * r.error).toFixed(1)} %)`);
  process.stdout.write(`${rows.length} random networks, ${path}, ${input.w}x${input.h} ×${scale}:\n${lines.join('\n')}\nwithin ±10 %: ${(100 * within10).toFixed(0)} %; worst ${(100 * worst).toFixed(1)} %\n`);
}
