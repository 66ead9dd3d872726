#!/usr/bin/env node
// Training sets' images cropped by (dx, dy) pixels at the top-left, written as sets of their own: at scale s the
// LR of a copy samples the same picture at another phase of the s×s grid (an LR pixel averages other HR pixels),
// so each shift is a new LR/HR pair at full HR sharpness (docs/training.md, "Fine-tuning on downscaled copies at
// ×4": the row with shifted copies).
//
// Usage: node scripts/shifted-sets.mjs DATA_DIR OUT_DIR SET[,SET…] DX,DY[;DX,DY…]
//   → OUT_DIR/<SET>s<dx><dy>/HR/<name>.png, e.g. BSD200s20 for (2, 0); link the sets you also need into OUT_DIR.
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { listImages } from '../dist/src/data/datasets.js';
import { crop } from '../dist/src/image/image.js';
import { readImage, writePng } from '../dist/src/image/io.js';

const [data, out, sets, shifts] = process.argv.slice(2);
if (!shifts) {
  console.error('usage: node scripts/shifted-sets.mjs DATA_DIR OUT_DIR SET[,SET…] DX,DY[;DX,DY…]');
  process.exit(2);
}
const offsets = shifts.split(';').map((s) => s.split(',').map(Number));
if (!offsets.every((o) => o.length === 2 && o.every((v) => Number.isInteger(v) && v >= 0 && v < 16))) {
  console.error(`shifts must be DX,DY pairs of integers in [0, 16), got '${shifts}'`);
  process.exit(2);
}
for (const set of sets.split(',')) {
  for (const path of await listImages(data, set)) {
    const img = await readImage(path);
    for (const [dx, dy] of offsets) {
      const dir = join(out, `${set}s${dx}${dy}`, 'HR');
      mkdirSync(dir, { recursive: true });
      await writePng(join(dir, `${basename(path, extname(path))}.png`), crop(img, dx, dy, img.width - dx, img.height - dy));
    }
  }
}
