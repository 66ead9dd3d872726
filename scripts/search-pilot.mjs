#!/usr/bin/env node
// Gate-dynamics pilot behind docs/search.md: the real ×2 search's stages (runSearch, searchConfig) from an
// already pretrained supernet, with short width and joint stages at 32×32 and the below-target pull and the
// gate clip as arguments, so a change to the gates is tried in minutes instead of hours.
// Usage: scripts/search-pilot.mjs DATA_DIR OUT WIDTH_STEPS JOINT_STEPS BELOW CLIP(0|1) [WORTH]
//   with OUT/stages/pretrain a copy of a finished search's stages/pretrain (e.g. runs/search-x2-33ms).
// docs/search.md's pilots: `… 400 1000 0.5 0` (pull alone), `… 300 800 0.5 1` (pull and clip), `… 300 800 0.5 1 taylor`.
import { join } from 'node:path';
const dist = new URL('../dist/src/', import.meta.url);
const load = (m) => import(new URL(m, dist).href);
const { selectBackend } = await load('backends/index.js');
const { useBackend } = await load('engine/tensor.js');
const { SpeedModel } = await load('latency/speed-model.js');
const { speedModelPredictor } = await load('search/latency-loss.js');
const { runSearch } = await load('search/stages.js');
const { searchConfig } = await load('search/run.js');
const { PatchSampler } = await load('data/patches.js');
const { patchSource } = await load('train/data.js');

const [data, out, width, joint, below, clip, worth] = process.argv.slice(2);
if (clip === undefined) throw new Error('usage: scripts/search-pilot.mjs DATA_DIR OUT WIDTH_STEPS JOINT_STEPS BELOW CLIP(0|1) [WORTH: straight-through|taylor]');
useBackend(await selectBackend('native'));
const real = searchConfig({ scale: 2, budgetMs: 33, quick: false, widthGradient: true, gateWorth: worth ?? 'straight-through', seed: 0 });
const cfg = {
  ...real, patch: 32, belowTarget: Number(below), gateRange: clip === '1' ? real.gateRange : undefined, valEvery: 0, checkpointEvery: 1e9,
  steps: { ...real.steps, width: Number(width), joint: Number(joint), finetune: 1 },
};
const predictor = speedModelPredictor(SpeedModel.load(new URL('../profiles/native-x2-640x360.model.json', import.meta.url).pathname));
const batches = patchSource(await PatchSampler.load(data, ['T91', 'BSD200'], 2), real.seed, cfg.batch, cfg.patch);
const r = await runSearch(cfg, predictor, join(out, 'stages'), { data: batches, quiet: true });
console.log(`predicted ${r.predictedMs.toFixed(1)} ms, ${r.trimmedChannels} channels trimmed, ${JSON.stringify(r.model.spec)}`);
console.log(`per-100-step means (predicted vs target ms): ${join(out, 'stages', 'width', 'log.jsonl')}, ${join(out, 'stages', 'joint', 'log.jsonl')}`);
