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
import { withReparam } from '../models/reparam.js';
import { findModel } from '../models/zoo.js';
import { recipeSource } from '../train/data.js';
import { recipeNames } from '../train/recipe.js';
import { reloadTeacher, type TeacherRef } from '../train/teacher.js';
import { CHECKPOINT, checkpointRun, CURVE, LOG, train, trainModel, type TrainOptions } from '../train/trainer.js';
import { parseArchArg } from './arch-arg.js';
import { CliError, intOption, parseCli } from './args.js';
import { RECIPE_OPTIONS, recipeOption, teacherArg, teacherOption } from './recipe-option.js';

const USAGE = `usage: rtsr train --arch PRESET|JSON|FILE|--init MODEL [--scale 2|3|4] [--data DIR] [--train-sets T91,BSD200] [--steps N]
                  [--batch 16] [--patch 48] [--lr 1e-3] [--milestones 0.5,0.75,0.9] [--gamma 0.5] [--seed 0]
                  [--recipe NAME|FILE.json (baseline)] [--teacher MODEL [--distill-weight W]]
                  [--val-set Set5] [--val-every 1000 (0: at the end only)] [--checkpoint-every 500] [--out DIR]
                  [--resume [--steps N] [--val-every N] [--checkpoint-every N]] [--backend native|reference]`;

interface RunConfig {
  dataDir: string;
  trainSets: string[];
  valSet: string;
  teacher?: TeacherRef;
  /** The model file whose weights the run started from. */
  init?: string;
}

type LoopFlags = Omit<TrainOptions, 'run' | 'recipe'>;
type Values = Record<string, string | boolean | string[] | undefined>;

const DEFAULTS: LoopFlags = { steps: 20000, batch: 16, patch: 48, lr: 1e-3, milestones: [0.5, 0.75, 0.9], gamma: 0.5, seed: 0, valEvery: 1000, checkpointEvery: 500 };
const FLAG: Record<keyof LoopFlags, string> = {
  steps: 'steps', batch: 'batch', patch: 'patch', lr: 'lr', milestones: 'milestones', gamma: 'gamma', seed: 'seed', valEvery: 'val-every', checkpointEvery: 'checkpoint-every',
};
/** What a resumed run may change: how long it runs and how often it reports, not what a step computes. */
const CHANGEABLE = new Set<keyof LoopFlags>(['steps', 'valEvery', 'checkpointEvery']);

