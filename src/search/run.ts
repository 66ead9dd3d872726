// `rtsr search` end to end: a speed model for this device (speed-model-for.ts), the budget calibrated to this
// machine (calibrate.ts), the staged search, then the derived network evaluated, measured through the same runner the
// profile used, and reported (report.md, report.json, a PSNR-vs-latency plot).
import { join } from 'node:path';
import type { GateWorth } from '../engine/ops.js';
import { compiledRounds } from '../bench/compare.js';
import { PatchSampler } from '../data/patches.js';
import { evaluate } from '../eval/evaluate.js';
import { describeSteadiness, type Steadiness, timeSteadily } from '../latency/busy.js';
import { describeCpu, type DeviceFingerprint } from '../latency/profile-file.js';
import { saveModel } from '../models/model-io.js';
import { Model } from '../models/model.js';
import { type ArchSpec, parseArch } from '../models/registry.js';
import { modelUpscaler } from '../models/upscaler.js';
import type { Target } from '../targets/target.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { findModel, isTeacher, zooNames } from '../models/zoo.js';
import { patchSource, recipeSource } from '../train/data.js';
import type { Recipe } from '../train/recipe.js';
import { writeFileAtomic } from '../util/atomic.js';
import { svgPlot } from '../util/svg-plot.js';
import { assertBelowSupernet, assertReachable, type Calibration, calibrate, REFERENCE_SIZES, type TimeReferences } from './calibrate.js';
import { type LatencyPredictor, narrowestOneBlock, specMs, speedModelPredictor } from './latency-loss.js';
import { describeArch, reportMarkdown } from './report.js';
import { type SpeedModelSource, speedModelFor } from './speed-model-for.js';
import { runSearch, type SearchConfig, type Stage } from './stages.js';

export interface SearchRun {
  scale: number;
  budgetMs: number;
  input: { w: number; h: number };
  /** Where the searched network will run: its speed is profiled, predicted and measured there. */
  target: Target;
  /** A profile measured on another device (the profiling page of `rtsr serve`): the search fits its speed model
   *  and aims at that device; `target` then only trains and times the result on this machine, for reference. */
  deviceProfile?: string;
  dataDir: string;
  trainSets: string[];
  evalSets: string[];
  outDir: string;
  quick: boolean;
  /** Model files (e.g. hand-designed baselines) measured and plotted beside the searched model and the zoo. */
  baselines: string[];
  widthGradient: boolean;
  gateWorth: GateWorth;
  seed: number;
  /** The fine-tune stage's recipe and distillation teacher. */
  recipe?: Recipe;
  teacher?: Model;
  teacherPath?: string;
  /** Fields that replace this machine's fingerprint (speed-model-for.ts): tests stand in for another CPU. */
  device?: Partial<DeviceFingerprint>;
  log: (line: string) => void;
}

export interface SearchReport {
  architecture: WdsrSpec;
  budget_ms: number;
  predicted_ms: number;
  measured_ms: number;
  supernet_predicted_ms: number;
  /** The reference network timed before the search, and the predicted-ms target the budget became. */
  calibration: Calibration;
  /** Channels the joint stage's last selection had over the budget, turned off before fine-tuning. */
  trimmed_channels: number;
  /** The predicted-ms target the network was derived at: the calibrated one, or lower where the derived network
   *  measured over the budget before fine-tuning (derive.ts). */
  derived_target_ms: number;
  /** Skipped blocks, then dead channels, turned on where the joint stage's selection left room under the target. */
  filled_blocks: number;
  filled_channels: number;
  /** The joint stage kept no block; the one closest to kept came back, trimmed to fit (never an empty network
   *  while a block fits). */
  kept_one_block: boolean;
  /** Only when the network has no block because none fits: the narrowest one-block network's predicted ms. */
  no_block_fits_ms?: number;
  metrics: Record<string, { psnr: number; ssim: number }>;
  search_seconds: number;
  stage_seconds: Record<Stage, number>;
  /** The zoo models of this scale and the baselines, timed in the same rounds as the searched model. */
  compared: { model: string; arch: ArchSpec; measured_ms: number; metrics: Record<string, { psnr: number; ssim: number }> }[];
  /** A --quick run (minutes of training: the pipeline end to end, not a model to use). */
  quick: boolean;
  width_gradient: boolean;
  gate_worth: GateWorth;
  /** The fine-tune stage's recipe (train/recipe.ts) and teacher, if any. */
  finetune_recipe: string;
  teacher?: string;
  input: string;
  speed_model: string;
  /** 'this machine' (shipped, measured on this kind of machine), 'nearest' (--quick: a shipped one measured on another
   *  CPU or input size, rescaled by the calibration), 'profiled' (here, first), 'device profile'. */
  speed_model_source: SpeedModelSource;
  /** This machine, where everything measured was measured. */
  machine: { cpu: string; cores: number; target: string; threads: number };
  /** Where measured_ms and the compared models' times come from. */
  measured_on: string;
  /** How steady the machine was while measured_ms and the compared times were taken. */
  measured_machine: Steadiness;
}

