// `rtsr train`: trains an architecture on HR image sets, validating on Set5, with checkpoints, resume, a
// JSONL log, a curve plot, and a model file carrying its measured metrics at the end.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { selectBackend } from '../backends/index.js';
import { resolveDataDir } from '../data/datadir.js';
import { listSets } from '../data/datasets.js';
import { PatchSampler } from '../data/patches.js';
import { backend, useBackend } from '../engine/tensor.js';
import { evaluate } from '../eval/evaluate.js';
import { loadModel, saveModel } from '../models/model-io.js';
import type { ArchSpec } from '../models/registry.js';
import { modelUpscaler } from '../models/upscaler.js';
import type { Model } from '../models/model.js';
import { findModel } from '../models/zoo.js';
import { recipeSource } from '../train/data.js';
import { recipeNames } from '../train/recipe.js';
import { reloadTeacher, type TeacherRef } from '../train/teacher.js';
import { CHECKPOINT, checkpointRun, CURVE, LOG, train, trainingSpec, trainModel, type TrainOptions } from '../train/trainer.js';
import { parseArchArg } from './arch-arg.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';
import { RECIPE_OPTIONS, recipeOption, teacherArg, teacherOption } from './recipe-option.js';

const options = {
  arch: { ...OPTIONS.arch, help: 'the architecture to train: a preset, its JSON or a JSON file' },
  scale: OPTIONS.scale,
  data: OPTIONS.data,
  'train-sets': { kind: 'text', value: 'LIST', help: 'comma-separated sets to train on; default: T91 and BSD200, those in the data folder' },
  'val-set': { kind: 'text', value: 'SET', default: 'Set5', help: 'the set validated on' },
  steps: { kind: 'int', value: 'N', min: 1, default: '20000', help: 'training steps' },
  batch: { kind: 'int', value: 'N', min: 1, default: '16', help: 'patches per step' },
  patch: { kind: 'int', value: 'N', min: 1, default: '48', help: 'the LR patch side (the HR patch is --scale times it)' },
  lr: { kind: 'number', value: 'LR', default: '1e-3', help: "Adam's learning rate" },
  milestones: { kind: 'text', value: 'LIST', default: '0.5,0.75,0.9', help: 'where the learning rate drops, as fractions of --steps' },
  gamma: { kind: 'number', value: 'G', default: '0.5', help: 'the factor it drops by' },
  seed: OPTIONS.seed,
  'val-every': { kind: 'int', value: 'N', min: 0, default: '1000', help: 'validate every N steps; 0: at the end only' },
  'checkpoint-every': { kind: 'int', value: 'N', min: 1, default: '500', help: 'checkpoint every N steps' },
  out: { ...OPTIONS.out, help: 'the run folder; default: runs/<arch>-x<scale>' },
  ...RECIPE_OPTIONS,
  init: { kind: 'text', value: 'MODEL', help: "start from a model's weights and architecture (zoo name or file) instead of --arch; a recipe's branches are added without changing its function" },
  resume: { kind: 'flag', help: "continue the run in --out from its checkpoint, exactly; only --steps, --val-every and --checkpoint-every may change, every other option is the checkpoint's" },
  backend: OPTIONS.backend,
} as const satisfies Options;

export const command = defineCommand({
  summary: 'train a network (L1 + Adam), validating on Set5, with checkpoints: Ctrl-C saves, --resume continues',
  usage: ['--arch PRESET|JSON|FILE [options]', '--init MODEL [options]', '--resume --out DIR [--steps N] [--val-every N] [--checkpoint-every N]'],
  options,
  examples: ['rtsr train --arch wdsr-b-16x24 --scale 2 --steps 40000 --out runs/wdsr', 'rtsr train --resume --out runs/wdsr', 'rtsr train --init searched-x2-33ms --recipe full --teacher zoo/wdsr-b-teacher-x2.rtsr --out runs/recipe'],
  run,
});

interface RunConfig {
  dataDir: string;
  trainSets: string[];
  valSet: string;
  teacher?: TeacherRef;
  /** The model file whose weights the run started from. */
  init?: string;
}

type LoopFlags = Omit<TrainOptions, 'run' | 'recipe'>;
type Values = Args<typeof options>['values'];

const FLAG: Record<keyof LoopFlags, keyof Values & string> = {
  steps: 'steps', batch: 'batch', patch: 'patch', lr: 'lr', milestones: 'milestones', gamma: 'gamma', seed: 'seed', valEvery: 'val-every', checkpointEvery: 'checkpoint-every',
};
/** What a resumed run may change: how long it runs and how often it reports, not what a step computes. */
const CHANGEABLE = new Set<keyof LoopFlags>(['steps', 'valEvery', 'checkpointEvery']);

