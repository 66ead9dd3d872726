// The recipe ablation as a markdown table: per row of scripts/train-recipe.sh, PSNR on each benchmark set as
// stored in the row's model file (`rtsr eval --save-metrics`), its gain over the baseline row, and training time.
// Usage: node scripts/ablation-table.mjs DIR ROW…   (rows without a model file yet are listed as missing)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../dist/src/models/model-io.js';

const [dir, ...rows] = process.argv.slice(2);
if (!dir || rows.length === 0) {
  console.error('usage: node scripts/ablation-table.mjs DIR ROW…');
  process.exit(2);
}
// Drawn: held-out drawings (scripts/drawn-set.mjs), where a recipe that only fits photographs would show.
const SETS = ['Set5', 'Set14', 'B100', 'Urban100', 'Drawn'];
const read = (row) => {
  const path = join(dir, row, 'model.rtsr');
  return existsSync(path) ? loadModel(path).info : null;
};
const base = read('baseline')?.metrics;
const cell = (m, set) => {
  const v = m?.[set]?.psnr;
  if (v === undefined) return '—';
  const d = base?.[set] ? v - base[set].psnr : NaN;
  return Number.isNaN(d) ? v.toFixed(2) : `${v.toFixed(2)} (${d >= 0 ? '+' : ''}${d.toFixed(2)})`;
};
console.log(`| row | ${SETS.join(' | ')} | steps | hours |`);
console.log(`| --- | ${SETS.map(() => '---:').join(' | ')} | ---: | ---: |`);
const missing = [];
for (const row of rows) {
  const info = read(row);
  if (!info) {
    missing.push(row);
    continue;
  }
  const t = info.training ?? {};
  console.log(`| ${row} | ${SETS.map((s) => cell(info.metrics, s)).join(' | ')} | ${t.steps ?? '?'} | ${t.seconds ? (t.seconds / 3600).toFixed(1) : '?'} |`);
}
if (missing.length) console.log(`\nnot trained yet: ${missing.join(', ')} (scripts/train-recipe.sh DATA ${missing.map((r) => `ablation-x2:${r}`).join(' ')})`);
