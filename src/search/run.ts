// `rtsr search` end to end: a speed model for this device (the shipped one when it fits, else profiled and
// fitted here), the staged search, then the derived network evaluated, measured through the same runner the
// profile used, and reported (report.md, report.json, a PSNR-vs-latency plot).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GateWorth } from '../engine/ops.js';
import { timeModels } from '../bench/compare.js';
import { median } from '../bench/infer-bench.js';
import { PatchSampler } from '../data/patches.js';
import { evaluate } from '../eval/evaluate.js';
import { fitSpeedModel } from '../latency/fit.js';
import { checkSetup, defaultProfilePath, deviceFingerprint, profileSetup, readProfile } from '../latency/profile-file.js';
import { runProfile } from '../latency/profiler.js';
import { createRunner } from '../latency/runner.js';
import { modelPathFor, SpeedModel } from '../latency/speed-model.js';
import { saveModel } from '../models/model-io.js';
import { Model } from '../models/model.js';
import { type ArchSpec, parseArch } from '../models/registry.js';
import { modelUpscaler } from '../models/upscaler.js';
import type { Target } from '../targets/target.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { findModel, zooNames } from '../models/zoo.js';
import { patchSource, recipeSource } from '../train/data.js';
import type { Recipe } from '../train/recipe.js';
import { writeFileAtomic } from '../util/atomic.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { svgPlot } from '../util/svg-plot.js';
import { assertBelowSupernet, assertReachable, type Calibration, calibrate } from './calibrate.js';
import { speedModelPredictor } from './latency-loss.js';
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
  /** Skipped blocks, then dead channels, turned on where the joint stage's selection left room under the target. */
  filled_blocks: number;
  filled_channels: number;
  metrics: Record<string, { psnr: number; ssim: number }>;
  search_seconds: number;
  stage_seconds: Record<Stage, number>;
  /** The zoo models of this scale and the baselines, timed in the same rounds as the searched model. */
  compared: { model: string; arch: ArchSpec; measured_ms: number; metrics: Record<string, { psnr: number; ssim: number }> }[];
  width_gradient: boolean;
  gate_worth: GateWorth;
  /** The fine-tune stage's recipe (train/recipe.ts) and teacher, if any. */
  finetune_recipe: string;
  teacher?: string;
  input: string;
  speed_model: string;
  /** Where measured_ms and the compared models' times come from. */
  measured_on: string;
}

/** The seed's smaller supernet (8 × 24: 20.6 GMACs at 720p, ~6× a 33 ms budget here) and the seed's stage
 *  proportions (30 / 10 / 20 / 30 epochs) scaled to 40 000 steps, which fit ≤ 3 h on 2 cores; its 16 × 24 one
 *  trains at ~0.5 s/step here, so the same steps would take ~5 h. --quick: a small supernet and a few minutes. */
