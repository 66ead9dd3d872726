// An exponential moving average of a model's weights (Polyak averaging; the EMA of BasicSR's and timm's
// recipes): after every optimiser step, avg ← d·avg + (1 − d)·w with d = min(decay, (1 + t)/(10 + t)) at update t,
// so the first steps are not averaged with the random initial weights for long. A pure function of the weights
// and t, and its tensors go into checkpoints, so a resumed run averages exactly as one that never stopped.
import { Tensor } from '../engine/tensor.js';
import type { ParamMap } from '../models/arch.js';

export class Ema {
  readonly params: ParamMap;

  constructor(
    private readonly live: ParamMap,
    readonly decay: number,
  ) {
    this.params = new Map([...live].map(([name, t]) => [name, new Tensor(t.data.slice(), t.shape)]));
  }

  /** After the optimiser's update `t` (1-based). */
  update(t: number): void {
    const d = Math.min(this.decay, (1 + t) / (10 + t));
    for (const [name, avg] of this.params) {
      const w = this.live.get(name)!.data;
      const a = avg.data;
      for (let i = 0; i < a.length; i++) a[i] = d * a[i] + (1 - d) * w[i];
    }
  }

  /** The averages by checkpoint name (`ema/<param>`). */
  state(): Map<string, Tensor> {
    return new Map([...this.params].map(([name, t]) => [`ema/${name}`, t]));
  }
}
