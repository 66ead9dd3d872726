// Folds training-time branches (models/reparam.ts) into the convs they belong to, so every target, the ONNX
// export and every speed figure see the plain architecture's convs only. Four exact rewrites, repeated until
// none applies: a fixed conv that only repeats its input's channels, read by a sum, becomes that sum's
// broadcast (a luminance tail's s² values added to R, G and B: a third of the MACs of composing it into the
// tail); a branch's 1×1 and k×k convs compose into one conv, and so does any other fixed conv (a colour
// conversion, models/layers.ts fixedConv) with the conv it belongs to; a branch conv added to its conv (same input)
// joins its weights, centred; x + conv(x) puts a 1 on the centre tap's diagonal. Weights are summed in float64
// and rounded once. Runs after weight norm is folded: branches add to the deployed weight.
import { composedWeight } from '../engine/conv-weights.js';
import { type AddNode, type ConvNode, consumers, describe, type Graph, producers, type ValueId, without } from './ir.js';

const centre = (k: number) => ((k - 1) / 2) * (k + 1);

/** The conv producing `v` when `v` has exactly one reader (the node being rewritten) and no ReLU. */
function linearConv(g: Graph, v: ValueId): ConvNode | null {
  const p = producers(g).get(v);
  return p?.op === 'conv' && !p.relu && p.g === null && consumers(g).get(v)?.length === 1 ? p : null;
}

/** a then b as one conv, when one of them is 1×1, named as `keep` (one of them). After a 1×1 with a bias, a k×k
 *  conv's zero padding would see the bias nowhere along the border, so that case must have none (branch and
 *  fixed convs have none). */
function compose(a: ConvNode, b: ConvNode, keep: ConvNode): ConvNode | null {
  if (a.k > 1 && b.k > 1) return null;
  if (b.k > 1 && (b.pad !== 0 || a.b.some((v) => v !== 0))) return null;
  const k = Math.max(a.k, b.k);
  const w = composedWeight(a.w, a.k, b.w, b.k, a.cin, a.cout, b.cout);
  // a's bias through b: b is 1×1 here, or a's bias is zero.
  const bias = Float32Array.from(b.b, (bo, o) => {
    let s = bo;
    for (let m = 0; m < a.cout; m++) s += a.b[m] * b.w[m * b.cout + o];
    return s;
  });
  return { ...keep, x: a.x, y: b.y, k, cin: a.cin, cout: b.cout, w, b: bias, relu: b.relu, pad: a.k === 1 ? b.pad : a.pad };
}

/** Which of a then b (a feeding only b, linearly) the composed conv stands for: b in a branch's chain (still
 *  a branch conv), the other one when either is a fixed conv belonging to it; null when they do not compose. */
function survivor(a: ConvNode, b: ConvNode): ConvNode | null {
  if (a.fixed) return a.branchOf === b.name ? b : null;
  if (b.fixed) return b.branchOf === a.name ? a : null;
  return b.branchOf !== undefined && a.branchOf === b.branchOf && !b.relu ? b : null;
}

/** A fixed 1×1 conv without bias whose output channel o copies input channel o mod cin. */
function repeats(c: ConvNode): boolean {
  return c.fixed === true && c.k === 1 && c.cout % c.cin === 0 && c.cout > c.cin && c.b.every((v) => v === 0) &&
    c.w.every((v, j) => v === ((j % c.cout) % c.cin === Math.floor(j / c.cout) ? 1 : 0));
}

/** sum(repeat(x), other) → sum(other, x) with x broadcast (ir.ts AddNode). */
function broadcastRepeat(g: Graph): Graph | null {
  const uses = consumers(g);
  for (const r of g.nodes) {
    if (r.op !== 'conv' || !repeats(r) || uses.get(r.y)?.length !== 1) continue;
    const add = uses.get(r.y)![0];
    if (add.op !== 'add' || add.a === add.b) continue;
    return without(g, [r], [[add, { ...add, a: add.a === r.y ? add.b : add.a, b: r.x }]]);
  }
  return null;
}

/** A branch conv fed by another of the same branch, or a fixed conv and its neighbour, become one conv. */
function composeChain(g: Graph): Graph | null {
  for (const b of g.nodes) {
    if (b.op !== 'conv') continue;
    const a = linearConv(g, b.x);
    const keep = a && survivor(a, b);
    const c = keep && compose(a, b, keep);
    if (c) return without(g, [a!], [[b, c]]);
  }
  return null;
}

/** m + branch, both reading the same value, as m with the branch's weight added at its centre taps. */
function join(m: ConvNode, br: ConvNode, y: ValueId): ConvNode | null {
  if (br.fixed || br.branchOf !== m.name || br.x !== m.x || br.k > m.k || br.cin !== m.cin || br.cout !== m.cout) return null;
  // A smaller kernel embedded in a larger one reads its border taps through the larger one's padding.
  if (br.k > 1 && br.k < m.k && br.pad !== m.pad) return null;
  const w = Float32Array.from(m.w);
  const off = (m.k - br.k) / 2;
  for (let ty = 0; ty < br.k; ty++)
    for (let tx = 0; tx < br.k; tx++) {
      const from = (ty * br.k + tx) * m.cin * m.cout;
      const to = ((ty + off) * m.k + tx + off) * m.cin * m.cout;
      for (let j = 0; j < m.cin * m.cout; j++) w[to + j] = m.w[to + j] + br.w[from + j];
    }
  return { ...m, y, w, b: Float32Array.from(m.b, (v, o) => v + br.b[o]) };
}

/** x + conv(x) with as many outputs as inputs: the conv with an identity added to its centre tap. */
function identity(m: ConvNode, x: ValueId, y: ValueId): ConvNode | null {
  if (m.x !== x || m.cin !== m.cout || m.branchOf !== undefined) return null;
  const w = Float32Array.from(m.w);
  for (let i = 0; i < m.cin; i++) w[(centre(m.k) * m.cin + i) * m.cout + i] += 1;
  return { ...m, y, w };
}

function foldSum(g: Graph, add: AddNode): Graph | null {
  for (const [p, q] of [
    [add.a, add.b],
    [add.b, add.a],
  ]) {
    const m = linearConv(g, p);
    if (!m || m.branchOf !== undefined) continue;
    const br = linearConv(g, q);
    const joined = br ? join(m, br, add.y) : identity(m, q, add.y);
    if (joined) return without(g, br ? [br, add] : [add], [[m, joined]]);
  }
  return null;
}

export function foldBranches(graph: Graph): Graph {
  let g = graph;
  for (;;) {
    const next = broadcastRepeat(g) ?? composeChain(g) ?? g.nodes.reduce<Graph | null>((done, n) => done ?? (n.op === 'add' ? foldSum(g, n) : null), null);
    if (!next) break;
    g = next;
  }
  const left = g.nodes.find((n): n is ConvNode & { branchOf: string } => n.op === 'conv' && n.branchOf !== undefined);
  if (left?.fixed) throw new Error(`compiler: the fixed conv ${describe(left)} does not compose into conv '${left.branchOf}' (it must be that conv's only input or read only its output, with no ReLU between)`);
  if (left) throw new Error(`compiler: the training branch ${describe(left)} does not fold into conv '${left.branchOf}' (it must add to that conv's output before anything else reads it)`);
  return g;
}
