// `rtsr train`: trains an architecture on HR image sets, validating on Set5, with checkpoints, resume, a
// JSONL log, a curve plot, and a model file carrying its measured metrics at the end.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { selectBackend } from '../backends/index.js';
import { resolveDataDir } from '../data/datadir.js';
import { listSets } from '../data/datasets.js';
import { PatchSampler } from '../data/patches.js';
import { backend, useBackend } from '../engine/tensor.js';
import { evaluate } from '../eval/evaluate.js';
import { saveModel } from '../models/model-io.js';
import { parseArchArg } from './arch-arg.js';
import { modelUpscaler } from '../models/upscaler.js';
import { patchSource } from '../train/data.js';
import { CHECKPOINT, checkpointRun, CURVE, LOG, train, type TrainOptions } from '../train/trainer.js';
import { CliError, intOption, parseCli } from './args.js';

const USAGE = `usage: rtsr train --arch PRESET|JSON|FILE [--scale 2|3|4] [--data DIR] [--train-sets T91,BSD200] [--steps N]
                  [--batch 16] [--patch 48] [--lr 1e-3] [--milestones 0.5,0.75,0.9] [--gamma 0.5] [--seed 0]
                  [--val-set Set5] [--val-every 1000] [--checkpoint-every 500] [--out DIR] [--resume] [--backend native|reference]`;

interface RunConfig {
  dataDir: string;
  trainSets: string[];
  valSet: string;
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
    scale: { type: 'string', default: '2' },
    data: { type: 'string' },
    'train-sets': { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    patch: { type: 'string' },
    lr: { type: 'string' },
    milestones: { type: 'string' },
    gamma: { type: 'string' },
    seed: { type: 'string' },
    'val-set': { type: 'string', default: 'Set5' },
    'val-every': { type: 'string' },
    'checkpoint-every': { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    backend: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  useBackend(await selectBackend(values.backend as string | undefined));
  const outFlag = values.out as string | undefined;
  let spec;
  let opts: TrainOptions;
  let outDir: string;
  if (values.resume) {
    if (!outFlag) throw new CliError('train --resume needs --out DIR (the folder of the run to continue)');
    outDir = resolve(outFlag);
    const ckptPath = join(outDir, CHECKPOINT);
    if (!existsSync(ckptPath)) throw new CliError(`train --resume: no checkpoint at ${ckptPath}`);
    const ck = checkpointRun(ckptPath);
    spec = ck.spec;
    opts = ck.options;
    process.stderr.write(`resuming ${spec.arch} ×${spec.scale} at step ${ck.step}/${opts.steps} from ${ckptPath}\n`);
  } else {
    if (!values.arch) throw new CliError(`train needs --arch\n${USAGE}`);
    const scale = intOption('scale', values.scale as string, 2);
    try {
      spec = parseArchArg(values.arch as string, scale);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const dataDir = resolveDataDir(values.data as string | undefined);
    const present = await listSets(dataDir);
    const trainSets = values['train-sets'] ? (values['train-sets'] as string).split(',') : ['T91', 'BSD200'].filter((s) => present.includes(s));
    if (trainSets.length === 0) throw new CliError(`no training sets: ${dataDir} has neither T91 nor BSD200 (sets there: ${present.join(', ') || 'none'}); use --train-sets`);
    const run: RunConfig = { dataDir, trainSets, valSet: values['val-set'] as string };
    opts = {
      steps: intOption('steps', values.steps as string | undefined, 20000),
      batch: intOption('batch', values.batch as string | undefined, 16),
      patch: intOption('patch', values.patch as string | undefined, 48),
      lr: num('lr', values.lr as string | undefined, 1e-3),
      milestones: ((values.milestones as string | undefined) ?? '0.5,0.75,0.9').split(',').map((f) => num('milestones', f, 0.5)),
      gamma: num('gamma', values.gamma as string | undefined, 0.5),
      seed: intOption('seed', values.seed as string | undefined, 0, 0),
      valEvery: intOption('val-every', values['val-every'] as string | undefined, 1000),
      checkpointEvery: intOption('checkpoint-every', values['checkpoint-every'] as string | undefined, 500),
      run: { ...run },
    };
    outDir = resolve(outFlag ?? join('runs', `${spec.arch}-x${spec.scale}`));
    if (existsSync(join(outDir, CHECKPOINT))) throw new CliError(`${outDir} already holds a run: add --resume to continue it, or choose another --out`);
  }
  const run = opts.run as unknown as RunConfig;
  process.stderr.write(`loading ${run.trainSets.join(', ')} from ${run.dataDir} (×${spec.scale})…\n`);
  const sampler = await PatchSampler.load(run.dataDir, run.trainSets, spec.scale);
  const validate = async (m: Parameters<typeof modelUpscaler>[0]) => (await evaluate(modelUpscaler(m, spec.arch), run.dataDir, [run.valSet])).sets[run.valSet].psnr;
  const result = await train(spec, opts, outDir, { data: patchSource(sampler, opts.seed, opts.batch, opts.patch), validate }, values.resume as boolean);
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
    `trained ${spec.arch} ×${spec.scale}: ${run.valSet} ${s.psnr.toFixed(2)} dB / ${s.ssim.toFixed(4)} after ${result.step} steps (${(result.seconds / 60).toFixed(1)} min)\n` +
      `model: ${modelPath}\nlog: ${join(outDir, LOG)}\ncurve: ${join(outDir, CURVE)}\n`,
  );
}
