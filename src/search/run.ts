// `rtsr search` end to end: a speed model for this device (the shipped one when it fits, else profiled and
// fitted here), the staged search, then the derived network evaluated, measured through the same runner the
// profile used, and reported (report.md, report.json, a PSNR-vs-latency plot).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { PatchSampler } from '../data/patches.js';
import { evaluate } from '../eval/evaluate.js';
import { fitSpeedModel } from '../latency/fit.js';
import { summarize, timeRound } from '../latency/measure.js';
import { defaultProfilePath, deviceFingerprint } from '../latency/profile-file.js';
import { runProfile } from '../latency/profiler.js';
import { createRunner, type Part } from '../latency/runner.js';
import { modelPathFor, SpeedModel } from '../latency/speed-model.js';
import { saveModel } from '../models/model-file.js';
import type { Model } from '../models/model.js';
import { parseArch } from '../models/registry.js';
import { modelUpscaler } from '../models/upscaler.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { findModel, zooNames } from '../models/zoo.js';
import { patchSource } from '../train/data.js';
import { writeFileAtomic } from '../util/atomic.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { Rng } from '../util/random.js';
import { svgPlot } from '../util/svg-plot.js';
import { speedModelPredictor } from './latency-loss.js';
import { runSearch, type SearchConfig } from './stages.js';

export interface SearchRun {
  scale: number;
  budgetMs: number;
  input: { w: number; h: number };
  backend: Backend;
  dataDir: string;
  trainSets: string[];
  evalSets: string[];
  outDir: string;
  quick: boolean;
  widthGradient: boolean;
  seed: number;
  log: (line: string) => void;
}

export interface SearchReport {
  architecture: WdsrSpec;
  budget_ms: number;
  predicted_ms: number;
  measured_ms: number;
  supernet_predicted_ms: number;
  metrics: Record<string, { psnr: number; ssim: number }>;
  search_seconds: number;
  width_gradient: boolean;
  input: string;
  speed_model: string;
}

/** The seed's supernet and a schedule that fits ≤ 3 h here; --quick: a small supernet and a few minutes. */
export function searchConfig(run: Pick<SearchRun, 'scale' | 'budgetMs' | 'quick' | 'widthGradient' | 'seed'>): SearchConfig {
  const q = run.quick;
  return {
    supernet: parseArch(q ? 'wdsr-b-4x16' : 'wdsr-b-16x24', run.scale) as WdsrSpec,
    budgetMs: run.budgetMs,
    steps: q ? { pretrain: 150, width: 100, joint: 150, finetune: 150 } : { pretrain: 20000, width: 5000, joint: 10000, finetune: 20000 },
    batch: 16,
    patch: q ? 32 : 48,
    lr: 1e-3,
    // Quick runs have too few steps for the seed's gate rates to flip a depth gate (keep ≈ 0.9 vs skip ≈ 0.1).
    gateLr: q ? { width: 0.02, joint: 0.02 } : { width: 0.01, joint: 0.004 },
    gamma: 0.1,
    widthGradient: run.widthGradient,
    seed: run.seed,
    valEvery: q ? 0 : 5000,
    checkpointEvery: q ? 100 : 1000,
  };
}

/** Fingerprint fields that decide whether a speed model describes this machine (not node or rtsr versions). */
const SAME_DEVICE = ['cpu', 'cores', 'os', 'runner', 'backend', 'compiler', 'threads'] as const;

/** The shipped speed model when it was measured on a device like this one, else one profiled and fitted into
 *  the output folder (a speed model from another machine would steer the search to the wrong widths). */
async function speedModelFor(run: SearchRun): Promise<{ model: SpeedModel; path: string }> {
  const setup = { backend: run.backend.name, scale: run.scale, input: run.input };
  const runner = await createRunner({ backend: run.backend, scale: run.scale, h: run.input.h, w: run.input.w });
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
  run.log(`no speed model for this device (${run.backend.name} ×${run.scale} at ${run.input.w}x${run.input.h}): profiling it (resumable)…`);
  const profile = runProfile(runner, {
    out: profilePath, scale: run.scale, input: run.input, samples: run.quick ? 40 : 400, seed: 1,
    warmup: 1, repeats: run.quick ? 5 : 15, batch: 24, log: run.log,
  });
  const model = fitSpeedModel(profile, profilePath);
  model.save(modelPath);
  return { model, path: modelPath };
}

