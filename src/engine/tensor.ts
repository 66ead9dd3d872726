// Tensors and reverse-mode autograd. A tensor is a dense float32 array with a shape (NHWC for images); an op
// that produces it records its parents and a closure that turns the output's gradient into theirs. Which
// backend runs the kernels is engine-wide state, so ops stay device-free.
import type { Backend } from '../backends/backend.js';
import { referenceBackend } from '../backends/reference.js';

let current: Backend = referenceBackend;

/** Selects the backend that every op runs on from now on. */
export function useBackend(b: Backend): void {
  current = b;
}

export function backend(): Backend {
  return current;
}

/** Maps the output's gradient to one gradient per parent (null where a parent needs none). */
type BackwardFn = (grad: Float32Array) => (Float32Array | null)[];

export class Tensor {
  grad: Float32Array | null = null;
  private parents: readonly Tensor[] = [];
  private backwardFn: BackwardFn | null = null;

  constructor(
    readonly data: Float32Array,
    readonly shape: readonly number[],
    readonly requiresGrad = false,
  ) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`Tensor: shape [${shape}] holds ${size} values, data has ${data.length}`);
  }

  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  /** The output of an op: tracked only when some parent needs a gradient. */
  static fromOp(data: Float32Array, shape: readonly number[], parents: readonly Tensor[], backwardFn: BackwardFn): Tensor {
    const tracked = parents.some((p) => p.requiresGrad);
    const t = new Tensor(data, shape, tracked);
    if (tracked) {
      t.parents = parents;
      t.backwardFn = backwardFn;
    }
    return t;
  }

  /** Back-propagates from this scalar (or from `seed`, a gradient of this tensor's shape). */
  backward(seed?: Float32Array): void {
    if (!this.requiresGrad) throw new Error('backward: this tensor does not depend on any parameter');
    if (!seed && this.size !== 1) throw new Error(`backward: needs a seed gradient for a non-scalar of shape [${this.shape}]`);
    const order = Tensor.topoOrder(this);
    // A backward closure may hand one array to several parents (add does); the first owner keeps it and
    // every later owner gets a copy, so accumulating into one gradient never changes another.
    const owned = new Set<Float32Array>();
    const give = (t: Tensor, g: Float32Array) => {
      if (t.grad) backend().accumulate(t.grad, g);
      else t.grad = owned.has(g) ? g.slice() : g;
      owned.add(t.grad);
    };
    give(this, seed ?? new Float32Array([1]));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (!t.backwardFn || !t.grad) continue;
      const grads = t.backwardFn(t.grad);
      t.parents.forEach((p, j) => {
        const g = grads[j];
        if (g && p.requiresGrad) give(p, g);
      });
      // Intermediate gradients are not needed once passed on; dropping them halves peak memory.
      if (t.parents.length > 0) t.grad = null;
    }
  }

  /** Tensors reachable from `root` through tracked ops, parents before children. */
  private static topoOrder(root: Tensor): Tensor[] {
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    // Iterative DFS: a deep network must not overflow the JS stack.
    const stack: [Tensor, boolean][] = [[root, false]];
    while (stack.length) {
      const [t, expanded] = stack.pop()!;
      if (expanded) {
        order.push(t);
        continue;
      }
      if (seen.has(t)) continue;
      seen.add(t);
      stack.push([t, true]);
      for (const p of t.parents) if (p.requiresGrad && !seen.has(p)) stack.push([p, false]);
    }
    return order;
  }
}
