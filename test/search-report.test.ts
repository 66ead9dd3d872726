// What report.md's first lines say, from report fields: the target a network without blocks missed is the one it
// was derived at, and the model to use instead is named only when it fits and scores higher.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetLines } from '../src/search/report.js';
import type { SearchReport } from '../src/search/run.js';

const set5 = (psnr: number) => ({ Set5: { psnr, ssim: 0.9 } });
const base = {
  budget_ms: 33,
  measured_ms: 30.1,
  metrics: set5(34.57),
  architecture: { arch: 'wdsr-b', scale: 2, channels: 8, blocks: [] },
  calibration: { budget_ms: 33, references: [], scale: 1.84, target_ms: 17.9 },
  derived_target_ms: 17.9,
  machine: { cpu: 'AMD EPYC (family 26, model 2)', cores: 2, target: 'wasm', threads: 2 },
  measured_machine: { busy: false, windows: 3, others_cores: 0, spread: 0.05, disagreement: 1 },
  speed_model: 'profiles/wasm-x2-640x360.model.json',
  speed_model_source: 'this machine',
  quick: true,
  compared: [],
} as unknown as SearchReport;

test('no block fits: the line names the target the network was derived at, and where it came from', () => {
  const lines = (r: Partial<SearchReport>) => budgetLines({ ...base, ...r }).join('\n');
  assert.match(lines({ no_block_fits_ms: 19.2 }), /predicted at 19\.2 ms, over the 17\.9 ms target\. It bought C 8, no blocks: 30\.1 ms measured, Set5 34\.57 dB\./);
  assert.match(lines({ no_block_fits_ms: 15.5, derived_target_ms: 11.5 }), /predicted at 15\.5 ms, over the 11\.5 ms target \(lowered from 17\.9: with a block it measured over the budget here\)\./);
});

test('the model to use instead: the highest-scoring one that fits, only when it beats the search', () => {
  const compared = [
    { model: 'a', arch: {}, measured_ms: 20, metrics: set5(36) },
    { model: 'b', arch: {}, measured_ms: 40, metrics: set5(37) },
    { model: 'c', arch: {}, measured_ms: 32, metrics: set5(36.5) },
  ] as unknown as SearchReport['compared'];
  const lines = budgetLines({ ...base, compared });
  assert.ok(lines.includes('Within the budget here, c scores highest (36.50 dB on Set5, 32.0 ms): --quick trains for minutes to show the pipeline; use that model, or run the full search (docs/search.md).'), lines.join('\n'));
  assert.ok(!budgetLines({ ...base, compared, metrics: set5(36.6) }).some((l) => l.startsWith('Within the budget here')));
  assert.ok(budgetLines({ ...base, compared, quick: false }).includes('Within the budget here, c scores highest (36.50 dB on Set5, 32.0 ms).'));
});
