// The two nets `rtsr bench train` times. Each is described as data (a list of convs and how they connect) so
// that the PyTorch anchor (bench/torch_train.py) builds exactly the same net from the same description.
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { type BlockWeights, type ChannelGate, wdsrBlock } from '../engine/wdsr-block.js';
import { hardMask } from '../search/supernet.js';
import { Rng } from '../util/random.js';

export interface ConvSpec {
  name: string;
  k: number;
  cin: number;
  cout: number;
}

/** A hard 0/1 gate the forward pass multiplies in; its value trains straight through (the search's gates). */
export interface GateSpec {
  name: string;
  mask: number[];
}

export type Params = Map<string, { w: Tensor; b: Tensor }>;

export interface BenchNet {
  name: 'conv5x32' | 'wdsr-b' | 'supernet';
  convs: ConvSpec[];
  gates: GateSpec[];
  /** Forward pass on a batch of LR patches, given the parameters by conv name and the gate values by name. */
  forward(x: Tensor, p: Params, gates: Map<string, Tensor>): Tensor;
}

const conv = (name: string, k: number, cin: number, cout: number): ConvSpec => ({ name, k, cin, cout });

export const SCALE = 2;

/** conv3×3 3→32; 4 × (conv3×3 32→32 + ReLU); skip add; conv3×3 32→12; depth-to-space ×2. */
const conv5x32: BenchNet = {
  name: 'conv5x32',
  convs: [conv('head', 3, 3, 32), ...[0, 1, 2, 3].map((i) => conv(`body${i}`, 3, 32, 32)), conv('tail', 3, 32, 12)],
  gates: [],
  forward(x, p) {
    const c = (name: string, t: Tensor, relu = false) => ops.conv2d(t, p.get(name)!.w, p.get(name)!.b, { relu });
    const head = c('head', x);
    let h = head;
    for (let i = 0; i < 4; i++) h = c(`body${i}`, h, true);
    return ops.depthToSpace(c('tail', ops.add(h, head)), SCALE);
  },
};

/** The seed's block stack: 8 × (1×1 24→144, ReLU, 1×1 144→20, 3×3 20→24, + x); head 3×3 3→24; tail 3×3 24→12 + skip 5×5 3→12. */
const WDSR_BLOCKS = 8;
const [C, M1, M2] = [24, 144, 20];
const wdsrConvs = [
  conv('head', 3, 3, C),
  ...Array.from({ length: WDSR_BLOCKS }, (_, i) => [conv(`b${i}.expand`, 1, C, M1), conv(`b${i}.reduce`, 1, M1, M2), conv(`b${i}.conv`, 3, M2, C)]).flat(),
  conv('tail', 3, C, 12),
  conv('skip', 5, 3, 12),
];
const convOf = (p: Params) => (name: string, t: Tensor, relu = false) => ops.conv2d(t, p.get(name)!.w, p.get(name)!.b, { relu });
const blockWeights = (p: Params, i: number): BlockWeights => {
  const [e, r, c] = ['expand', 'reduce', 'conv'].map((k) => p.get(`b${i}.${k}`)!);
  return { w1: e.w, b1: e.b, w2: r.w, b2: r.b, w3: c.w, b3: c.b };
};

const wdsrB: BenchNet = {
  name: 'wdsr-b',
  convs: wdsrConvs,
  gates: [],
  forward(x, p) {
    const c = convOf(p);
    let h = c('head', x);
    for (let i = 0; i < WDSR_BLOCKS; i++) h = wdsrBlock(h, h, blockWeights(p, i));
    return ops.depthToSpace(ops.add(c('tail', h), c('skip', x)), SCALE);
  },
};

/** The search's gated supernet as its joint stage trains it (search/supernet.ts, straight-through gates): the
 *  same 8 × 24 blocks with a gate on C read before every block and the tail, gates on M1 and M2 per block,
 *  and the seed's depth mix skip·h + keep·(body + h). Plain (not weight-normalised) convs, as PyTorch's. The
 *  masks are the hard masks of seeded gate values in [0.3, 1]: about a sixth of the channels dead, as the
 *  search has them early in its width stage; every block kept. */
const supernetGates = (): GateSpec[] => {
  const rng = new Rng(24);
  const mask = (n: number) => hardMask(rng.fill(new Float32Array(n), () => rng.uniform(0.3, 1))).map(Number);
  return [
    { name: 'c', mask: mask(C) },
    ...Array.from({ length: WDSR_BLOCKS }, (_, i) => [
      { name: `b${i}.m1`, mask: mask(M1) },
      { name: `b${i}.m2`, mask: mask(M2) },
      { name: `b${i}.skip`, mask: [0] },
      { name: `b${i}.keep`, mask: [1] },
    ]).flat(),
  ];
};
const SUPERNET_GATES = supernetGates();
const maskOf = new Map(SUPERNET_GATES.map((g) => [g.name, Float32Array.from(g.mask)]));

const supernet: BenchNet = {
  name: 'supernet',
  convs: wdsrConvs,
  gates: SUPERNET_GATES,
  forward(x, p, g) {
    const c = convOf(p);
    const gate = (name: string): ChannelGate => ({ gate: g.get(name)!, mask: maskOf.get(name)!, worth: 'straight-through' });
    const hard = (name: string) => ops.straightThrough(g.get(name)!, maskOf.get(name)!);
    const read = (h: Tensor) => ops.gateChannels(h, g.get('c')!, maskOf.get('c')!, 'straight-through');
    let h = c('head', x);
    for (let i = 0; i < WDSR_BLOCKS; i++) {
      const out = wdsrBlock(h, h, blockWeights(p, i), { c: gate('c'), m1: gate(`b${i}.m1`), m2: gate(`b${i}.m2`) });
      h = ops.depthMix(h, out, hard(`b${i}.skip`), hard(`b${i}.keep`));
    }
    return ops.depthToSpace(ops.add(c('tail', read(h)), c('skip', x)), SCALE);
  },
};

export const BENCH_NETS: Record<BenchNet['name'], BenchNet> = { conv5x32, 'wdsr-b': wdsrB, supernet };

/** Gate value tensors, starting at their masks (the value only matters to the gradient). */
export function initGates(net: BenchNet): Map<string, Tensor> {
  return new Map(net.gates.map((g) => [g.name, new Tensor(Float32Array.from(g.mask), [g.mask.length], true)]));
}

/** PyTorch's default conv init (uniform ±1/√fan_in for weights and biases), seeded. */
export function initParams(net: BenchNet, rng: Rng): Params {
  return new Map(
    net.convs.map((c) => {
      const bound = 1 / Math.sqrt(c.cin * c.k * c.k);
      const u = () => rng.uniform(-bound, bound);
      const w = new Tensor(rng.fill(new Float32Array(c.k * c.k * c.cin * c.cout), u), [c.k, c.k, c.cin, c.cout], true);
      const b = new Tensor(rng.fill(new Float32Array(c.cout), u), [c.cout], true);
      return [c.name, { w, b }];
    }),
  );
}

/** Nominal FLOPs of one training step for n×h×w inputs: forward conv FLOPs × 3 (backward counted as 2× forward). */
export function stepFlops(net: BenchNet, n: number, h: number, w: number): number {
  return 3 * net.convs.reduce((acc, c) => acc + 2 * n * h * w * c.cin * c.cout * c.k * c.k, 0);
}