/** The seed's smaller supernet (8 × 24: 20.6 GMACs at 720p, ~6× a 33 ms budget here) and the seed's stage
 *  proportions (30 / 10 / 20 / 30 epochs) scaled to 40 000 steps, which fit ≤ 3 h on 2 cores; its 16 × 24 one
 *  trains at ~0.5 s/step here, so the same steps would take ~5 h. --quick: a small supernet (quickSupernet, once
 *  the target is known) and a few minutes. */
export function searchConfig(run: Pick<SearchRun, 'scale' | 'budgetMs' | 'quick' | 'widthGradient' | 'gateWorth' | 'seed' | 'recipe'>): SearchConfig {
  const q = run.quick;
  return {
    supernet: parseArch(q ? 'wdsr-b-4x16' : 'wdsr-b-8x24', run.scale) as WdsrSpec,
    targetMs: run.budgetMs,
    // Quick's fine-tune buys Set5 cheaply (the derived network is small): from two quick runs' joint stages,
    // 150 → 300 steps gave +0.24 and +0.30 dB, ~8 s more here.
    steps: q ? { pretrain: 150, width: 100, joint: 150, finetune: 300 } : { pretrain: 10000, width: 4000, joint: 8000, finetune: 18000 },
    batch: 16,
    patch: q ? 32 : 48,
    lr: 1e-3,
    // Quick runs have too few steps for the seed's gate rates to flip a depth gate (keep ≈ 0.9 vs skip ≈ 0.1).
    gateLr: q ? { width: 0.02, joint: 0.02 } : { width: 0.01, joint: 0.004 },
    gamma: 0.1,
    targetRamp: 0.5,
    belowTarget: 0.5,
    gateRange: [0, 1],
    widthGradient: run.widthGradient,
    gateWorth: run.gateWorth,
    depthOwnScale: run.gateWorth === 'taylor',
    sharedGateScale: true,
    seed: run.seed,
    valEvery: q ? 0 : 5000,
    checkpointEvery: q ? 100 : 1000,
    ...(run.recipe ? { recipe: run.recipe } : {}),
  };
}

/** --quick's supernets, smallest first. The gates start from the supernet, so it needs room above the target
 *  (QUICK_ROOM): on a quiet Zen 5 here 33 ms became 50.6 ms predicted, and wdsr-b-4x16 is predicted at 50.8.
 *  The larger ones are for machines much faster than the speed model's (pipelined native code on a Zen 5 ran the
 *  Zen 4 model's networks at 0.48× their predicted times) and for large budgets. */
const QUICK_SUPERNETS = ['wdsr-b-4x16', 'wdsr-b-4x20', 'wdsr-b-4x24', 'wdsr-b-8x24', 'wdsr-b-8x32', 'wdsr-b-16x32'];
const QUICK_ROOM = 1.25;

/** The smallest quick supernet predicted at `ms` or more (else the largest). */
export function quickSupernet(scale: number, ms: number, p: LatencyPredictor): WdsrSpec {
  const nets = QUICK_SUPERNETS.map((a) => parseArch(a, scale) as WdsrSpec);
  return nets.find((n) => specMs(n, p) >= ms) ?? nets[nets.length - 1];
}