/** The loop's options from the flags; on --resume, each one not given takes the checkpoint's value. */
function loopFlags(values: Values, given: ReadonlySet<string>, checkpoint?: LoopFlags): LoopFlags {
  const pick = <K extends keyof LoopFlags>(k: K, v: LoopFlags[K]) => (checkpoint && !given.has(FLAG[k]) ? checkpoint[k] : v);
  return {
    steps: pick('steps', values.steps),
    batch: pick('batch', values.batch),
    patch: pick('patch', values.patch),
    lr: pick('lr', values.lr),
    milestones: pick('milestones', values.milestones.split(',').map(milestone)),
    gamma: pick('gamma', values.gamma),
    seed: pick('seed', values.seed),
    valEvery: pick('valEvery', values['val-every']),
    checkpointEvery: pick('checkpointEvery', values['checkpoint-every']),
  };
}

function milestone(text: string): number {
  const f = Number(text);
  if (!Number.isFinite(f) || f <= 0) throw new CliError(`--milestones must be a positive number, got '${text}'`);
  return f;
}

function initOption(nameOrPath: string): { path: string; model: Model } {
  try {
    const { path } = findModel(nameOrPath);
    return { path: resolve(path), model: loadModel(path, true).model };
  } catch (err) {
    throw new CliError(`--init: ${(err as Error).message}`);
  }
}

/** The checkpoint's run, with the flags that may change applied; any other flag must match the checkpoint. */
function resumed(values: Values, given: ReadonlySet<string>, ckptPath: string): { spec: ArchSpec; opts: TrainOptions } {
  const ck = checkpointRun(ckptPath);
  const run = ck.options.run as unknown as RunConfig;
  const refuse = (flag: string, value: unknown, saved: unknown) => {
    throw new CliError(`train --resume: --${flag} ${value} differs from the checkpoint's ${saved} (${ckptPath}); a resumed run keeps what decides its steps — start a new run (another --out) to change it`);
  };
  const asked = loopFlags(values, given, ck.options);
  for (const k of Object.keys(FLAG) as (keyof LoopFlags)[])
    if (!CHANGEABLE.has(k) && !isDeepStrictEqual(asked[k], ck.options[k])) refuse(FLAG[k], values[FLAG[k]], ck.options[k]);
  const scale = given.has('scale') ? values.scale : ck.spec.scale;
  if (scale !== ck.spec.scale) refuse('scale', scale, ck.spec.scale);
  // The checkpoint's network carries the luminance body and branches its recipe made.
  const archOf = (text: string) => trainingSpec(parseArchArg(text, scale), ck.options.recipe);
  if (values.arch !== undefined && !isDeepStrictEqual(archOf(values.arch), ck.spec)) refuse('arch', values.arch, JSON.stringify(ck.spec));
  if ((values.recipe !== undefined || values['distill-weight'] !== undefined) && !isDeepStrictEqual(recipeOption(values), ck.options.recipe))
    refuse(values.recipe !== undefined ? 'recipe' : 'distill-weight', values.recipe ?? values['distill-weight'], JSON.stringify(ck.options.recipe));
  if (values.init !== undefined && initOption(values.init).path !== run.init) refuse('init', values.init, run.init ?? 'none');
  if (values.teacher !== undefined && teacherArg(values.teacher, scale).ref.path !== run.teacher?.path) refuse('teacher', values.teacher, run.teacher?.path ?? 'none');
  if (values.data !== undefined && resolve(values.data) !== run.dataDir) refuse('data', resolve(values.data), run.dataDir);
  if (values['train-sets'] !== undefined && values['train-sets'] !== run.trainSets.join(',')) refuse('train-sets', values['train-sets'], run.trainSets.join(','));
  if (given.has('val-set') && values['val-set'] !== run.valSet) refuse('val-set', values['val-set'], run.valSet);
  if (asked.steps < ck.step) throw new CliError(`train --resume: --steps ${asked.steps} is below the checkpoint's step ${ck.step} (${ckptPath})`);
  process.stderr.write(`resuming ${ck.spec.arch} ×${ck.spec.scale} at step ${ck.step}/${asked.steps} from ${ckptPath}\n`);
  if (asked.steps !== ck.options.steps) {
    // The milestones are fractions of --steps: say where they move, and the learning rate's jump if any.
    const at = (steps: number) => asked.milestones.map((f) => Math.round(f * steps)).join(', ');
    process.stderr.write(`--steps ${asked.steps} instead of ${ck.options.steps}: the lr milestones move from steps ${at(ck.options.steps)} to ${at(asked.steps)}; the run is no longer the same as one started with --steps ${asked.steps}\n`);
  }
  return { spec: ck.spec, opts: { ...asked, ...(ck.options.recipe ? { recipe: ck.options.recipe } : {}), run: ck.options.run } };
}

