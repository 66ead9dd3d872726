// scripts/drawn-set.mjs: the held-out drawn images are what its manifest says (each PNG from the SVG whose sha256
// is recorded), fit the box, carry no alpha, are inked enough, and come out the same on a second build.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const SVG = '/usr/share/openclipart/svg';
const skip = existsSync(SVG) ? false : `${SVG} is missing (Debian's openclipart-svg)`;

test('drawn-set builds a deterministic held-out set of drawings from openclipart-svg', { skip }, async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'rtsr-drawn-')), mkdtempSync(join(tmpdir(), 'rtsr-drawn-'))];
  try {
    for (const d of dirs) {
      const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts/drawn-set.mjs'), d, '6', '96'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const rows = readFileSync(join(dirs[0], 'Drawn/manifest.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.equal(rows.length, 6);
    assert.equal(readFileSync(join(dirs[1], 'Drawn/manifest.tsv'), 'utf8'), readFileSync(join(dirs[0], 'Drawn/manifest.tsv'), 'utf8'));
    for (const [file, source, sum] of rows) {
      assert.equal(createHash('sha256').update(readFileSync(join(SVG, source))).digest('hex'), sum, source);
      const png = join(dirs[0], 'Drawn/HR', file);
      assert.deepEqual(readFileSync(png), readFileSync(join(dirs[1], 'Drawn/HR', file)), `${file}: the same bytes on a second build`);
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.channels, 3, `${file}: flattened`);
      assert.ok(Math.max(info.width, info.height) === 96 && Math.min(info.width, info.height) >= 32, `${file}: ${info.width}x${info.height}`);
      let inked = 0;
      for (let i = 0; i < data.length; i += 3) if (data[i] + data[i + 1] + data[i + 2] < 720) inked++;
      assert.ok(inked >= 0.1 * info.width * info.height, `${file}: ${inked} inked pixels`);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
