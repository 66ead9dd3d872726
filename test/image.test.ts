import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { crop, fromFloat, modcrop, rgbImage, toFloat } from '../src/image/image.js';
import { readImage, readImageFile, writePng } from '../src/image/io.js';
import { contributions, cubic, resizeFloat, resizeImage, type EdgeMode } from '../src/image/resize.js';
import { InputError } from '../src/util/errors.js';

// ---- Keys kernel and weight tables, against values worked out by hand ----

test('cubic kernel matches hand-computed Keys (a = -0.5) values', () => {
  const cases: [number, number][] = [
    [0, 1],
    [0.25, 0.8671875],
    [0.5, 0.5625],
    [0.75, 0.2265625],
    [1, 0],
    [1.25, -0.0703125],
    [1.5, -0.0625],
    [1.75, -0.0234375],
    [2, 0],
    [2.5, 0],
  ];
  for (const [x, v] of cases) {
    assert.equal(cubic(x), v, `cubic(${x})`);
    assert.equal(cubic(-x), v, `cubic(${-x})`);
  }
});

test('downscale-by-2 weights: kernel stretched by 2, ends clamped (replicate) or mirrored (symmetric)', () => {
  // Output pixel 1 of 8 -> 4 sits at u = 1.5; taps at 1-based input positions -2..5 with h(d) = cubic(d/2)/2.
  const expected = [-0.01171875, -0.03515625, 0.11328125, 0.43359375, 0.43359375, 0.11328125, -0.03515625, -0.01171875];
  const rep = contributions(8, 4, 0.5, 'replicate');
  assert.equal(rep.taps, 8);
  assert.deepEqual(Array.from(rep.weights.subarray(0, 8)), expected);
  assert.deepEqual(Array.from(rep.indices.subarray(0, 8)), [0, 0, 0, 0, 1, 2, 3, 4]);
  const sym = contributions(8, 4, 0.5, 'symmetric');
  assert.deepEqual(Array.from(sym.indices.subarray(0, 8)), [2, 1, 0, 0, 1, 2, 3, 4]);
});

test('1-D upscale by 2 of [10, 20, 30, 40]: hand-computed edge and interior values', () => {
  const src = { width: 4, height: 1, channels: 1, data: Float32Array.from([10, 20, 30, 40]) };
  // Output 1 sits at u = 0.75: weights -0.0234375, 0.2265625, 0.8671875, -0.0703125 on positions -1, 0, 1, 2.
  const rep = resizeFloat(src, { width: 8, height: 1 }, 'replicate');
  assert.ok(Math.abs(rep.data[0] - 9.296875) < 1e-5, `replicate edge ${rep.data[0]}`);
  const sym = resizeFloat(src, { width: 8, height: 1 }, 'symmetric');
  assert.ok(Math.abs(sym.data[0] - 9.0625) < 1e-5, `symmetric edge ${sym.data[0]}`);
  // Output 4 sits at u = 2.25, away from the edges: the cubic reproduces the linear ramp, 10·u.
  assert.ok(Math.abs(rep.data[3] - 22.5) < 1e-5, `interior ${rep.data[3]}`);
});

test('weights of every output pixel sum to 1 and indices stay inside the input', () => {
  const cases: [number, number, number][] = [
    [10, 5, 0.5],
    [9, 3, 1 / 3],
    [17, 5, 1 / 4],
    [13, 13, 1],
    [5, 10, 2],
    [7, 21, 3],
    [101, 37, 37 / 101],
  ];
  for (const edge of ['replicate', 'symmetric'] as EdgeMode[]) {
    for (const [inLen, outLen, scale] of cases) {
      const t = contributions(inLen, outLen, scale, edge);
      for (let o = 0; o < outLen; o++) {
        let sum = 0;
        for (let j = 0; j < t.taps; j++) {
          sum += t.weights[o * t.taps + j];
          const i = t.indices[o * t.taps + j];
          assert.ok(i >= 0 && i < inLen, `index ${i} outside [0, ${inLen})`);
        }
        assert.ok(Math.abs(sum - 1) < 1e-12, `${inLen}->${outLen} (${edge}) output ${o}: weights sum to ${sum}`);
      }
    }
  }
});

// ---- Whole-image resizing ----

/** Pseudo-random pixels in [lo, hi] (a mid range keeps bicubic overshoot away from the uint8 clipping). */
function randomImage(width: number, height: number, seed: number, lo = 0, hi = 255) {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = lo + ((s >>> 16) % (hi - lo + 1));
  }
  return rgbImage(width, height, data);
}

