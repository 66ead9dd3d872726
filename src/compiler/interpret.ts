// Runs any graph, fused or not, node by node with the reference backend's kernels: the oracle that every pass
// and the native code are tested against, and the `reference` backend of compile(). A stage runs as the
// unfused convs it stands for.
import type { ConvShape } from '../backends/backend.js';
import { referenceBackend as ref } from '../backends/reference.js';
import { describe, type Graph, INPUT, type Term, type ValueId } from './ir.js';

interface Act {
  data: Float32Array;
  h: number;
  w: number;
  c: number;
}

/** "Same" conv whose input takes the value `pad` outside the image: with pad ≠ 0 the input is padded
 *  explicitly and the centre of a zero-padded conv over it kept, so the border is exact. */
function conv(x: Act, k: number, cout: number, w: Float32Array, b: Float32Array | null, pad: number, relu: boolean): Act {
  const shape = (h: number, wd: number): ConvShape => ({ n: 1, h, w: wd, cin: x.c, cout, k });
  if (pad === 0) return { data: ref.conv2d(x.data, w, b, shape(x.h, x.w), relu), h: x.h, w: x.w, c: cout };
  const r = (k - 1) >> 1;
  const [ph, pw] = [x.h + 2 * r, x.w + 2 * r];
  const padded = new Float32Array(ph * pw * x.c).fill(pad);
  for (let y = 0; y < x.h; y++) padded.set(x.data.subarray(y * x.w * x.c, (y + 1) * x.w * x.c), ((y + r) * pw + r) * x.c);
  const full = ref.conv2d(padded, w, b, shape(ph, pw), relu);
  const out = new Float32Array(x.h * x.w * cout);
  for (let y = 0; y < x.h; y++) out.set(full.subarray(((y + r) * pw + r) * cout, ((y + r) * pw + r + x.w) * cout), y * x.w * cout);
  return { data: out, h: x.h, w: x.w, c: cout };
}

function term(x: Act, t: Term): Act {
  let v = x;
  for (const p of t.chain) v = conv(v, 1, p.cout, p.w, p.b, 0, p.relu);
  return conv(v, t.k, t.cout, t.w, null, t.pad, false);
}

const like = (a: Act, data: Float32Array): Act => ({ ...a, data });

/** x's channels repeated up to c (ir.ts AddNode's broadcast): channel o is x's channel o mod x.c. */
function repeated(x: Act, c: number): Float32Array {
  if (x.c === c) return x.data;
  const out = new Float32Array(x.h * x.w * c);
  for (let i = 0; i < out.length; i++) out[i] = x.data[Math.floor(i / c) * x.c + ((i % c) % x.c)];
  return out;
}

/** x: HWC float of h×w×3 → the graph's output, HWC. */
export function interpret(g: Graph, x: Float32Array, h: number, w: number): Float32Array {
  if (x.length !== h * w * 3) throw new Error(`interpret: ${x.length} values for a ${w}x${h} RGB image`);
  const values = new Map<ValueId, Act>([[INPUT, { data: x, h, w, c: 3 }]]);
  const get = (v: ValueId) => values.get(v)!;
  for (const n of g.nodes) {
    let y: Act;
    switch (n.op) {
      case 'conv':
        if (n.g !== null) throw new Error(`interpret: ${describe(n)} still has weight-norm gains; run foldWeightNorm first`);
        y = conv(get(n.x), n.k, n.cout, n.w, n.b, n.pad, n.relu);
        break;
      case 'add':
        y = like(get(n.a), ref.binary('add', get(n.a).data, repeated(get(n.b), get(n.a).c)));
        break;
      case 'affine':
        y = like(get(n.x), ref.affine(get(n.x).data, n.scale, n.shift));
        break;
      case 'gate':
        y = like(get(n.x), ref.mulChannels(get(n.x).data, n.g, n.g.length));
        break;
      case 'relu':
        y = like(get(n.x), ref.unary('relu', get(n.x).data));
        break;
      case 'depthToSpace': {
        const a = get(n.x);
        y = { data: ref.depthToSpace(a.data, 1, a.h, a.w, a.c / (n.s * n.s), n.s), h: a.h * n.s, w: a.w * n.s, c: a.c / (n.s * n.s) };
        break;
      }
      case 'stage': {
        const sum = n.terms.map((t) => term(get(t.x), t)).reduce((acc, t) => like(acc, ref.binary('add', acc.data, t.data)));
        let v = like(sum, sum.data.map((s, i) => s + n.b[i % sum.c]));
        if (n.relu) v = like(v, ref.unary('relu', v.data));
        if (n.residual !== null) v = like(v, ref.binary('add', v.data, repeated(get(n.residual), v.c)));
        const s = n.shuffle;
        y = s === 1 ? v : { data: ref.depthToSpace(v.data, 1, v.h, v.w, v.c / (s * s), s), h: v.h * s, w: v.w * s, c: v.c / (s * s) };
        break;
      }
    }
    values.set(n.y, y);
  }
  return get(g.output).data;
}
