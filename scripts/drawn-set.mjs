#!/usr/bin/env node
// A held-out benchmark set of drawn images (issue #21: quality beyond photographs), built from Debian's
// `openclipart-svg` (the Open Clip Art Library, public domain: /usr/share/doc/openclipart-svg/copyright).
// Deterministic: the SVGs are taken in the order of a hash of their path, rendered by sharp (librsvg) large and
// scaled down to fit SIZE×SIZE (anti-aliased edges, as drawings on screens are), flattened on white; an image
// that fails to render, is mostly blank or has too little detail is passed over. Nothing here is used in training.
//
// Usage: node scripts/drawn-set.mjs OUT_DIR [COUNT=100] [SIZE=480]
//   → OUT_DIR/Drawn/HR/NNN.png and OUT_DIR/Drawn/manifest.tsv (file, source SVG, its sha256);
//   then: npx rtsr eval --model NAME --data OUT_DIR --sets Drawn
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';

const ROOT = '/usr/share/openclipart/svg';
const [out, count = '100', size = '480'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/drawn-set.mjs OUT_DIR [COUNT=100] [SIZE=480]');
  process.exit(2);
}
let files;
try {
  files = walk(ROOT);
} catch {
  console.error(`${ROOT} is missing: install Debian's openclipart-svg (apt-get install openclipart-svg)`);
  process.exit(2);
}
const N = Number(count);
const S = Number(size);
const sha = (b) => createHash('sha256').update(b).digest('hex');
files.sort((a, b) => sha(relative(ROOT, a)).localeCompare(sha(relative(ROOT, b))));
const hr = join(out, 'Drawn', 'HR');
mkdirSync(hr, { recursive: true });
const rows = ['file\tsource\tsha256'];
let skipped = 0;
for (const f of files) {
  if (rows.length > N) break;
  const svg = readFileSync(f);
  const png = await render(svg);
  if (!png) {
    skipped++;
    continue;
  }
  const name = `${String(rows.length).padStart(3, '0')}.png`;
  writeFileSync(join(hr, `${name}.tmp`), png);
  renameSync(join(hr, `${name}.tmp`), join(hr, name));
  rows.push(`${name}\t${relative(ROOT, f)}\t${sha(svg)}`);
}
writeFileSync(join(out, 'Drawn', 'manifest.tsv'), rows.join('\n') + '\n');
console.log(`${hr}: ${rows.length - 1} images (${skipped} SVGs passed over) from ${ROOT}`);

function walk(dir) {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.svg') ? [p] : [];
  });
}

/** The drawing as a PNG fitting S×S on white, or null when it does not render or has too little in it: under a
 *  tenth of its pixels inked, or a side under S/3 (a line or an icon strip). */
async function render(svg) {
  try {
    const big = await sharp(svg, { density: 300, limitInputPixels: 1e8 })
      .resize(S * 2, S * 2, { fit: 'inside' })
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer();
    const { data, info } = await sharp(big).resize(S, S, { fit: 'inside', kernel: 'lanczos3' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (Math.min(info.width, info.height) < S / 3) return null;
    let inked = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i] + data[i + 1] + data[i + 2] < 3 * 240) inked++;
    if (inked < 0.1 * info.width * info.height) return null;
    return sharp(data, { raw: info }).png().toBuffer();
  } catch {
    return null;
  }
}