test('a constant image stays constant, down and up, at any size', () => {
  const targets = [1 / 2, 1 / 3, 1 / 4, 2, 3, 4, { width: 7, height: 19 }];
  for (const [w, h] of [[12, 12], [13, 7], [31, 24]]) {
    const img = rgbImage(w, h, new Uint8Array(w * h * 3).map((_, i) => [37, 200, 128][i % 3]));
    for (const target of targets) {
      for (const edge of ['replicate', 'symmetric'] as EdgeMode[]) {
        const out = resizeImage(img, target, edge);
        for (let i = 0; i < out.data.length; i++) assert.equal(out.data[i], [37, 200, 128][i % 3]);
        const f = resizeFloat({ width: w, height: h, channels: 3, data: toFloat(img) }, target, edge);
        for (let i = 0; i < f.data.length; i++) assert.ok(Math.abs(f.data[i] - [37, 200, 128][i % 3] / 255) < 1e-6);
      }
    }
  }
});

test('output size is ceil(factor·size) for a factor, or the size asked for', () => {
  const img = randomImage(300, 91, 1);
  assert.deepEqual(dims(resizeImage(img, 1 / 3)), [100, 31]);
  assert.deepEqual(dims(resizeImage(img, 0.5)), [150, 46]);
  assert.deepEqual(dims(resizeImage(img, 2)), [600, 182]);
  assert.deepEqual(dims(resizeImage(img, { width: 17, height: 200 })), [17, 200]);
  assert.throws(() => resizeImage(img, 0), /positive/);
});

const dims = (i: { width: number; height: number }) => [i.width, i.height];

/** MATLAB's imresize written directly as a 2-D sum, out(y, x) = Σ wy(y, i)·wx(x, j)·in(i, j), with its own
 *  kernel and clamped indices: independent of the separable table code under test. */
function directResize(src: Float32Array, w: number, h: number, c: number, outW: number, outH: number): Float32Array {
  const keys = (x: number) => {
    const a = Math.abs(x);
    return a <= 1 ? (1.5 * a - 2.5) * a * a + 1 : a < 2 ? ((-0.5 * a + 2.5) * a - 4) * a + 2 : 0;
  };
  const weights1d = (inLen: number, outLen: number) => {
    const s = outLen / inLen;
    const k = (d: number) => (s < 1 ? s * keys(s * d) : keys(d));
    return Array.from({ length: outLen }, (_, o) => {
      const u = (o + 0.5) / s - 0.5; // 0-based centre of output o in input coordinates
      const taps: [number, number][] = [];
      for (let i = Math.floor(u - 2 / Math.min(s, 1)) - 1; i <= Math.ceil(u + 2 / Math.min(s, 1)) + 1; i++) {
        taps.push([Math.min(Math.max(i, 0), inLen - 1), k(u - i)]);
      }
      const sum = taps.reduce((t, [, v]) => t + v, 0);
      return taps.map(([i, v]) => [i, v / sum] as [number, number]);
    });
  };
  const wy = weights1d(h, outH);
  const wx = weights1d(w, outW);
  const out = new Float32Array(outW * outH * c);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < c; ch++) {
        let v = 0;
        for (const [i, a] of wy[y]) for (const [j, b] of wx[x]) v += a * b * src[(i * w + j) * c + ch];
        out[(y * outW + x) * c + ch] = v;
      }
    }
  }
  return out;
}

test('float resize equals a direct 2-D evaluation of the MATLAB formula (down, up, mixed)', () => {
  const img = randomImage(23, 17, 7);
  const src = { width: 23, height: 17, channels: 3, data: Float32Array.from(img.data) };
  for (const [outW, outH] of [[11, 8], [46, 34], [7, 40], [69, 5]]) {
    const got = resizeFloat(src, { width: outW, height: outH }).data;
    const want = directResize(src.data, 23, 17, 3, outW, outH);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    assert.ok(worst < 1e-3, `${outW}x${outH}: max |diff| ${worst}`);
  }
});

