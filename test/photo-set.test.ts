// scripts/photo-set.mjs: the extra training photographs are what its manifest says (each tile from the wallpaper
// whose sha256 is recorded), TILE×TILE, detailed enough, and the same bytes on a second build.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const PKG = '/usr/share/doc/plasma-workspace-wallpapers';
// Beside the repository: <repo>/../shared/datasets (this file runs as <repo>/dist/test/*.js).
const data = fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));
const skip = !existsSync(PKG)
  ? 'the wallpaper packages are not installed (apt-get install lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers)'
  : !existsSync(join(data, 'BSD200'))
    ? `no BSD200 in ${data}`
    : false;

test('photo-set builds a deterministic set of detailed wallpaper tiles', { skip }, async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'rtsr-photos-')), mkdtempSync(join(tmpdir(), 'rtsr-photos-'))];
  try {
    for (const d of dirs) {
      const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts/photo-set.mjs'), data, d, '640', '160'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const manifest = readFileSync(join(dirs[0], 'Photos/manifest.tsv'), 'utf8');
    assert.equal(readFileSync(join(dirs[1], 'Photos/manifest.tsv'), 'utf8'), manifest);
    const rows = manifest.trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.ok(rows.length >= 20, `${rows.length} tiles`);
    assert.deepEqual(readdirSync(join(dirs[0], 'Photos/HR')).sort(), rows.map(([f]) => f).sort());
    const sums = new Map<string, string>();
    for (const [file, source, sum] of rows) {
      if (!sums.has(source)) sums.set(source, createHash('sha256').update(readFileSync(source)).digest('hex'));
      assert.equal(sums.get(source), sum, source);
      const png = join(dirs[0], 'Photos/HR', file);
      assert.deepEqual(readFileSync(png), readFileSync(join(dirs[1], 'Photos/HR', file)), `${file}: the same bytes on a second build`);
      const { info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [160, 160, 3], file);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
