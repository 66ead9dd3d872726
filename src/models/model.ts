// A model: a validated spec, its parameters, and what can be derived from them (forward pass, parameter and
// MAC counts). Initialisation is seeded and follows PyTorch's defaults, with weight-norm gains as the spec says.
// Training-time branches (reparam.ts) have parameters here but fold away, and fixed convs fold in: counts are
// the deployed network's.
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../util/random.js';
import type { ConvDef, ParamMap } from './arch.js';
import { convWeight, setConvWeight } from './layers.js';
import { branchConvs, branchesOf, type Reparam, withReparam } from './reparam.js';
import { architecture, type ArchSpec } from './registry.js';

export class Model {
  constructor(
    readonly spec: ArchSpec,
    readonly params: ParamMap,
  ) {
    const want = paramShapes(spec);
    for (const [name, shape] of want) {
      const p = params.get(name);
      if (!p) throw new Error(`model ${spec.arch}: missing parameter '${name}' [${shape}]`);
      if (p.shape.join(',') !== shape.join(',')) throw new Error(`model ${spec.arch}: parameter '${name}' is [${p.shape}], the spec needs [${shape}]`);
    }
    for (const name of params.keys()) if (!want.has(name)) throw new Error(`model ${spec.arch}: unexpected parameter '${name}'`);
  }

  static init(spec: ArchSpec, seed: number): Model {
    const rng = new Rng(seed);
    const params: ParamMap = new Map();
    const uniform = (r: Rng, c: ConvDef) => {
      const bound = 1 / Math.sqrt(c.k * c.k * c.cin);
      return r.fill(new Float32Array(c.k * c.k * c.cin * c.cout), () => r.uniform(-bound, bound));
    };
    for (const c of convs(spec)) {
      const bound = 1 / Math.sqrt(c.k * c.k * c.cin);
      const w = uniform(rng, c);
      const shape = [c.k, c.k, c.cin, c.cout];
      if (c.weightNorm) {
        params.set(`${c.name}.v`, new Tensor(w, shape, true));
        const norms = new Float32Array(c.cout);
        for (let i = 0; i < w.length; i++) norms[i % c.cout] += w[i] * w[i];
        params.set(`${c.name}.g`, new Tensor(norms.map((n) => c.gInit ?? Math.sqrt(n)), [c.cout], true));
        params.set(`${c.name}.b`, new Tensor(new Float32Array(c.cout), [c.cout], true));
      } else {
        params.set(`${c.name}.w`, new Tensor(w, shape, true));
        params.set(`${c.name}.b`, new Tensor(rng.fill(new Float32Array(c.cout), () => rng.uniform(-bound, bound)), [c.cout], true));
      }
    }
    // Branches draw from their own stream, so the main convs start as the plain model's; each branch's last
    // conv starts at zero, so the network starts as the plain one too (up to identity branches).
    const branchRng = new Rng(seed ^ 0x7e9a2a5e);
    for (const c of convs(spec))
      for (const { chain } of branchesOf(c))
        chain.forEach((p, i) => params.set(`${p.name}.w`, new Tensor(i === chain.length - 1 ? new Float32Array(p.k * p.k * p.cin * p.cout) : uniform(branchRng, p), [p.k, p.k, p.cin, p.cout], true)));
    return new Model(spec, params);
  }

  /** This network with training branches added, computing the same function: each branch's last conv starts
   *  at zero (Model.init's own branch weights) and an identity branch's 1 is taken off the conv's centre tap. */
  branched(reparam: Reparam, seed: number): Model {
    if (this.spec.reparam) throw new Error(`model ${this.spec.arch} already has training branches`);
    const spec = withReparam(this.spec, reparam);
    // Model.init's order (an optimiser's state follows it), its branch weights, and this model's convs.
    const params = Model.init(spec, seed).params;
    for (const c of convs(spec)) {
      const w = convWeight(this.params, c).data.slice();
      if (branchesOf(c).some((b) => b.kind === 'identity')) {
        const centre = ((c.k * c.k - 1) / 2) * c.cin * c.cout;
        for (let i = 0; i < c.cin; i++) w[centre + i * c.cout + i] -= 1;
      }
      setConvWeight(params, c, w);
      params.set(`${c.name}.b`, new Tensor(this.params.get(`${c.name}.b`)!.data.slice(), [c.cout], true));
    }
    return new Model(spec, params);
  }

  /** This network with a luminance body (wdsr.ts `luma`), from its weights: the head's RGB weights summed
   *  (what it computes on grey input), the tail's colours averaged. Made before any training branches. */
  luma(): Model {
    const arch = architecture(this.spec);
    if (!arch.luma) throw new Error(`${this.spec.arch} has no luminance body (wdsr-b has)`);
    if (arch.luma.spec(this.spec) === this.spec) return this;
    if (this.spec.reparam) throw new Error(`model ${this.spec.arch} has training branches: a luminance body is made from the plain network (branches are added after it)`);
    return new Model(arch.luma.spec(this.spec), arch.luma.params(this.spec, this.params));
  }

  get scale(): number {
    return this.spec.scale;
  }

  /** LR batch [n,h,w,3] in [0,1] → SR batch [n,h·s,w·s,3]. */
  forward(x: Tensor): Tensor {
    return architecture(this.spec).forward(this.spec, this.params, x);
  }

  /** Parameters of the deployed network (folded weights and biases; weight-norm gains fold away). */
  get paramCount(): number {
    return deployedConvs(this.spec).reduce((acc, c) => acc + c.k * c.k * c.cin * c.cout + c.cout, 0);
  }

  /** Multiply-accumulates for one LR input of h×w (every conv runs at LR resolution). */
  macs(h: number, w: number): number {
    return deployedConvs(this.spec).reduce((acc, c) => acc + c.k * c.k * c.cin * c.cout, 0) * h * w;
  }
}

export const convs = (spec: ArchSpec): ConvDef[] => architecture(spec).convs(spec);

const deployedConvs = (spec: ArchSpec): ConvDef[] => architecture(spec).deployedConvs?.(spec) ?? convs(spec);

function paramShapes(spec: ArchSpec): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const c of convs(spec)) {
    const w = [c.k, c.k, c.cin, c.cout];
    if (c.weightNorm) {
      m.set(`${c.name}.v`, w);
      m.set(`${c.name}.g`, [c.cout]);
    } else m.set(`${c.name}.w`, w);
    m.set(`${c.name}.b`, [c.cout]);
  }
  for (const p of branchConvs(convs(spec))) m.set(`${p.name}.w`, [p.k, p.k, p.cin, p.cout]);
  return m;
}
