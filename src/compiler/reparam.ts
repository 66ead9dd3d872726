// Folds training-time branches (models/reparam.ts) into the convs they belong to, so every target, the ONNX
// export and every speed figure see the plain architecture's convs only. Three exact rewrites, repeated until
// none applies: a branch's 1×1 and k×k convs compose into one conv; a branch conv added to its conv (same input)
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

/** a then b as one conv, when one of them is 1×1. After a 1×1 with a bias, a k×k conv's zero padding would see
 *  the bias nowhere along the border, so that case must have none (branch convs have none). */
function compose(a: ConvNode, b: ConvNode): ConvNode | null {
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
  return { ...b, x: a.x, k, cin: a.cin, w, b: bias, pad: a.k === 1 ? b.pad : a.pad };
}

/** A branch conv fed by another of the same branch becomes one conv. */
function composeChain(g: Graph): Graph | null {
  for (const b of g.nodes) {
    if (b.op !== 'conv' || b.branchOf === undefined || b.relu) continue;
    const a = linearConv(g, b.x);
    const c = a?.branchOf === b.branchOf ? compose(a, b) : null;
    if (c) return without(g, [a!], [[b, c]]);
  }
  return null;
}

/** m + branch, both reading the same value, as m with the branch's weight added at its centre taps. */
function join(m: ConvNode, br: ConvNode, y: ValueId): ConvNode | null {
  if (br.branchOf !== m.name || br.x !== m.x || br.k > m.k || br.cin !== m.cin || br.cout !== m.cout) return null;
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
    const next = composeChain(g) ?? g.nodes.reduce<Graph | null>((done, n) => done ?? (n.op === 'add' ? foldSum(g, n) : null), null);
    if (!next) break;
    g = next;
  }
  const left = g.nodes.find((n): n is ConvNode & { branchOf: string } => n.op === 'conv' && n.branchOf !== undefined);
  if (left) throw new Error(`compiler: the training branch ${describe(left)} does not fold into conv '${left.branchOf}' (it must add to that conv's output before anything else reads it)`);
  return g;
}
