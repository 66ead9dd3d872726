// ONNX export: onnxruntime must reproduce Model.forward for every architecture and scale, the graph must be the
// op set we document, and `rtsr export` must write a file that decodes and runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { exportOnnx, OPSET, onnxOpCounts } from '../src/export/onnx.js';
import { ortRun, ortSession, ortTime } from '../src/export/ort.js';
import { traceForward } from '../src/compiler/trace.js';
import { Model, convs } from '../src/models/model.js';
import { saveModel } from '../src/models/model-io.js';
import { parseArch } from '../src/models/registry.js';
import { Rng } from '../src/util/random.js';
import { randTensor } from './support/gradcheck.js';
import { randomModel } from './support/random-model.js';

const { onnx } = onnxProto;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const WDSR_ODD = '{"arch":"wdsr-b","channels":5,"blocks":[{"m1":37,"m2":11},{"m1":7,"m2":3}]}';
const SPECS = [WDSR_ODD, 'espcn', 'fsrcnn-d2s', '{"arch":"fsrcnn-d2s","d":7,"s":3,"m":0}'];


function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let d = 0;
  for (let i = 0; i < a.size; i++) d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
  return d;
}

test('onnxruntime reproduces Model.forward for every architecture, scale and an odd-sized batch', async (t) => {
  const rng = new Rng(5);
  const inputs = [randTensor(rng, [1, 13, 9, 3], false, 0, 1), randTensor(rng, [2, 7, 11, 3], false, 0, 1)];
  let worst = 0;
  let outsideUnit = false;
  let seed = 0;
  for (const spec of SPECS)
    for (const s of [2, 3, 4]) {
      const m = randomModel(spec, s, seed++);
      const session = await ortSession(exportOnnx(m));
      try {
        // One session, two input sizes: the exported dims really are symbolic.
        for (const x of inputs) {
          const want = m.forward(x);
          const got = await ortRun(session, x);
          assert.deepEqual(got.shape, [x.shape[0], x.shape[1] * s, x.shape[2] * s, 3]);
          const d = maxAbsDiff(got, want);
          assert.ok(d <= 1e-4, `${spec} ×${s}, input [${x.shape}]: max |onnxruntime − forward| = ${d}`);
          worst = Math.max(worst, d);
          outsideUnit ||= want.data.some((v) => v < 0 || v > 1);
        }
      } finally {
        await session.release();
      }
    }
  // Random weights leave [0,1]; matching there shows the export neither clamps nor rounds.
  assert.ok(outsideUnit, 'no output left [0,1], so clamping would have gone unnoticed');
  t.diagnostic(`worst max |onnxruntime − forward| over all cases: ${worst.toExponential(2)}`);
});