test('uint8 resize is the float resize up to the per-pass rounding', () => {
  const img = randomImage(40, 30, 3, 60, 195);
  for (const target of [1 / 2, 1 / 3, 3]) {
    const u = resizeImage(img, target);
    const f = resizeFloat({ width: 40, height: 30, channels: 3, data: Float32Array.from(img.data) }, target);
    let worst = 0;
    for (let i = 0; i < u.data.length; i++) worst = Math.max(worst, Math.abs(u.data[i] - f.data[i]));
    // The first pass's rounding (≤ 0.5) passes through the second pass (Σ|w| ≤ 1.25 for this kernel), then the
    // final rounding adds ≤ 0.5.
    assert.ok(worst <= 0.5 * 1.25 + 0.5, `factor ${target}: max |uint8 - float| ${worst}`);
  }
});

// ---- Image helpers ----

test('modcrop keeps the top-left multiple of the scale; crop and float round trip', () => {
  const img = randomImage(11, 7, 5);
  const m = modcrop(img, 3);
  assert.deepEqual(dims(m), [9, 6]);
  assert.deepEqual(Array.from(m.data.subarray(0, 27)), Array.from(img.data.subarray(0, 27)));
  assert.deepEqual(Array.from(m.data.subarray(27, 54)), Array.from(img.data.subarray(33, 60)));
  assert.equal(modcrop(img, 1), img);
  assert.throws(() => crop(img, 5, 0, 7, 2), /outside a 11x7 image/);
  assert.deepEqual(fromFloat(toFloat(img), 11, 7).data, img.data);
  assert.deepEqual(Array.from(fromFloat(Float32Array.from([-0.1, 0.5, 1.2]), 1, 1).data), [0, 128, 255]);
});

// ---- File I/O ----

/** A PNG built by hand (filter 0 rows, zlib) so the decoder is checked against pixels we chose. */
function handPng(width: number, height: number, colorType: 0 | 2 | 4 | 6, pixels: number[]): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  const raw = Buffer.alloc(height * (1 + width * channels));
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * channels; i++) raw[y * (1 + width * channels) + 1 + i] = pixels[y * width * channels + i];
  }
  const chunk = (type: string, body: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), body])));
    return Buffer.concat([len, Buffer.from(type, 'latin1'), body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A bottom-up BMP built by hand: 24-bit, or 8-bit with a palette. */
function handBmp(width: number, height: number, bits: 24 | 8, pixels: number[], palette: number[][] = []): Buffer {
  const stride = Math.ceil((width * bits) / 32) * 4;
  const paletteBytes = palette.length * 4;
  const offset = 54 + paletteBytes;
  const buf = Buffer.alloc(offset + stride * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bits, 28);
  buf.writeUInt32LE(palette.length, 46);
  palette.forEach(([r, g, b], i) => buf.set([b, g, r, 0], 54 + i * 4));
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      if (bits === 8) buf[row + x] = pixels[y * width + x];
      else buf.set([pixels[(y * width + x) * 3 + 2], pixels[(y * width + x) * 3 + 1], pixels[(y * width + x) * 3]], row + x * 3);
    }
  }
  return buf;
}

test('grayscale, gray+alpha and RGBA PNGs decode to RGB (gray replicated, alpha dropped)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  const gray = [0, 17, 128, 255, 3, 200];
  await writeFile(join(dir, 'g.png'), handPng(3, 2, 0, gray));
  const g = await readImage(join(dir, 'g.png'));
  assert.deepEqual(dims(g), [3, 2]);
  assert.deepEqual(Array.from(g.data), gray.flatMap((v) => [v, v, v]));
  assert.equal(g.gray, true);

  await writeFile(join(dir, 'ga.png'), handPng(2, 1, 4, [9, 0, 250, 77]));
  const ga = await readImage(join(dir, 'ga.png'));
  assert.deepEqual(Array.from(ga.data), [9, 9, 9, 250, 250, 250]);

  const rgba = [1, 2, 3, 0, 250, 251, 252, 128];
  await writeFile(join(dir, 'rgba.png'), handPng(2, 1, 6, rgba));
  const c = await readImage(join(dir, 'rgba.png'));
  assert.deepEqual(Array.from(c.data), [1, 2, 3, 250, 251, 252]);
  assert.equal(c.gray, undefined);
});

test('PNG write/read round trip is lossless; JPEG decodes close to its source', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  const img = randomImage(19, 13, 11);
  await writePng(join(dir, 'x.png'), img);
  assert.deepEqual((await readImage(join(dir, 'x.png'))).data, img.data);

  const flat = rgbImage(16, 16, new Uint8Array(16 * 16 * 3).map((_, i) => [200, 40, 90][i % 3]));
  await sharp(flat.data, { raw: { width: 16, height: 16, channels: 3 } }).jpeg({ quality: 95 }).toFile(join(dir, 'x.jpg'));
  const j = await readImage(join(dir, 'x.jpg'));
  assert.deepEqual(dims(j), [16, 16]);
  for (let i = 0; i < j.data.length; i++) assert.ok(Math.abs(j.data[i] - flat.data[i]) <= 3, `JPEG pixel ${i}: ${j.data[i]}`);
});

