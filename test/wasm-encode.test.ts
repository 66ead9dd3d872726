// The wasm encoder: LEB128, and tiny modules (arithmetic, a loop with labels, SIMD, a shared memory) that the
// engine validates and runs with the results they must give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Func, ModuleBuilder, sleb, uleb } from '../src/targets/wasm/encode.js';

const instantiate = (mb: ModuleBuilder, memory: WebAssembly.Memory) => {
  const bytes = mb.encode();
  assert.ok(WebAssembly.validate(bytes), 'module validates');
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as Record<string, (...a: number[]) => number>;
};

test('LEB128 encodes unsigned and signed values as the spec says', () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(127), [127]);
  assert.deepEqual(uleb(128), [0x80, 1]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(uleb(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(63), [63]);
  assert.deepEqual(sleb(64), [0xc0, 0]);
  assert.deepEqual(sleb(-64), [0x40]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(sleb(-(2 ** 31)), [0x80, 0x80, 0x80, 0x80, 0x78]);
});

test('a module that adds, one that loops, and one that calls another function run as written', () => {
  const mb = new ModuleBuilder({ min: 1, shared: false });
  const add = new Func(['i32', 'i32'], ['i32']).get(0).get(1).op('i32.add');
  const addIndex = mb.add(add, 'add');
  // Σ_{i<n} i·i with a loop, and a branch out of a block when n ≤ 0.
  const sq = new Func(['i32'], ['i32']);
  const [acc, i] = [sq.local('i32'), sq.local('i32')];
  sq.block((done) => {
    sq.get(0).i32(0).op('i32.le_s').brIf(done);
    sq.loop((top) => {
      sq.get(acc).get(i).get(i).op('i32.mul').call(addIndex).set(acc);
      sq.get(i).i32(1).op('i32.add').tee(i).get(0).op('i32.lt_s').brIf(top);
    });
  });
  sq.get(acc);
  mb.add(sq, 'sumSquares');
  // i64, f32 and f64 arithmetic through memory: f(a, x) = (f64)((i64)a² + 1 wrapped) + (f64)((x·2 − 1) / 4).
  const mix = new Func(['i32', 'f32'], ['f64']);
  mix.i32(64).get(0).op('i64.extend_i32_s').get(0).op('i64.extend_i32_s', 'i64.mul').mem('i64.store');
  mix.i32(64).mem('i64.load').i32(1).op('i64.extend_i32_s', 'i64.add', 'i32.wrap_i64', 'f64.convert_i32_u');
  mix.get(1).f32(2).op('f32.mul').f32(1).op('f32.sub').f32(4).op('f32.div', 'f64.promote_f32', 'f64.add');
  mb.add(mix, 'mix');
  const e = instantiate(mb, new WebAssembly.Memory({ initial: 1 }));
  assert.equal(e.mix(3, 1.5), 10.5);
  assert.equal(e.mix(65536, 0.5), 1, '65536² + 1 wraps to 1');
  assert.equal(e.add(2, -5), -3);
  assert.equal(e.sumSquares(10), 285);
  assert.equal(e.sumSquares(-3), 0);
});

test('SIMD: a multiply-add and the C relu over memory (−0 and NaN become +0), loads and stores with offsets', () => {
  const mb = new ModuleBuilder({ min: 1, max: 2, shared: true });
  const f = new Func(['i32'], []);
  const [a, z] = [f.local('v128'), f.local('v128')];
  f.f32(0).op('f32x4.splat').set(z);
  // out (32 bytes on) = relu(x·splat(w) + y): x at 0, y at 16 bytes, w at 48; lane 3 is −0·w + −0 = −0.
  f.get(0).get(0).mem('v128.load').get(0).mem('v128.load32_splat', 48).op('f32x4.mul').get(0).mem('v128.load', 16).op('f32x4.add').set(a);
  f.get(a).get(a).get(z).op('f32x4.gt', 'v128.and').mem('v128.store', 32);
  mb.add(f, 'run');
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
  assert.ok(memory.buffer instanceof SharedArrayBuffer);
  const e = instantiate(mb, memory);
  const m = new Float32Array(memory.buffer, 0, 13);
  m.set([1, -2, 3, -0, 0.5, 0.5, NaN, -0, 7], 0);
  m[12] = 1.5;
  e.run(0);
  assert.deepEqual([...m.subarray(8, 12)], [2, 0, 0, 0]);
  assert.ok(Object.is(m[9], 0) && Object.is(m[10], 0) && Object.is(m[11], 0), 'relu gives +0');
});
