// image/dihedral.ts: the 8 symmetries of the square on images of any shape, each undone exactly, all distinct;
// eval/upscaler.ts selfEnsemble: outputs mapped back before they are averaged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selfEnsemble, type Upscaler } from '../src/eval/upscaler.js';
import { dihedral, undoDihedral } from '../src/image/dihedral.js';
import { type RgbImage, rgbImage } from '../src/image/image.js';

test('the 8 flips and rotations of a non-square image are distinct, sized as they should be, and undone exactly', () => {
  const img = { width: 5, height: 3, channels: 2, data: Float32Array.from({ length: 30 }, (_, i) => i) };
  const seen = new Set<string>();
  for (let t = 0; t < 8; t++) {
    const d = dihedral(img, t);
    assert.deepEqual([d.width, d.height, d.channels], t & 4 ? [3, 5, 2] : [5, 3, 2], `t=${t}`);
    seen.add(Array.from(d.data).join());
    assert.deepEqual(undoDihedral(d, t), img, `t=${t}`);
  }
  assert.equal(seen.size, 8);
  // Bit 0 mirrors left-right, bit 1 top-bottom, bit 2 transposes: pixel (row 0, column 1) of the 5×3 image.
  const at = (t: number, y: number, x: number) => { const d = dihedral(img, t); return d.data[(y * d.width + x) * 2]; };
  assert.equal(at(0, 0, 1), 2);
  assert.equal(at(1, 0, 3), 2);
  assert.equal(at(2, 2, 1), 2);
  assert.equal(at(4, 1, 0), 2);
});

test("a self-ensemble maps each output back: an upscaler's mark at its output's first pixel lands on all 4 corners, a quarter each; an equivariant upscaler is its own", async () => {
  const lr = rgbImage(5, 3, Uint8Array.from({ length: 45 }, (_, i) => (i * 37) % 200));
  // Pixel replication commutes with every flip and rotation.
  const nearest = (img: RgbImage, mark: number): RgbImage => {
    const out = rgbImage(img.width * 2, img.height * 2);
    for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) for (let c = 0; c < 3; c++) out.data[(y * out.width + x) * 3 + c] = img.data[((y >> 1) * img.width + (x >> 1)) * 3 + c];
    out.data[0] += mark;
    return out;
  };
  const upscaler = (mark: number): Upscaler => ({ name: 'nearest', scale: 2, upscale: (img) => nearest(img, mark) });
  const plain = nearest(lr, 0);
  assert.deepEqual(await selfEnsemble(upscaler(0)).upscale(lr), plain);
  const ens = await selfEnsemble(upscaler(40)).upscale(lr);
  const [w, h] = [plain.width, plain.height];
  const corners = [0, w - 1, (h - 1) * w, h * w - 1].map((p) => 3 * p);
  for (let i = 0; i < plain.data.length; i++) assert.equal(ens.data[i], plain.data[i] + (corners.includes(i) ? 10 : 0), `byte ${i}`);
});
