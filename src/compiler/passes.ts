// Folding passes: each returns a graph that computes the same function with fewer nodes, moving weight norm,
// gates, ReLUs and affine shifts into conv weights, biases and pad values. Every fold is exact in real
// arithmetic; in float32 it differs from the unfolded graph by rounding only.
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { type AffineNode, type ConvNode, consumers, describe, type Graph, INPUT, type Node, producers, renameUses, type ValueId, without } from './ir.js';
import { foldBranches } from './reparam.js';

/** w = g·v/‖v‖ with the engine's own weightNorm, so the folded weight is the one Model.forward uses. */
export function foldWeightNorm(g: Graph): Graph {
  const nodes = g.nodes.map((n): Node => {
    if (n.op !== 'conv' || n.g === null) return n;
    const w = ops.weightNorm(new Tensor(n.w, [n.k, n.k, n.cin, n.cout]), new Tensor(n.g, [n.cout])).data;
    return { ...n, w, g: null };
  });
  return { ...g, nodes };
}

/** Scales output channel o of a conv by f[o] (weights and bias). */
function scaleOutputs(c: ConvNode, f: (o: number) => number): ConvNode {
  return { ...c, w: c.w.map((v, i) => v * f(i % c.cout)), b: c.b.map((v, o) => v * f(o)) };
}

/** Σ over taps and inputs of w[..., o], in float64. */
function weightSums(c: ConvNode): Float64Array {
  const s = new Float64Array(c.cout);
  for (let i = 0; i < c.w.length; i++) s[i % c.cout] += c.w[i];
  return s;
}

/** A gate after a conv scales the conv's output channels (through its ReLU only when the gate is ≥ 0);
 *  otherwise it scales the input channels of the convs that read it, which is exact under zero padding. */
export function foldGates(graph: Graph): Graph {
  let g = graph;
  for (;;) {
    const gate = g.nodes.find((n) => n.op === 'gate');
    if (!gate || gate.op !== 'gate') return g;
    const prod = producers(g).get(gate.x);
    const uses = consumers(g);
    if (prod?.op === 'conv' && uses.get(gate.x)!.length === 1 && (!prod.relu || gate.g.every((v) => v >= 0))) {
      g = without(g, [gate], [[prod, { ...scaleOutputs(prod, (o) => gate.g[o]), y: gate.y }]]);
      continue;
    }
    const readers = uses.get(gate.y) ?? [];
    if (gate.y === g.output || !readers.every((n) => n.op === 'conv' && n.pad === 0))
      throw new Error(`compiler: cannot fold the gate on v${gate.x}: it follows no conv it can scale and feeds ${readers.map(describe).join(', ') || 'the output'}`);
    g = without(
      g,
      [gate],
      readers.map((n) => {
        const c = n as ConvNode;
        return [c, { ...c, x: gate.x, w: c.w.map((v, i) => v * gate.g[Math.floor(i / c.cout) % c.cin]) }];
      }),
    );
  }
}

/** relu(conv(x)) → conv with a fused ReLU, when nothing else reads the conv's output. */
export function fuseRelu(graph: Graph): Graph {
  let g = graph;
  for (;;) {
    const uses = consumers(g);
    const prods = producers(g);
    const relu = g.nodes.find((n) => n.op === 'relu' && prods.get(n.x)?.op === 'conv' && uses.get(n.x)!.length === 1);
    if (!relu || relu.op !== 'relu') return g;
    const conv = prods.get(relu.x) as ConvNode;
    g = without(g, [relu], [[conv, { ...conv, relu: true, y: relu.y }]]);
  }
}

/**
 * Affine maps (the ±0.5 shifts) disappear into convs. On the input side, conv(a·x + s) with padding p is
 * conv'(x) with w' = a·w, b' = b + s·Σw and padding (p − s)/a: the padded border stays exact because the pad
 * value moves with the shift instead of the shift moving into the bias alone. On the output side, an affine
 * after a conv (or a sum of convs, or a depth-to-space of one) scales the weights and adds to a bias.
 */
export function foldAffine(graph: Graph): Graph {
  let g = graph;
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of g.nodes) {
      if (n.op !== 'affine') continue;
      const next = affineIntoReaders(g, n) ?? affineIntoProducer(g, n);
      if (next) {
        g = next;
        changed = true;
        break;
      }
    }
  }
  return g;
}

function affineIntoReaders(g: Graph, n: AffineNode): Graph | null {
  const readers = consumers(g).get(n.y) ?? [];
  if (n.scale === 0 || n.y === g.output || readers.length === 0 || !readers.every((r) => r.op === 'conv')) return null;
  return without(
    g,
    [n],
    readers.map((r) => {
      const c = r as ConvNode;
      const sums = weightSums(c);
      return [c, { ...c, x: n.x, w: c.w.map((v) => v * n.scale), b: c.b.map((v, o) => v + n.shift * sums[o]), pad: (c.pad - n.shift) / n.scale }];
    }),
  );
}

function affineIntoProducer(g: Graph, n: AffineNode): Graph | null {
  const pushed = pushAffine(without(g, [n]), n.x, n.scale, n.shift);
  return pushed && renameUses(pushed, n.y, n.x);
}

/** Makes value v come out as a·v + s by changing the nodes that produce it, or null if that is not exact. */
function pushAffine(g: Graph, v: ValueId, a: number, s: number): Graph | null {
  if (v === INPUT || (consumers(g).get(v)?.length ?? 0) > 1) return null;
  const p = producers(g).get(v)!;
  switch (p.op) {
    case 'conv':
      if (p.relu && (a < 0 || s !== 0)) return null;
      return without(g, [], [[p, { ...scaleOutputs(p, () => a), b: p.b.map((b) => a * b + s) }]]);
    case 'add': {
      const first = pushAffine(g, p.a, a, s);
      return first && pushAffine(first, p.b, a, 0);
    }
    case 'depthToSpace':
      return pushAffine(g, p.x, a, s);
    default:
      return null;
  }
}

/** The passes that every compile runs, in order: branches add to the deployed (weight-norm folded) weight. */
export function foldAll(g: Graph): Graph {
  return foldAffine(fuseRelu(foldGates(foldBranches(foldWeightNorm(g)))));
}
