#!/usr/bin/env node
// Extra training photographs (issue #21: more content for ×4 than T91 + BSD200's 291 images) from Debian's
// wallpaper packages, each photo under an open licence named in its package's /usr/share/doc/<pkg>/copyright:
// lomiri-wallpapers-16.04 and -20.04 (CC-BY-4.0, CC-BY-SA-4.0), mate-backgrounds and plasma-workspace-wallpapers
// (GPL-2+). Only photographs (the packages' renders and abstract art are left out), none of them in Set5,
// Set14, B100, Urban100 or the drawn images. Each is scaled down by MATLAB's bicubic to LONG pixels on its
// longer side (a wallpaper's pixels are soft and JPEG-coded; scaled down they are as sharp as the benchmark
// sets'), cut into TILE×TILE tiles, and a tile with less detail than the least detailed tenth of BSD200
// (mean |Laplacian| of Y: sky, bokeh) is passed over. Deterministic. Added to the ×4 fine-tune they did not help
// (docs/training.md, "Fine-tuning on downscaled copies at ×4"): no recipe uses them.
//
// Usage: apt-get install lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers
//        node scripts/photo-set.mjs DATA_DIR OUT_DIR [LONG=1280] [TILE=320]
//   → OUT_DIR/Photos/HR/<photo>-<row>-<col>.png and OUT_DIR/Photos/manifest.tsv (tile, source, its sha256);
//   DATA_DIR holds BSD200 (the detail threshold). Train on it with --train-sets T91,BSD200,Photos and a data
//   folder holding all three (links).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listImages } from '../dist/src/data/datasets.js';
import { crop } from '../dist/src/image/image.js';
import { readImage, writePng } from '../dist/src/image/io.js';
import { resizeImage } from '../dist/src/image/resize.js';

const BG = '/usr/share/backgrounds';
const PLASMA = '/usr/share/wallpapers';
const PHOTOS = [
  ...['Bridge_by_Sander_Klootwijk', 'Dragonfly_by_Bolly', 'Kleiber_by_Lukas_Baubkus', 'Picture_0B_by_freespace',
    'Picture_1A_by_freespace', 'Wine_by_Jakkub_Mede', 'aitzgorri_by_Aitzol_Berasategi', 'free_by_Peter_Nerlich',
    'friends_by_Aitzol_Berasategi', 'greentock_by_Peter_Nerlich', 'life_by_Aitzol_Berasategi',
    'picosdeeuropa_by_Aitzol_Berasategi', 'seeding_by_Clements_Engelhardt', 'sunset_by_Aitzol_Berasategi']
    .map((n) => join(BG, `${n}.jpg`)),
  ...['Aqua', 'Blinds', 'Dune', 'FreshFlower', 'Garden', 'GreenMeadow', 'LadyBird', 'RainDrops', 'Storm', 'TwoWings',
    'Wood', 'YellowFlower'].map((n) => join(BG, 'mate', 'nature', `${n}.jpg`)),
  ...['BytheWater', 'ColdRipple', 'ColorfulCups', 'DarkestHour', 'EveningGlow', 'FallenLeaf', 'Grey', 'Kite',
    'OneStandsOut', 'Path', 'summer_1am'].map(largestPlasma),
];

const [data, out, long = '1280', tile = '320'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/photo-set.mjs DATA_DIR OUT_DIR [LONG=1280] [TILE=320]');
  process.exit(2);
}
const missing = PHOTOS.filter((f) => !existsSync(f));
if (missing.length) {
  console.error(`missing ${missing.join(', ')}: apt-get install lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers`);
  process.exit(2);
}
const L = Number(long);
const T = Number(tile);

/** Mean |4-neighbour Laplacian| of Y (BT.601, 0–255) over an image's interior. */
function detail(img) {
  const { width: w, height: h, data: d } = img;
  const y = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) y[i] = 0.257 * d[3 * i] + 0.504 * d[3 * i + 1] + 0.098 * d[3 * i + 2];
  let s = 0;
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      s += Math.abs(4 * y[i] - y[i - 1] - y[i + 1] - y[i - w] - y[i + w]);
    }
  }
  return s / ((w - 2) * (h - 2));
}

const bsd = await Promise.all((await listImages(data, 'BSD200')).map(async (f) => detail(await readImage(f))));
bsd.sort((a, b) => a - b);
const threshold = bsd[Math.floor(bsd.length / 10)];
const hr = join(out, 'Photos', 'HR');
mkdirSync(hr, { recursive: true });
const rows = ['tile\tsource\tsha256'];
let passed = 0;
for (const f of PHOTOS) {
  const img = await readImage(f);
  const scaled = resizeImage(img, Math.min(1, L / Math.max(img.width, img.height)));
  const nx = Math.floor(scaled.width / T);
  const ny = Math.floor(scaled.height / T);
  const x0 = Math.floor((scaled.width - nx * T) / 2);
  const y0 = Math.floor((scaled.height - ny * T) / 2);
  const source = createHash('sha256').update(readFileSync(f)).digest('hex');
  const name = f.startsWith(PLASMA) ? f.split('/')[4] : basename(f, '.jpg');
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const t = crop(scaled, x0 + c * T, y0 + r * T, T, T);
      if (detail(t) < threshold) {
        passed++;
        continue;
      }
      const file = `${name}-${r}-${c}.png`;
      await writePng(join(hr, file), t);
      rows.push(`${file}\t${f}\t${source}`);
    }
  }
}
writeFileSync(join(out, 'Photos', 'manifest.tsv'), `${rows.join('\n')}\n`);
console.log(`${rows.length - 1} tiles from ${PHOTOS.length} photos in ${hr}; ${passed} passed over (detail < ${threshold.toFixed(2)}, BSD200's 10th percentile)`);

/** A Plasma wallpaper's largest image (its packages ship one picture at several sizes). */
function largestPlasma(name) {
  const dir = join(PLASMA, name, 'contents', 'images');
  if (!existsSync(dir)) return dir;
  const files = readdirSync(dir).map((f) => join(dir, f));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}