/** The loop's options from the flags given, each absent flag taking its value from `base`. */
function loopFlags(values: Values, base: LoopFlags): LoopFlags {
  const str = (k: keyof LoopFlags) => values[FLAG[k]] as string | undefined;
  return {
    steps: intOption('steps', str('steps'), base.steps),
    batch: intOption('batch', str('batch'), base.batch),
    patch: intOption('patch', str('patch'), base.patch),
    lr: num('lr', str('lr'), base.lr),
    milestones: str('milestones')?.split(',').map((f) => num('milestones', f, 0.5)) ?? base.milestones,
    gamma: num('gamma', str('gamma'), base.gamma),
    seed: intOption('seed', str('seed'), base.seed, 0),
    valEvery: intOption('val-every', str('valEvery'), base.valEvery, 0),
    checkpointEvery: intOption('checkpoint-every', str('checkpointEvery'), base.checkpointEvery),
  };
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
function resumed(values: Values, ckptPath: string): { spec: ArchSpec; opts: TrainOptions } {
  const ck = checkpointRun(ckptPath);
  const run = ck.options.run as unknown as RunConfig;
  const refuse = (flag: string, given: unknown, saved: unknown) => {
    throw new CliError(`train --resume: --${flag} ${given} differs from the checkpoint's ${saved} (${ckptPath}); a resumed run keeps what decides its steps — start a new run (another --out) to change it`);
  };
  const asked = loopFlags(values, ck.options);
  for (const k of Object.keys(FLAG) as (keyof LoopFlags)[])
    if (!CHANGEABLE.has(k) && !isDeepStrictEqual(asked[k], ck.options[k])) refuse(FLAG[k], values[FLAG[k]], ck.options[k]);
  const scale = values.scale === undefined ? ck.spec.scale : intOption('scale', values.scale as string, 2);
  if (scale !== ck.spec.scale) refuse('scale', scale, ck.spec.scale);
  // The checkpoint's network carries the branches its recipe added.
  const reparam = ck.options.recipe?.reparam;
  const archOf = (text: string) => (reparam ? withReparam(parseArchArg(text, scale), reparam) : parseArchArg(text, scale));
  if (values.arch !== undefined && !isDeepStrictEqual(archOf(values.arch as string), ck.spec)) refuse('arch', values.arch, JSON.stringify(ck.spec));
  if ((values.recipe !== undefined || values['distill-weight'] !== undefined) && !isDeepStrictEqual(recipeOption(values), ck.options.recipe))
    refuse(values.recipe !== undefined ? 'recipe' : 'distill-weight', values.recipe ?? values['distill-weight'], JSON.stringify(ck.options.recipe));
  if (values.init !== undefined && initOption(values.init as string).path !== run.init) refuse('init', values.init, run.init ?? 'none');
  if (values.teacher !== undefined && teacherArg(values.teacher as string, scale).ref.path !== run.teacher?.path) refuse('teacher', values.teacher, run.teacher?.path ?? 'none');
  if (values.data !== undefined && resolve(values.data as string) !== run.dataDir) refuse('data', resolve(values.data as string), run.dataDir);
  if (values['train-sets'] !== undefined && values['train-sets'] !== run.trainSets.join(',')) refuse('train-sets', values['train-sets'], run.trainSets.join(','));
  if (values['val-set'] !== undefined && values['val-set'] !== run.valSet) refuse('val-set', values['val-set'], run.valSet);
  if (asked.steps < ck.step) throw new CliError(`train --resume: --steps ${asked.steps} is below the checkpoint's step ${ck.step} (${ckptPath})`);
  process.stderr.write(`resuming ${ck.spec.arch} ×${ck.spec.scale} at step ${ck.step}/${asked.steps} from ${ckptPath}\n`);
  if (asked.steps !== ck.options.steps) {
    // The milestones are fractions of --steps: say where they move, and the learning rate's jump if any.
    const at = (steps: number) => asked.milestones.map((f) => Math.round(f * steps)).join(', ');
    process.stderr.write(`--steps ${asked.steps} instead of ${ck.options.steps}: the lr milestones move from steps ${at(ck.options.steps)} to ${at(asked.steps)}; the run is no longer the same as one started with --steps ${asked.steps}\n`);
  }
  return { spec: ck.spec, opts: { ...asked, ...(ck.options.recipe ? { recipe: ck.options.recipe } : {}), run: ck.options.run } };
}

function num(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name} must be a positive number, got '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseCli(argv, {
    arch: { type: 'string' },
    scale: { type: 'string' },
    data: { type: 'string' },
    'train-sets': { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    patch: { type: 'string' },
    lr: { type: 'string' },
    milestones: { type: 'string' },
    gamma: { type: 'string' },
    seed: { type: 'string' },
    'val-set': { type: 'string' },
    'val-every': { type: 'string' },
    'checkpoint-every': { type: 'string' },
    ...RECIPE_OPTIONS,
    init: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    backend: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\nrecipes: ${recipeNames().join(', ')} (docs/training.md)\n`);
    return;
  }
  useBackend(await selectBackend(values.backend as string | undefined));
  const outFlag = values.out as string | undefined;
  let spec: ArchSpec;
  let opts: TrainOptions;
  let outDir: string;
  let start: Model | undefined;
  if (values.resume) {
    if (!outFlag) throw new CliError('train --resume needs --out DIR (the folder of the run to continue)');
    outDir = resolve(outFlag);
    const ckptPath = join(outDir, CHECKPOINT);
    if (!existsSync(ckptPath)) throw new CliError(`train --resume: no checkpoint at ${ckptPath}`);
    ({ spec, opts } = resumed(values, ckptPath));
  } else {
    if (!values.arch === !values.init) throw new CliError(`train needs --arch, or --init to start from a model's weights (not both)\n${USAGE}`);
    const init = values.init === undefined ? undefined : initOption(values.init as string);
    const scale = intOption('scale', values.scale as string | undefined, init?.model.scale ?? 2);
    if (init && scale !== init.model.scale) throw new CliError(`--scale ${scale}: the --init model ${init.path} is ×${init.model.scale}`);
    try {
      spec = init?.model.spec ?? parseArchArg(values.arch as string, scale);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    start = init?.model;
    const dataDir = resolveDataDir(values.data as string | undefined);
    const present = await listSets(dataDir);
    const trainSets = values['train-sets'] ? (values['train-sets'] as string).split(',') : ['T91', 'BSD200'].filter((s) => present.includes(s));
    if (trainSets.length === 0) throw new CliError(`no training sets: ${dataDir} has neither T91 nor BSD200 (sets there: ${present.join(', ') || 'none'}); use --train-sets`);
    const recipe = recipeOption(values);
    const teacher = teacherOption(values, recipe, scale)?.ref;
    const run: RunConfig = { dataDir, trainSets, valSet: (values['val-set'] as string | undefined) ?? 'Set5', ...(teacher ? { teacher } : {}), ...(init ? { init: init.path } : {}) };
    opts = { ...loopFlags(values, DEFAULTS), recipe, run: { ...run } };
    outDir = resolve(outFlag ?? join('runs', `${spec.arch}-x${spec.scale}`));
    if (existsSync(join(outDir, CHECKPOINT))) throw new CliError(`${outDir} already holds a run: add --resume to continue it, or choose another --out`);
  }
  const run = opts.run as unknown as RunConfig;
  process.stderr.write(`loading ${run.trainSets.join(', ')} from ${run.dataDir} (×${spec.scale})…\n`);
  const sampler = await PatchSampler.load(run.dataDir, run.trainSets, spec.scale);
  const data = await recipeSource(sampler, opts, run.teacher && reloadTeacher(run.teacher, spec.scale), (line) => process.stderr.write(line + '\n'));
  const validate = async (m: Parameters<typeof modelUpscaler>[0]) => (await evaluate(modelUpscaler(m, spec.arch), run.dataDir, [run.valSet])).sets[run.valSet].psnr;
  const deps = { data, validate };
  const result = start ? await trainModel(start, opts, outDir, deps) : await train(spec, opts, outDir, deps, values.resume as boolean);
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