async function run({ values, given, usage }: Args<typeof options>): Promise<void> {
  useBackend(await selectBackend(values.backend, { tune: true }));
  const outFlag = values.out;
  let spec: ArchSpec;
  let opts: TrainOptions;
  let outDir: string;
  let start: Model | undefined;
  if (values.resume) {
    if (!outFlag) throw new CliError('train --resume needs --out DIR (the folder of the run to continue)');
    outDir = resolve(outFlag);
    const ckptPath = join(outDir, CHECKPOINT);
    if (!existsSync(ckptPath)) throw new CliError(`train --resume: no checkpoint at ${ckptPath}`);
    ({ spec, opts } = resumed(values, given, ckptPath));
  } else {
    if (!values.arch === !values.init) throw new CliError(`train needs --arch, or --init to start from a model's weights (not both)\n${usage}`);
    const init = values.init === undefined ? undefined : initOption(values.init);
    const scale = init && !given.has('scale') ? init.model.scale : values.scale;
    if (init && scale !== init.model.scale) throw new CliError(`--scale ${scale}: the --init model ${init.path} is ×${init.model.scale}`);
    try {
      spec = init?.model.spec ?? parseArchArg(values.arch!, scale);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    start = init?.model;
    const dataDir = resolveDataDir(values.data);
    const present = await listSets(dataDir);
    const trainSets = values['train-sets'] ? values['train-sets'].split(',') : ['T91', 'BSD200'].filter((s) => present.includes(s));
    if (trainSets.length === 0) throw new CliError(`no training sets: ${dataDir} has neither T91 nor BSD200 (sets there: ${present.join(', ') || 'none'}); use --train-sets`);
    const recipe = recipeOption(values);
    const teacher = teacherOption(values, recipe, scale)?.ref;
    const run: RunConfig = { dataDir, trainSets, valSet: values['val-set'], ...(teacher ? { teacher } : {}), ...(init ? { init: init.path } : {}) };
    opts = { ...loopFlags(values, given), recipe, run: { ...run } };
    outDir = resolve(outFlag ?? join('runs', `${spec.arch}-x${spec.scale}`));
    if (existsSync(join(outDir, CHECKPOINT))) throw new CliError(`${outDir} already holds a run: add --resume to continue it, or choose another --out`);
  }
  const run = opts.run as unknown as RunConfig;
  process.stderr.write(`loading ${run.trainSets.join(', ')} from ${run.dataDir} (×${spec.scale})…\n`);
  const sampler = await PatchSampler.load(run.dataDir, run.trainSets, spec.scale);
  const data = await recipeSource(sampler, opts, run.teacher && reloadTeacher(run.teacher, spec.scale), (line) => process.stderr.write(line + '\n'));
  const validate = async (m: Parameters<typeof modelUpscaler>[0]) => (await evaluate(modelUpscaler(m, spec.arch), run.dataDir, [run.valSet])).sets[run.valSet].psnr;
  const deps = { data, validate };
  const result = start ? await trainModel(start, opts, outDir, deps) : await train(spec, opts, outDir, deps, values.resume);
  if (result.interrupted) {
    process.stderr.write(`stopped at step ${result.step}; checkpoint in ${join(outDir, CHECKPOINT)} — continue with: rtsr train --resume --out ${outDir}\n`);
    return;
  }
  const scores = await evaluate(modelUpscaler(result.model, spec.arch), run.dataDir, [run.valSet]);
  const modelPath = join(outDir, 'model.rtsr');
  saveModel(modelPath, result.model, {
    training: { ...opts, seconds: Math.round(result.seconds), backend: backend().name },
    metrics: scores.sets,
  });
  const s = scores.sets[run.valSet];
  process.stdout.write(
    `trained ${spec.arch} ×${spec.scale}${opts.recipe ? ` (recipe ${opts.recipe.name}${run.teacher ? `, teacher ${run.teacher.path}` : ''})` : ''}: ${run.valSet} ${s.psnr.toFixed(2)} dB / ${s.ssim.toFixed(4)} after ${result.step} steps (${(result.seconds / 60).toFixed(1)} min)\n` +
      `model: ${modelPath}\nlog: ${join(outDir, LOG)}\ncurve: ${join(outDir, CURVE)}\n`,
  );
}