test('the graph is the compiler\'s folded graph: one Conv per conv, shifts folded, CRD depth-to-space, opset and symbolic dims', () => {
  const expected: [string, number, Record<string, number>][] = [
    // Blocks: 2 ReLU + 2 residual Add; then tail + skip Add. The −0.5 / +0.5 shifts fold into the convs: the head
    // and skip convs read the shifted input, so outside the image their input is 0.5, not 0 (a Pad each).
    [WDSR_ODD, 3, { Pad: 2, Conv: 9, Relu: 2, Add: 3, DepthToSpace: 1 }],
    ['espcn', 2, { Conv: 3, Relu: 2, DepthToSpace: 1 }],
    ['fsrcnn-d2s', 4, { Conv: 8, Relu: 7, DepthToSpace: 1 }],
  ];
  for (const [spec, s, counts] of expected) {
    const m = randomModel(spec, s, 1);
    assert.equal(counts.Conv, convs(m.spec).length);
    const bytes = exportOnnx(m);
    assert.deepEqual(onnxOpCounts(bytes), counts, spec);
    const proto = onnx.ModelProto.decode(bytes);
    assert.equal(Number(proto.opsetImport[0].version), OPSET);
    assert.equal(Number(proto.irVersion), 7);
    const graph = proto.graph as Onnx.GraphProto;
    const d2s = graph.node.find((n) => n.opType === 'DepthToSpace')!;
    const attr = Object.fromEntries(d2s.attribute!.map((a) => [a.name, a]));
    assert.equal(new TextDecoder().decode(attr.mode.s!), 'CRD');
    assert.equal(Number(attr.blocksize.i), s);
    const dims = (v: Onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((x) => x.dimParam || Number(x.dimValue));
    assert.deepEqual(dims(graph.input[0]), ['N', 3, 'H', 'W']);
    assert.deepEqual(dims(graph.output[0]), ['N', 3, `H*${s}`, `W*${s}`]);
    // Weight norm folds away: only plain weights and biases (plus each Pad's sizes and value) are stored.
    const floats = graph.initializer.filter((t) => t.dataType === onnx.TensorProto.DataType.FLOAT && t.dims!.length > 0);
    assert.equal(floats.filter((t) => t.dims!.length === 4).length, counts.Conv);
    assert.equal(floats.reduce((acc, t) => acc + t.floatData!.length, 0), m.paramCount);
  }
});

test('tracing refuses what it cannot export faithfully: unmapped kernels, convs off their own weights', () => {
  class Gated extends Model {
    override forward(x: Tensor): Tensor {
      return ops.mulChannels(super.forward(x), new Tensor(new Float32Array([1, 0.5, 1]), [3]));
    }
  }
  class Doubled extends Model {
    override forward(x: Tensor): Tensor {
      return ops.conv2d(x, ops.affine(this.params.get('conv1.w')!, 2, 0), this.params.get('conv1.b')!);
    }
  }
  const m = Model.init(parseArch('espcn', 2), 0);
  assert.throws(() => traceForward(new Gated(m.spec, m.params)), /export of espcn: the forward pass runs kernel 'mulChannels' on an activation/);
  assert.throws(() => traceForward(new Doubled(m.spec, m.params)), /export of espcn: conv 'conv1' runs with a weight that differs from its parameters/);
});

test('ortTime warms up, then reports the median of timed runs and their output', async () => {
  const m = randomModel('espcn', 2, 3);
  const x = randTensor(new Rng(9), [1, 8, 6, 3], false, 0, 1);
  const session = await ortSession(exportOnnx(m), 1);
  try {
    const { medianMs, output } = await ortTime(session, x, { warmup: 1, repeats: 3 });
    assert.ok(medianMs > 0 && Number.isFinite(medianMs));
    assert.ok(maxAbsDiff(output, m.forward(x)) <= 1e-4);
    await assert.rejects(ortTime(session, x, { repeats: 0 }), /repeats ≥ 1/);
  } finally {
    await session.release();
  }
  await assert.rejects(ortSession(new Uint8Array([1, 2, 3])), /onnxruntime cannot load the model \(3 bytes\)/);
});

test('rtsr export writes an ONNX file from --arch or a model file, and rejects bad usage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-export-'));
  const out = join(dir, 'espcn.onnx');
  const said = execFileSync(process.execPath, [MAIN, 'export', '--arch', 'espcn', '--scale', '3', '--seed', '4', '--onnx', out], { encoding: 'utf8' });
  assert.match(said, /espcn\.onnx: espcn \(random weights, seed 4\) ×3, 3 Conv, 2 Relu, 1 DepthToSpace, 31\.1 K parameters/);
  const bytes = new Uint8Array(readFileSync(out));
  assert.equal(onnx.ModelProto.decode(bytes).graph!.input![0].name, 'lr');
  const session = await ortSession(bytes);
  try {
    const x = randTensor(new Rng(2), [1, 5, 4, 3], false, 0, 1);
    assert.ok(maxAbsDiff(await ortRun(session, x), Model.init(parseArch('espcn', 3), 4).forward(x)) <= 1e-4);
  } finally {
    await session.release();
  }

  const file = join(dir, 'm.rtsr');
  const m = randomModel(WDSR_ODD, 2, 7);
  saveModel(file, m);
  execFileSync(process.execPath, [MAIN, 'export', file, '--onnx', join(dir, 'm.onnx')], { encoding: 'utf8' });
  assert.deepEqual(readFileSync(join(dir, 'm.onnx')), Buffer.from(exportOnnx(m)));

  for (const [args, message] of [
    [['export', '--onnx', out], /usage: rtsr export MODEL/],
    [['export', file, '--arch', 'espcn', '--onnx', out], /usage: rtsr export MODEL/],
    [['export', file, '--scale', '3', '--onnx', out], /--scale and --seed only go with --arch/],
    [['export', join(dir, 'missing.rtsr'), '--onnx', out], /no model file .*missing\.rtsr/],
  ] as const) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