test('BMP: 24-bit and 8-bit palette files decode to the pixels written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]; // 3x2, row stride padded
  await writeFile(join(dir, 'a.bmp'), handBmp(3, 2, 24, rgb));
  assert.deepEqual(Array.from((await readImage(join(dir, 'a.bmp'))).data), rgb);
  const palette = [[0, 0, 0], [255, 255, 255], [12, 34, 56]];
  await writeFile(join(dir, 'p.bmp'), handBmp(2, 2, 8, [2, 1, 0, 2], palette));
  assert.deepEqual(Array.from((await readImage(join(dir, 'p.bmp'))).data), [12, 34, 56, 255, 255, 255, 0, 0, 0, 12, 34, 56]);
});

test('corrupt, truncated and missing files give errors naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  await writeFile(join(dir, 'junk.png'), 'this is not an image');
  await assert.rejects(readImage(join(dir, 'junk.png')), (e: Error) => e.message.includes(join(dir, 'junk.png')) && /cannot decode/.test(e.message));
  const png = handPng(8, 8, 2, Array.from(randomImage(8, 8, 3).data));
  await writeFile(join(dir, 'cut.png'), png.subarray(0, png.length >> 1));
  await assert.rejects(readImage(join(dir, 'cut.png')), (e: Error) => e.message.includes(join(dir, 'cut.png')));
  await writeFile(join(dir, 'cut.bmp'), handBmp(8, 8, 24, new Array(192).fill(7)).subarray(0, 100));
  await assert.rejects(readImage(join(dir, 'cut.bmp')), (e: Error) => e.message.includes(join(dir, 'cut.bmp')) && /truncated BMP/.test(e.message));
  // A missing file's error also lists what the folder does hold.
  await assert.rejects(readImage(join(dir, 'nope.png')), (e: Error) => e.message.includes(join(dir, 'nope.png')) && /cut\.png, junk\.png/.test(e.message));
});

test('readImageFile says whether it dropped an alpha channel', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  await writeFile(join(dir, 'rgba.png'), handPng(1, 1, 6, [1, 2, 3, 4]));
  await writeFile(join(dir, 'rgb.png'), handPng(1, 1, 2, [1, 2, 3]));
  assert.equal((await readImageFile(join(dir, 'rgba.png'))).alpha, true);
  assert.equal((await readImageFile(join(dir, 'rgb.png'))).alpha, false);
});

/** `png` with the size in its header changed (pixel data left as it is), its CRC fixed. */
function withDeclaredSize(png: Buffer, width: number, height: number): Buffer {
  const b = Buffer.from(png);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b.writeUInt32BE(crc32(b.subarray(12, 29)), 29);
  return b;
}

test('sharp’s 268-megapixel limit does not apply; an image too large to hold is refused with its size', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  const png = handPng(1, 1, 2, [1, 2, 3]);
  // 300 MP declared: decoding is attempted (and fails on the missing data), not refused for its size.
  await writeFile(join(dir, 'big.png'), withDeclaredSize(png, 20000, 15000));
  await assert.rejects(readImage(join(dir, 'big.png')), (e: Error) => e instanceof InputError && /^cannot decode image .*big\.png: (?!.*pixel limit)/.test(e.message));
  await writeFile(join(dir, 'huge.png'), withDeclaredSize(png, 40000, 40000));
  await assert.rejects(
    readImage(join(dir, 'huge.png')),
    (e: Error) => e instanceof InputError && /huge\.png: 40000x40000 \(1600 megapixels\) needs 4\.80 GB of RGB pixels, more than the 4\.29 GB one image can hold/.test(e.message),
  );
});

test('writePng replaces a file through a renamed temp file and leaves no temp behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-io-'));
  const path = join(dir, 'x.png');
  await writeFile(path, 'old');
  const before = statSync(path).ino;
  const img = randomImage(5, 4, 2);
  await writePng(path, img);
  assert.notEqual(statSync(path).ino, before, 'a new file renamed over the old one, not the old one rewritten');
  assert.deepEqual((await readImage(path)).data, img.data);
  assert.deepEqual(readdirSync(dir), ['x.png']);
});
