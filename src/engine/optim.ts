// Adam and AdamW (decoupled weight decay, Loshchilov & Hutter), with state that can be saved and restored
// exactly, so a resumed run continues bit for bit.
import { backend, Tensor } from './tensor.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay; 0 (the default) is plain Adam. */
  weightDecay?: number;
  /** One second moment for the whole group (the mean square of all its gradients) instead of one per element,
   *  so updates keep the gradients' relative sizes across elements (the search's gates: a channel that costs
   *  more moves faster); plain Adam moves every element at about `lr` whatever its gradient's size. */
  sharedScale?: boolean;
}

export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly sharedScale: boolean;
  private state: AdamState;

  constructor(readonly params: readonly Tensor[], opts: AdamOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.sharedScale = opts.sharedScale ?? false;
    for (const p of params) if (!p.requiresGrad) throw new Error(`Adam: a parameter of shape [${p.shape}] does not require grad`);
    this.state = { step: 0, m: params.map((p) => new Float32Array(p.size)), v: params.map((p) => new Float32Array(p.size)) };
  }

  get stepCount(): number {
    return this.state.step;
  }

  /** One update with learning rate `lr`; parameters without a gradient this step are left alone. */
  step(lr: number): void {
    const step = ++this.state.step;
    if (this.sharedScale) return this.sharedStep(lr, step);
    const be = backend();
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      be.adamStep(p.data, p.grad, this.state.m[i], this.state.v[i], {
        lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, step,
      });
    });
  }

  /** The shared-scale update in plain TS (it serves small tensors such as gates); every element's v holds the
   *  group's one second moment, so saved states look like plain Adam's. */
  private sharedStep(lr: number, step: number): void {
    const live = this.params.map((p, i) => ({ p, i })).filter(({ p }) => p.grad);
    let sum = 0;
    let n = 0;
    for (const { p } of live) {
      for (const g of p.grad!) sum += g * g;
      n += p.size;
    }
    if (n === 0) return;
    const v = this.beta2 * this.state.v[0][0] + (1 - this.beta2) * (sum / n);
    for (const a of this.state.v) a.fill(v);
    const denom = Math.sqrt(v / (1 - this.beta2 ** step)) + this.eps;
    const c1 = 1 - this.beta1 ** step;
    for (const { p, i } of live) {
      const m = this.state.m[i];
      for (let j = 0; j < p.size; j++) {
        m[j] = this.beta1 * m[j] + (1 - this.beta1) * p.grad![j];
        p.data[j] -= lr * (m[j] / c1 / denom + this.weightDecay * p.data[j]);
      }
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** The moments and step count (copies), for checkpoints. */
  saveState(): AdamState {
    return { step: this.state.step, m: this.state.m.map((a) => a.slice()), v: this.state.v.map((a) => a.slice()) };
  }

  loadState(s: AdamState): void {
    const sizes = this.params.map((p) => p.size);
    const ok = s.m.length === sizes.length && s.v.length === sizes.length && sizes.every((n, i) => s.m[i].length === n && s.v[i].length === n);
    if (!ok) throw new Error(`Adam.loadState: state is for ${s.m.length} tensors of other sizes than these ${sizes.length} parameters`);
    this.state = { step: s.step, m: s.m.map((a) => a.slice()), v: s.v.map((a) => a.slice()) };
  }
}
