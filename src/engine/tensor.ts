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

/** Hands a backward closure's temporaries back to the backend (Backend.release): the next output of their
 *  length reuses their memory. Only for arrays the closure made and neither returns nor keeps. */
export function releaseTemporaries(...temporaries: Float32Array[]): void {
  const release = current.release;
  if (release) for (const a of new Set(temporaries)) release(a);
}

let releasing = false;

/** Like releaseTemporaries, for forward results a closure captured (not any tensor's data): only within
 *  backward({ release }), which runs each closure once and leaves the graph unusable, so none is read again. */
export function releaseCaptured(...captured: Float32Array[]): void {
  if (releasing) releaseTemporaries(...captured);
}

/** Maps the output's gradient to one gradient per parent (null where a parent needs none). It must not keep
 *  `grad`, nor any array it reads, once it returns: backward({ release }) may hand them back to the backend. */
type BackwardFn = (grad: Float32Array) => (Float32Array | null)[];

/** What a released tensor's data becomes: any later use fails on its length, loudly. */
const RELEASED = new Float32Array(0);

export interface BackwardOptions {
  /** Hand every intermediate tensor's data and gradient back to the backend as soon as backward is done with
   *  it (Backend.release), so that the next step's outputs reuse warm memory instead of new allocations that
   *  fault their pages in and drive the garbage collector. The caller must not read any intermediate tensor
   *  of this graph afterwards (their data becomes empty); leaves (parameters, inputs) and the root stay. */
  release?: boolean;
}

export class Tensor {
  grad: Float32Array | null = null;
  private parents: readonly Tensor[] = [];
  private backwardFn: BackwardFn | null = null;
  /** The data is not the op's own new array (a parent's, viewed; a caller's): never released. */
  private borrowed = false;

  constructor(
    // Written only by backward({ release }).
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

  /** The output of an op: tracked only when some parent needs a gradient. `borrowed`: `data` is not an array
   *  the op made (a parent's data under another shape, a value the caller passed in). */
  static fromOp(data: Float32Array, shape: readonly number[], parents: readonly Tensor[], backwardFn: BackwardFn, borrowed = false): Tensor {
    const tracked = parents.some((p) => p.requiresGrad);
    const t = new Tensor(data, shape, tracked);
    if (tracked) {
      t.parents = parents;
      t.backwardFn = backwardFn;
      t.borrowed = borrowed;
    }
    return t;
  }

  /** Back-propagates from this scalar (or from `seed`, a gradient of this tensor's shape). */
  backward(seed?: Float32Array, opts: BackwardOptions = {}): void {
    if (!this.requiresGrad) throw new Error('backward: this tensor does not depend on any parameter');
    if (!seed && this.size !== 1) throw new Error(`backward: needs a seed gradient for a non-scalar of shape [${this.shape}]`);
    const order = Tensor.topoOrder(this);
    const be = backend();
    // A backward closure may hand one array to several parents (add does); the first owner keeps it and
    // every later owner gets a copy, so accumulating into one gradient never changes another.
    const owned = new Set<Float32Array>();
    // With `release`: a released array leaves `owned` (the backend may hand it out again as a new gradient).
    const release = opts.release && be.release ? (a: Float32Array) => (owned.delete(a), be.release!(a)) : null;
    // Per data array, the tensors still to be processed that hold it: it goes back when the last is done.
    // Arrays of leaves, of the root and borrowed ones never do.
    const holders = new Map<Float32Array, number>();
    if (release)
      for (const t of order) holders.set(t.data, t.parents.length === 0 || t === this || t.borrowed ? Infinity : (holders.get(t.data) ?? 0) + 1);
    // Gradients summed into a parent's: dead once no parent owns them.
    const summed = new Set<Float32Array>();
    const give = (t: Tensor, g: Float32Array) => {
      if (t.grad) {
        be.accumulate(t.grad, g);
        summed.add(g);
      } else t.grad = owned.has(g) ? g.slice() : g;
      owned.add(t.grad);
    };
    give(this, seed ?? new Float32Array([1]));
    releasing = !!release;
    try {
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        if (t.backwardFn && t.grad) {
          const g = t.grad;
          const grads = t.backwardFn(g);
          // An intermediate is done with its gradient: the first parent handed the same array may own it. (The
          // root's is the caller's seed.)
          const own = t.parents.length > 0 && t !== this;
          if (own) owned.delete(g);
          t.parents.forEach((p, j) => {
            const pg = grads[j];
            if (pg && p.requiresGrad) give(p, pg);
          });
          // Intermediate gradients are not needed once passed on; dropping them halves peak memory.
          if (t.parents.length > 0) t.grad = null;
          if (own && release && !grads.some((r) => r?.buffer === g.buffer)) summed.add(g);
          if (release) for (const d of summed) if (!owned.has(d)) release(d);
          summed.clear();
        }
        if (release && holders.set(t.data, holders.get(t.data)! - 1).get(t.data) === 0) {
          release(t.data);
          (t as { data: Float32Array }).data = RELEASED;
        }
      }
    } finally {
      releasing = false;
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
