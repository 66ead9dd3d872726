// The two nets `rtsr bench train` times. Each is described as data (a list of convs and how they connect) so
// that the PyTorch anchor (bench/torch_train.py) builds exactly the same net from the same description.
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../util/random.js';

export interface ConvSpec {
  name: string;
  k: number;
  cin: number;
  cout: number;
}

export interface BenchNet {
  name: 'conv5x32' | 'wdsr-b';
  convs: ConvSpec[];
  /** Forward pass on a batch of LR patches, given the parameters by conv name. */
  forward(x: Tensor, p: Map<string, { w: Tensor; b: Tensor }>): Tensor;
}

const conv = (name: string, k: number, cin: number, cout: number): ConvSpec => ({ name, k, cin, cout });

export const SCALE = 2;

/** conv3×3 3→32; 4 × (conv3×3 32→32 + ReLU); skip add; conv3×3 32→12; depth-to-space ×2. */
const conv5x32: BenchNet = {
  name: 'conv5x32',
  convs: [conv('head', 3, 3, 32), ...[0, 1, 2, 3].map((i) => conv(`body${i}`, 3, 32, 32)), conv('tail', 3, 32, 12)],
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
const wdsrB: BenchNet = {
  name: 'wdsr-b',
  convs: [
    conv('head', 3, 3, 24),
    ...Array.from({ length: WDSR_BLOCKS }, (_, i) => [conv(`b${i}.expand`, 1, 24, 144), conv(`b${i}.reduce`, 1, 144, 20), conv(`b${i}.conv`, 3, 20, 24)]).flat(),
    conv('tail', 3, 24, 12),
    conv('skip', 5, 3, 12),
  ],
  forward(x, p) {
    const c = (name: string, t: Tensor, relu = false) => ops.conv2d(t, p.get(name)!.w, p.get(name)!.b, { relu });
    let h = c('head', x);
    for (let i = 0; i < WDSR_BLOCKS; i++) h = ops.add(h, c(`b${i}.conv`, c(`b${i}.reduce`, c(`b${i}.expand`, h, true))));
    return ops.depthToSpace(ops.add(c('tail', h), c('skip', x)), SCALE);
  },
};

export const BENCH_NETS: Record<BenchNet['name'], BenchNet> = { conv5x32, 'wdsr-b': wdsrB };

/** PyTorch's default conv init (uniform ±1/√fan_in for weights and biases), seeded. */
export function initParams(net: BenchNet, rng: Rng): Map<string, { w: Tensor; b: Tensor }> {
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