/** Median ms of whole WDSR-B networks on this device, timed in interleaved rounds as the profile was. */
async function measureWdsr(run: SearchRun, specs: WdsrSpec[]): Promise<number[]> {
  const runner = await createRunner({ backend: run.backend, scale: run.scale, h: run.input.h, w: run.input.w });
  const parts: Part[] = specs.map((s) => ({ kind: 'model', c: s.channels, blocks: s.blocks }));
  runner.prepare(parts);
  const rng = new Rng(run.seed);
  const rounds = Array.from({ length: 11 }, () => timeRound(runner, parts, rng, () => performance.now()));
  return parts.map((_, i) => summarize(rounds.slice(1).map((r) => r[i])).ms);
}

export async function search(run: SearchRun): Promise<SearchReport> {
  const t0 = performance.now();
  const cfg = searchConfig(run);
  const speed = await speedModelFor(run);
  run.log(`speed model: ${speed.path}`);
  const sampler = await PatchSampler.load(run.dataDir, run.trainSets, run.scale);
  const data = patchSource(sampler, run.seed, cfg.batch, cfg.patch);
  const validate = async (m: Model) => (await evaluate(modelUpscaler(m, 'search'), run.dataDir, [run.evalSets[0]])).sets[run.evalSets[0]].psnr;
  const result = await runSearch(cfg, speedModelPredictor(speed.model), join(run.outDir, 'stages'), {
    data,
    validate: cfg.valEvery ? validate : undefined,
    onStage: (s) => run.log(`stage: ${s}`),
  });
  if (!result.model) throw new Error(`search interrupted; run the same command again to resume from ${run.outDir}`);
  const spec = result.model.spec as WdsrSpec;
  const scores = await evaluate(modelUpscaler(result.model, 'searched'), run.dataDir, run.evalSets);
  const zoo = zooNames()
    .map((name) => findModel(name))
    .filter((z) => z.model.scale === run.scale && z.model.spec.arch === 'wdsr-b');
  const [measured, ...zooMs] = await measureWdsr(run, [spec, ...zoo.map((z) => z.model.spec as WdsrSpec)]);
  const report: SearchReport = {
    architecture: spec,
    budget_ms: run.budgetMs,
    predicted_ms: result.predictedMs,
    measured_ms: measured,
    supernet_predicted_ms: result.supernetMs,
    metrics: Object.fromEntries(Object.entries(scores.sets).map(([k, v]) => [k, { psnr: v.psnr, ssim: v.ssim }])),
    search_seconds: (performance.now() - t0) / 1000,
    width_gradient: run.widthGradient,
    input: `${run.input.w}x${run.input.h}`,
    speed_model: speed.path,
  };
  saveModel(join(run.outDir, 'model.rtsr'), result.model, { training: { search: cfg, seconds: Math.round(report.search_seconds) }, metrics: scores.sets });
  writeFileAtomic(join(run.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(run.outDir, 'report.md'), reportMarkdown(report));
  const set = run.evalSets[0];
  const zooPoints = zoo.flatMap((z, i): [number, number][] => (z.info.metrics?.[set] ? [[zooMs[i], z.info.metrics[set].psnr]] : []));
  writeFileSync(
    join(run.outDir, 'plot.svg'),
    svgPlot(
      [
        { label: 'searched', points: [[measured, report.metrics[set].psnr]], style: 'points', color: '#d62728' },
        { label: 'zoo (WDSR-B)', points: zooPoints, style: 'points', color: '#1f77b4' },
        { label: `budget ${run.budgetMs} ms`, points: [[run.budgetMs, report.metrics[set].psnr - 0.5], [run.budgetMs, report.metrics[set].psnr + 0.5]], style: 'line', color: '#999' },
      ],
      { title: `${set} PSNR vs measured latency (${report.input}, ×${run.scale})`, xLabel: 'ms per frame', yLabel: 'PSNR (dB)' },
    ),
  );
  return report;
}

function reportMarkdown(r: SearchReport): string {
  const rows = Object.entries(r.metrics).map(([s, m]) => `| ${s} | ${m.psnr.toFixed(2)} | ${m.ssim.toFixed(4)} |`);
  return [
    `# Search result (×${r.architecture.scale}, ${r.input}, budget ${r.budget_ms} ms)`,
    '',
    `- architecture: \`${JSON.stringify(r.architecture)}\``,
    `- predicted ${r.predicted_ms.toFixed(1)} ms (supernet ${r.supernet_predicted_ms.toFixed(1)} ms), measured ${r.measured_ms.toFixed(1)} ms`,
    `- latency gradient to the widths: ${r.width_gradient ? 'yes (rtsr)' : "no (the seed's release)"}`,
    `- search time: ${(r.search_seconds / 60).toFixed(1)} min; speed model: ${r.speed_model}`,
    '',
    '| set | PSNR (dB) | SSIM |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
}
