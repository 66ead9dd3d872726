#!/usr/bin/env node
// What the current trim and fill rules derive from finished searches' joint-stage gates, beside what each search
// derived when it ran: the check behind docs/search.md's "on the four full runs' joint checkpoints".
// Usage: npm run build && scripts/derive-from-joint.mjs SEARCH_DIR…   (each with report.json and stages/joint)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const dist = new URL('../dist/src/', import.meta.url);
const load = (m) => import(new URL(m, dist).href);
const { loadCheckpoint, restoreState } = await load('train/checkpoint.js');
const { SpeedModel } = await load('latency/speed-model.js');
const { Supernet } = await load('search/supernet.js');
const { speedModelPredictor, predictedMs } = await load('search/latency-loss.js');
const { deriveWithinBudget, supernetState } = await load('search/stages.js');

for (const dir of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  const predictor = speedModelPredictor(SpeedModel.load(report.speed_model));
  const path = join(dir, 'stages', 'joint', 'checkpoint.rtsr');
  const ck = loadCheckpoint(path);
  const net = Supernet.init(ck.subject.supernet, 0);
  restoreState(path, ck.state, supernetState(net));
  const target = report.calibration?.target_ms ?? report.budget_ms; // the first runs had no calibration
  const last = predictedMs(net, predictor, { depth: true, widthGradient: false }).data[0];
  const { model, predicted, trimmed, filled } = deriveWithinBudget(net, predictor, target);
  console.log(`${dir}: target ${target.toFixed(1)} ms, joint's last step ${last.toFixed(1)}, trimmed ${trimmed}, filled ${filled.blocks} blocks and ${filled.channels} channels → ${predicted.toFixed(1)} ms`);
  console.log(`  now: ${JSON.stringify(model.spec)}\n  ran: ${JSON.stringify(report.architecture)}`);
}
