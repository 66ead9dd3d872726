// Tensor files (models, checkpoints) are refused when anything in them was altered, header included, or when
// they hold values no network should; the decoders run without node (a browser reads model bytes too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/engine/tensor.js';
import { loadTensors } from '../src/engine/tensor-file.js';
import { Model } from '../src/models/model.js';
import { loadModel, saveModel } from '../src/models/model-io.js';
import { parseArch, validateSpec } from '../src/models/registry.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { Rng } from '../src/util/random.js';
import { Sha256, sha256Hex } from '../src/util/sha256.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'rtsr-files-'));
const here = dirname(fileURLToPath(import.meta.url));

/** Replaces `from` by `to` (same length) in the file's bytes, leaving its checksum as it was. */
function edit(path: string, from: string, to: string): void {
  const bytes = readFileSync(path);
  const at = bytes.indexOf(from);
  assert.ok(at > 0 && from.length === to.length, `${from} in ${path}`);
  bytes.write(to, at, 'latin1');
  writeFileSync(path, bytes);
}

/** A file with any header and data, checksummed as rtsr writes it (v2) or wrote it (v1). */
function craft(header: object, data: Float32Array, version: 1 | 2): Buffer {
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const sha = (b: Buffer[]) => b.reduce((h, c) => h.update(c), createHash('sha256')).digest('hex');
  const json = Buffer.from(JSON.stringify(version === 1 ? { ...header, sha256: sha([body]) } : header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  if (version === 1) return Buffer.concat([Buffer.from('RTSRTNS1'), len, json, body]);
  return Buffer.concat([Buffer.from('RTSRTNS2'), Buffer.from(sha([len, json, body])), len, json, body]);
}

test('sha256 matches node:crypto on random inputs of many lengths, whole and in chunks', () => {
  const rng = new Rng(7);
  for (const n of [...Array.from({ length: 200 }, (_, i) => i), 447, 448, 511, 512, 513, 4096, 100_003]) {
    const bytes = Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
    const want = createHash('sha256').update(bytes).digest('hex');
    assert.equal(sha256Hex([bytes]), want, `${n} bytes`);
    const h = new Sha256();
    for (let at = 0; at < n; ) {
      const step = 1 + Math.floor(rng.next() * 100);
      h.update(bytes.subarray(at, at + step));
      at += step;
    }
    assert.equal(h.hex(), want, `${n} bytes in random chunks`);
  }
});

test("an edited header fails the checksum: a checkpoint's step, a model's stored PSNR", () => {
  const dir = tmp();
  const ckpt = join(dir, 'checkpoint.rtsr');
  const w = new Tensor(new Float32Array([1, 2, 3]), [3]);
  saveCheckpoint(ckpt, { step: 150, options: { steps: 400 }, subject: 'x' }, new Map([['w', w]]), new Map([['model', { step: 150, m: [new Float32Array(3)], v: [new Float32Array(3)] }]]));
  assert.equal(loadCheckpoint(ckpt).step, 150);
  edit(ckpt, '"step":150', '"step":350');
  assert.throws(() => loadCheckpoint(ckpt), new RegExp(`${ckpt}: not a valid rtsr tensor file \\(checksum mismatch`));

  const model = join(dir, 'm.rtsr');
  saveModel(model, Model.init(parseArch('wdsr-b-1x4', 2), 0), { metrics: { Set5: { psnr: 37.12, ssim: 0.95 } } });
  edit(model, '37.12', '97.12');
  assert.throws(() => loadModel(model), /m\.rtsr: not a valid rtsr tensor file \(checksum mismatch/);
});

test('one infinite or NaN weight under a valid checksum is refused, naming the file and the tensor', () => {
  const dir = tmp();
  const m = Model.init(parseArch('wdsr-b-1x4', 2), 0);
  for (const bad of [Infinity, -Infinity, NaN]) {
    m.params.get('tail.v')!.data[5] = bad;
    const path = join(dir, 'm.rtsr');
    saveModel(path, m);
    assert.throws(() => loadModel(path), new RegExp(`m\\.rtsr: not a valid rtsr tensor file \\(tensor 'tail\\.v' holds ${bad} at index 5\\)`));
  }
});

test('a malformed header is refused with the file and the tensor named, not a TypeError', () => {
  const dir = tmp();
  const path = join(dir, 'w.rtsr');
  const cases: [object, RegExp][] = [
    [{ tensors: [{ name: 'a', shape: 'abc' }], meta: {} }, /tensor 'a' has shape "abc", not a list of non-negative integers/],
    [{ tensors: [{ name: 'a', shape: [2, -2] }], meta: {} }, /tensor 'a' has shape \[2,-2\]/],
    [{ tensors: [{ name: 'a', shape: [1e300, 1e300] }], meta: {} }, /tensor 'a' has shape/],
    [{ tensors: [{ shape: [4] }], meta: {} }, /tensor 0 has no name/],
    [{ tensors: [{ name: 'a', shape: [2] }, { name: 'a', shape: [2] }], meta: {} }, /tensor 'a' appears twice/],
    [{ tensors: {}, meta: {} }, /header lacks its tensor list/],
    [{ tensors: [{ name: 'a', shape: [4] }], meta: [] }, /header meta is not an object/],
  ];
  for (const [header, message] of cases) {
    writeFileSync(path, craft(header, new Float32Array(4), 2));
    assert.throws(() => loadTensors(path), (e: Error) => e.message.startsWith(`${path}: not a valid rtsr tensor file (`) && message.test(e.message), JSON.stringify(header));
  }
});

test('a container v1 file is refused with how to convert it; the converter keeps its contents and checks its data', () => {
  const dir = tmp();
  const path = join(dir, 'old.rtsr');
  const data = Float32Array.of(1, 2, 3, 4);
  writeFileSync(path, craft({ tensors: [{ name: 'a', shape: [2, 2] }], meta: { step: 7 } }, data, 1));
  assert.throws(() => loadTensors(path), /old\.rtsr: .*container v1.*scripts\/upgrade-tensor-files\.mjs/);
  const script = resolve(here, '../../scripts/upgrade-tensor-files.mjs');
  assert.match(execFileSync(process.execPath, [script, path], { encoding: 'utf8' }), /converted to v2/);
  const back = loadTensors(path);
  assert.deepEqual(back.meta, { step: 7 });
  assert.deepEqual(back.tensors.get('a'), { shape: [2, 2], data });

  const altered = craft({ tensors: [{ name: 'a', shape: [2, 2] }], meta: {} }, data, 1);
  altered[altered.length - 1] ^= 1;
  writeFileSync(path, altered);
  assert.throws(() => execFileSync(process.execPath, [script, path], { stdio: 'pipe' }), /checksum mismatch: the data was altered/);
});

test("arch names that are Object's own keys and absurd block counts get clear messages", () => {
  for (const arch of ['constructor', '__proto__', 'toString'])
    assert.throws(() => parseArch(`{"arch":${JSON.stringify(arch)}}`, 2), new RegExp(`unknown architecture "${arch}" \\(known: wdsr-b, espcn, fsrcnn-d2s\\)`));
  assert.throws(() => validateSpec({ arch: 'hasOwnProperty' }), /unknown architecture/);
  assert.throws(() => parseArch('wdsr-b-100000x16', 2), /wdsr-b spec: at most 256 blocks, got 100000/);
  assert.throws(() => parseArch('wdsr-b-99999999999999x16', 2), /at most 256 blocks/);
  assert.throws(() => parseArch(JSON.stringify({ arch: 'wdsr-b', channels: 4, blocks: Array(257).fill({ m1: 4, m2: 4 }) }), 2), /at most 256 blocks, got 257/);
  assert.equal(parseArch('wdsr-b-256x4', 2).arch, 'wdsr-b');
});

test('the tensor-file, model-file, registry and sha256 modules import nothing from node, however deep', () => {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      assert.ok(spec.startsWith('.'), `${file} imports '${spec}'`);
      walk(resolve(dirname(file), spec));
    }
  };
  for (const m of ['engine/serialize.js', 'models/model-file.js', 'models/registry.js', 'util/sha256.js']) walk(resolve(here, '../src', m));
  assert.ok(seen.size > 8, `walked ${seen.size} modules`);
});
