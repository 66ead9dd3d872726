#!/usr/bin/env node
// Training sets' images downscaled as the `downscales` recipe field makes them (after the scale's modcrop, by
// MATLAB's bicubic), written as sets of their own: a run can then train on copies without some originals
// (docs/training.md, "Fine-tuning on downscaled copies at ×4": the row without the BSD200 JPEGs).
//
// Usage: node scripts/downscaled-sets.mjs DATA_DIR OUT_DIR SCALE SET[,SET…] F[,F…]
//   → OUT_DIR/<SET>d<10·F>/HR/<name>.png, e.g. BSD200d9 for 0.9; link the sets you also need into OUT_DIR.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listImages, loadPair } from '../dist/src/data/datasets.js';
import { writePng } from '../dist/src/image/io.js';
import { resizeImage } from '../dist/src/image/resize.js';

const [data, out, scale, sets, factors] = process.argv.slice(2);
if (!factors) {
  console.error('usage: node scripts/downscaled-sets.mjs DATA_DIR OUT_DIR SCALE SET[,SET…] F[,F…]');
  process.exit(2);
}
for (const set of sets.split(',')) {
  for (const path of await listImages(data, set)) {
    const pair = await loadPair(path, Number(scale));
    for (const f of factors.split(',').map(Number)) {
      const dir = join(out, `${set}d${Math.round(f * 10)}`, 'HR');
      mkdirSync(dir, { recursive: true });
      await writePng(join(dir, `${pair.name}.png`), resizeImage(pair.hr, f));
    }
  }
}