export function searchConfig(run: Pick<SearchRun, 'scale' | 'budgetMs' | 'quick' | 'widthGradient' | 'gateWorth' | 'seed' | 'recipe'>): SearchConfig {
  const q = run.quick;
  return {
    supernet: parseArch(q ? 'wdsr-b-4x16' : 'wdsr-b-8x24', run.scale) as WdsrSpec,
    targetMs: run.budgetMs,
    steps: q ? { pretrain: 150, width: 100, joint: 150, finetune: 150 } : { pretrain: 10000, width: 4000, joint: 8000, finetune: 18000 },
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

/** Fingerprint fields that decide whether a speed model describes this machine (not node or rtsr versions). */
const SAME_DEVICE = ['cpu', 'cores', 'os', 'runner', 'target', 'compiler', 'threads'] as const;

/** The shipped speed model when it was measured on a device like this one, else one profiled and fitted into
 *  the output folder (a speed model from another machine would steer the search to the wrong widths). */
async function speedModelFor(run: SearchRun): Promise<{ model: SpeedModel; path: string }> {
  if (run.deviceProfile) {
    const profile = readProfile(run.deviceProfile);
    checkSetup(profileSetup(profile), { scale: run.scale, input: run.input }, run.deviceProfile);
    const path = join(run.outDir, 'device.model.json');
    const model = fitSpeedModel(profile, run.deviceProfile);
    model.save(path);
    return { model, path };
  }
  const setup = { target: run.target.name, scale: run.scale, input: run.input };
  const runner = await createRunner({ target: run.target, scale: run.scale, h: run.input.h, w: run.input.w });
  const here = deviceFingerprint(runner.info);
  const shipped = join(PACKAGE_ROOT, modelPathFor(defaultProfilePath(setup)));
  const profilePath = join(run.outDir, 'profile.json');
  const modelPath = modelPathFor(profilePath);
  for (const path of [shipped, modelPath]) {
    if (!existsSync(path)) continue;
    const model = SpeedModel.load(path);
    const differs = SAME_DEVICE.filter((k) => model.data.device[k] !== here[k]);
    if (differs.length === 0) return { model, path };
    run.log(`${path} was measured on another device (${differs.map((k) => `${k}: ${model.data.device[k]} vs ${here[k]}`).join('; ')})`);
  }
  run.log(`no speed model for this device (${run.target.name} ×${run.scale} at ${run.input.w}x${run.input.h}): profiling it (resumable)…`);
  const profile = await runProfile(runner, {
    out: profilePath, scale: run.scale, input: run.input, samples: run.quick ? 40 : 400, seed: 1,
    warmup: 1, repeats: run.quick ? 5 : 15, batch: 24, log: run.log,
  });
  const model = fitSpeedModel(profile, profilePath);
  model.save(modelPath);
  return { model, path: modelPath };
}

export async function search(run: SearchRun): Promise<SearchReport> {
  const t0 = performance.now();
  // Checks the scale (the supernet's spec) before anything is profiled.
  const uncalibrated = searchConfig(run);
  // Zoo models of this scale and the given baselines, timed beside the searched one at the end; read (and
  // checked) now, not after hours of search.
  const others = [...zooNames().map((name) => ({ name, ...findModel(name) })).filter((z) => z.model.scale === run.scale), ...run.baselines.map((path) => ({ name: path, ...findModel(path) }))];
  for (const o of others) if (o.model.scale !== run.scale) throw new Error(`baseline ${o.path} is a ×${o.model.scale} model; the search is ×${run.scale}`);
  const speed = await speedModelFor(run);
  run.log(`speed model: ${speed.path}`);
  const predictor = speedModelPredictor(speed.model);
  const timing = { target: run.target, threads: run.target.defaultThreads(), warmup: 3, repeats: 15 };
  // The median of three windows' medians: the target follows this figure, and one window can be disturbed
  // (one here read 41.7 ms for a network that reads 34.8 quiet).
  // A device profile's networks cannot be timed from here: its speed model (whose composition factor was fitted
  // on whole networks timed on that device) stands in for the measurement, so the target is the budget itself.
  const timeReference = run.deviceProfile ? async (spec: WdsrSpec) => speed.model.specMs(spec) : async (spec: WdsrSpec) => {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) ms.push((await timeModels([Model.init(spec, 0)], run.input.w, run.input.h, timing))[0]);
    return median(ms);
  };
  const cal = await calibrate(join(run.outDir, 'calibration.json'), uncalibrated.supernet, run.budgetMs, predictor, timeReference, run.log);
  run.log(`calibration: ${cal.reference.blocks.length} blocks × C ${cal.reference.channels} predicted ${cal.predicted_ms.toFixed(1)} ms, measured ${cal.measured_ms.toFixed(1)} ms: target ${cal.target_ms.toFixed(1)} ms predicted for the ${run.budgetMs} ms budget`);
  assertReachable(cal, predictor);
  assertBelowSupernet(cal, uncalibrated.supernet, predictor);
  const cfg: SearchConfig = { ...uncalibrated, targetMs: cal.target_ms };
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
  });
  // Stage time counts every process that worked on a stage (a resumed search adds up), the rest only this one.
  const earlierSeconds = Object.values(result.stageSeconds).reduce((a, b) => a + b, 0) - (performance.now() - tSearch) / 1000;
  if (!result.model) throw new Error(`search interrupted; run the same command again to resume from ${run.outDir}`);
  const spec = result.model.spec as WdsrSpec;
  const scores = await evaluate(modelUpscaler(result.model, 'searched', run.target), run.dataDir, run.evalSets);
  // Timed side by side as `rtsr bench --model … --model …` does.
  const [measured, ...othersMs] = await timeModels([result.model, ...others.map((o) => o.model)], run.input.w, run.input.h, timing);
  const report: SearchReport = {
    architecture: spec,
    budget_ms: run.budgetMs,
    predicted_ms: result.predictedMs,
    measured_ms: measured,
    supernet_predicted_ms: result.supernetMs,
    calibration: cal,
    trimmed_channels: result.trimmedChannels ?? 0,
    filled_blocks: result.filledBlocks ?? 0,
    filled_channels: result.filledChannels ?? 0,
    metrics: psnrSsim(scores.sets),
    search_seconds: (performance.now() - t0) / 1000 + earlierSeconds,
    stage_seconds: result.stageSeconds,
    compared: others.map((o, i) => ({ model: o.name, arch: o.model.spec, measured_ms: othersMs[i], metrics: psnrSsim(o.info.metrics ?? {}) })),
    width_gradient: run.widthGradient,
    gate_worth: run.gateWorth,
    finetune_recipe: cfg.recipe?.name ?? 'none (L1)',
    ...(run.teacherPath ? { teacher: run.teacherPath } : {}),
    input: `${run.input.w}x${run.input.h}`,
    speed_model: speed.path,
    measured_on: run.deviceProfile
      ? `this machine's ${run.target.name} target, not the device of ${run.deviceProfile}: there, predicted_ms is the estimate`
      : `this machine's ${run.target.name} target`,
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

function reportMarkdown(r: SearchReport): string {
  const sets = Object.keys(r.metrics);
  const rows = Object.entries(r.metrics).map(([s, m]) => `| ${s} | ${m.psnr.toFixed(2)} | ${m.ssim.toFixed(4)} |`);
  return [
    `# Search result (×${r.architecture.scale}, ${r.input}, budget ${r.budget_ms} ms)`,
    '',
    `- architecture: \`${JSON.stringify(r.architecture)}\``,
    `- predicted ${r.predicted_ms.toFixed(1)} ms (supernet ${r.supernet_predicted_ms.toFixed(1)} ms; ${r.trimmed_channels} channels trimmed to meet the target, ${r.filled_blocks} skipped blocks and ${r.filled_channels} channels turned on where it left room), measured ${r.measured_ms.toFixed(1)} ms on ${r.measured_on}`,
    `- target ${r.calibration.target_ms.toFixed(1)} ms predicted: a reference \`${JSON.stringify(r.calibration.reference)}\` was predicted at ${r.calibration.predicted_ms.toFixed(1)} ms and measured ${r.calibration.measured_ms.toFixed(1)} ms before the search`,
    `- latency gradient to the widths: ${r.width_gradient ? 'yes (rtsr)' : "no (the seed's release)"}; what a channel is worth: ${r.gate_worth === 'taylor' ? 'Taylor (rtsr)' : "straight-through (the seed's)"}`,
    `- fine-tune recipe: ${r.finetune_recipe}${r.teacher ? `, distilled from ${r.teacher}` : ''}`,
    `- search time: ${(r.search_seconds / 60).toFixed(1)} min; speed model: ${r.speed_model}`,
    '',
    '| set | PSNR (dB) | SSIM |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
    `Measured in the same rounds on ${r.measured_on} (PSNR on ${sets.join(' / ')}, as stored in each model file):`,
    '',
    '| model | ms | within budget | PSNR |',
    '| --- | ---: | --- | --- |',
    `| **searched** | ${r.measured_ms.toFixed(1)} | ${r.measured_ms <= r.budget_ms ? 'yes' : 'no'} | ${sets.map((s) => r.metrics[s].psnr.toFixed(2)).join(' / ')} |`,
    ...r.compared.map((c) => `| ${c.model} | ${c.measured_ms.toFixed(1)} | ${c.measured_ms <= r.budget_ms ? 'yes' : 'no'} | ${sets.map((s) => c.metrics[s]?.psnr.toFixed(2) ?? '—').join(' / ')} |`),
    '',
  ].join('\n');
}