export async function search(run: SearchRun): Promise<SearchReport> {
  const t0 = performance.now();
  // Checks the scale (the supernet's spec) before anything is profiled.
  const uncalibrated = searchConfig(run);
  // Zoo models of this scale (distillation teachers aside) and the given baselines, timed beside the searched
  // one at the end; read (and checked) now, not after hours of search.
  const zoo = zooNames().filter((name) => !isTeacher(name));
  const others = [...zoo.map((name) => ({ name, ...findModel(name) })).filter((z) => z.model.scale === run.scale), ...run.baselines.map((path) => ({ name: path, ...findModel(path) }))];
  for (const o of others) if (o.model.scale !== run.scale) throw new Error(`baseline ${o.path} is a ×${o.model.scale} model; the search is ×${run.scale}`);
  const speed = await speedModelFor(run);
  const predictor = speedModelPredictor(speed.model);
  const timing = { target: run.target, threads: run.target.defaultThreads(), warmup: 3, repeats: 15 };
  // A device profile's networks cannot be timed from here: its speed model (whose composition factor was fitted
  // on whole networks timed on that device) stands in for the measurement, so the target is the budget itself.
  // Each network's fastest window, for the references and the result alike, so that the target and the measured
  // time mean the same thing; only the calibration waits out a busy machine.
  const timeSteady = async (models: Model[], label: string, maxWindows?: number) => {
    const timer = await compiledRounds(models, run.input.w, run.input.h, timing);
    try {
      return await timeSteadily(() => timer.rounds(), { log: (l) => run.log(`${label}: ${l}`), maxWindows });
    } finally {
      await timer.dispose();
    }
  };
  const timeReferences: TimeReferences = run.deviceProfile
    ? async (specs) => ({ ms: specs.map((s) => speed.model.specMs(s)) })
    : (specs) => timeSteady(specs.map((s) => Model.init(s, 0)), 'calibration');
  // Which supernet --quick trains depends on the target; its references come from the smallest space that holds
  // the largest of them, where they are four blocks deep at 33 ms: the same depth, C alone differing, keeps their
  // ratios close (0.63–0.67 in a quiet run on this Zen 5; depths 1, 5 and 2 from the 8 × 24 space: 0.64–0.83).
  const space = run.quick ? quickSupernet(run.scale, Math.max(...REFERENCE_SIZES) * run.budgetMs, predictor) : uncalibrated.supernet;
  const cal = await calibrate(join(run.outDir, 'calibration.json'), space, run.budgetMs, predictor, timeReferences, run.log);
  logCalibration(cal, run.log);
  assertReachable(cal, predictor);
  const supernet = run.quick ? quickSupernet(run.scale, QUICK_ROOM * cal.target_ms, predictor) : uncalibrated.supernet;
  if (run.quick) run.log(`supernet: ${supernet.blocks.length} × C ${supernet.channels}, predicted ${specMs(supernet, predictor).toFixed(1)} ms for the ${cal.target_ms.toFixed(1)} ms target`);
  assertBelowSupernet(cal, supernet, predictor);
  const oneBlock = specMs(narrowestOneBlock(supernet), predictor);
  if (oneBlock > cal.target_ms)
    run.log(`a ${run.budgetMs} ms budget admits no block here: the narrowest one-block network (C 8, M1 8, M2 8) is predicted at ${oneBlock.toFixed(1)} ms, over the ${cal.target_ms.toFixed(1)} ms target; the search can only end with none (raise --budget-ms or lower --input for one)`);
  const cfg: SearchConfig = { ...uncalibrated, supernet, targetMs: cal.target_ms };
  const sampler = await PatchSampler.load(run.dataDir, run.trainSets, run.scale);
  const data = patchSource(sampler, run.seed, cfg.batch, cfg.patch);
  const validate = async (m: Model) => (await evaluate(modelUpscaler(m, 'search', run.target), run.dataDir, [run.evalSets[0]])).sets[run.evalSets[0]].psnr;
  const tSearch = performance.now();
  const finetune = { ...cfg, steps: cfg.steps.finetune };
  const result = await runSearch(cfg, predictor, join(run.outDir, 'stages'), {
    data,
    finetuneData: () => recipeSource(sampler, finetune, run.teacher, run.log),
    validate: cfg.valEvery ? validate : undefined,
    // A long search's log says what it derived as soon as it knows, not only in the report at the end.
    onStage: (s, derived) => run.log(derived ? `stage: ${s} of ${JSON.stringify(derived.spec)}, predicted ${derived.predictedMs.toFixed(1)} ms` : `stage: ${s}`),
    // The derived network timed here before it is fine-tuned (a device profile's cannot be: its prediction stands).
    overBudget: run.deviceProfile
      ? undefined
      : async (m) => {
          const ms = (await timeSteady([m], 'derived', 3)).ms[0];
          run.log(`derived: ${describeArch(m.spec as WdsrSpec)} measured ${ms.toFixed(1)} ms for the ${run.budgetMs} ms budget${ms > run.budgetMs ? ': derived again, smaller' : ''}`);
          return ms / run.budgetMs;
        },
  });
  // Stage time counts every process that worked on a stage (a resumed search adds up), the rest only this one.
  const earlierSeconds = Object.values(result.stageSeconds).reduce((a, b) => a + b, 0) - (performance.now() - tSearch) / 1000;
  if (!result.model) throw new Error(`search interrupted; run the same command again to resume from ${run.outDir}`);
  const spec = result.model.spec as WdsrSpec;
  const scores = await evaluate(modelUpscaler(result.model, 'searched', run.target), run.dataDir, run.evalSets);
  // Timed side by side as `rtsr bench --model … --model …` does, in three windows.
  const final = await timeSteady([result.model, ...others.map((o) => o.model)], 'measured', 3);
  const [measured, ...othersMs] = final.ms;
  const report: SearchReport = {
    architecture: spec,
    budget_ms: run.budgetMs,
    predicted_ms: result.predictedMs,
    measured_ms: measured,
    supernet_predicted_ms: result.supernetMs,
    calibration: cal,
    trimmed_channels: result.trimmedChannels ?? 0,
    derived_target_ms: result.derivedTargetMs ?? cal.target_ms,
    filled_blocks: result.filledBlocks ?? 0,
    filled_channels: result.filledChannels ?? 0,
    kept_one_block: result.keptOneBlock ?? false,
    ...(result.noBlockFitsMs !== undefined && { no_block_fits_ms: result.noBlockFitsMs }),
    metrics: psnrSsim(scores.sets),
    search_seconds: (performance.now() - t0) / 1000 + earlierSeconds,
    stage_seconds: result.stageSeconds,
    compared: others.map((o, i) => ({ model: o.name, arch: o.model.spec, measured_ms: othersMs[i], metrics: psnrSsim(o.info.metrics ?? {}) })),
    quick: run.quick,
    width_gradient: run.widthGradient,
    gate_worth: run.gateWorth,
    finetune_recipe: cfg.recipe?.name ?? 'none (L1)',
    ...(run.teacherPath ? { teacher: run.teacherPath } : {}),
    input: `${run.input.w}x${run.input.h}`,
    speed_model: speed.path,
    speed_model_source: speed.source,
    machine: { cpu: describeCpu(speed.here), cores: speed.here.cores, target: run.target.name, threads: timing.threads },
    measured_on: run.deviceProfile
      ? `this machine's ${run.target.name} target, not the device of ${run.deviceProfile}: there, predicted_ms is the estimate`
      : `this machine's ${run.target.name} target`,
    measured_machine: final.steadiness,
  };
  saveModel(join(run.outDir, 'model.rtsr'), result.model, { training: { search: cfg, seconds: Math.round(report.search_seconds) }, metrics: scores.sets });
  writeFileAtomic(join(run.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(run.outDir, 'report.md'), reportMarkdown(report));
  const set = run.evalSets[0];
  const palette = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const points = others.flatMap((o, i) => (o.info.metrics?.[set] ? [{ label: o.name, points: [[othersMs[i], o.info.metrics[set].psnr]] as [number, number][], style: 'points' as const, color: palette[i % palette.length] }] : []));
  const psnr = report.metrics[set].psnr;
  writeFileAtomic(
    join(run.outDir, 'plot.svg'),
    svgPlot(
      [
        { label: 'searched', points: [[measured, psnr]], style: 'points', color: '#d62728' },
        ...points,
        { label: `budget ${run.budgetMs} ms`, points: [[run.budgetMs, psnr - 0.5], [run.budgetMs, psnr + 0.5]], style: 'line', color: '#999' },
      ],
      { title: `${set} PSNR vs measured latency (${report.input}, ×${run.scale})`, xLabel: 'ms per frame', yLabel: 'PSNR (dB)' },
    ),
  );
  return report;
}

const psnrSsim = (sets: Record<string, { psnr: number; ssim: number }>) => Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, { psnr: v.psnr, ssim: v.ssim }]));

/** What the calibration found, in a line or two: the references' ratios, and a busy machine with its figures. */
function logCalibration(cal: Calibration, log: (line: string) => void): void {
  const refs = cal.references.map((r) => `${r.spec.blocks.length} × C ${r.spec.channels} ${r.measured_ms.toFixed(1)} ms for ${r.predicted_ms.toFixed(1)} predicted`);
  log(`calibration: ${refs.join(', ')}: measured ≈ ${cal.scale.toFixed(2)} × predicted here, so the ${cal.budget_ms} ms budget is a ${cal.target_ms.toFixed(1)} ms predicted target`);
  const ratios = cal.references.map((r) => r.measured_ms / r.predicted_ms);
  if (Math.max(...ratios) / Math.min(...ratios) > 1.15)
    log(`calibration: the references ran ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× their predictions: the speed model's shape fits this machine loosely, and the searched network's time will miss its prediction by as much`);
  if (cal.machine?.busy)
    log(`calibration: the machine stayed busy while timing (${cal.machine.windows} windows; ${describeSteadiness(cal.machine)}): the target follows each reference's fastest window, and a network sized by it runs faster when the machine is quiet; to aim at the quiet machine, stop the other work and delete calibration.json in the output folder`);
}
