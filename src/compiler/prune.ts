// Pruning passes: remove channels that are always zero or that nothing reads (a supernet's zero gates), and
// nodes that no longer reach the output (skipped blocks). Run after the folds, when gates live in weights.
import { channelsOf, type ConvNode, consumers, type Graph, inputsOf, INPUT, type Node, producers, renameUses, type ValueId } from './ir.js';

/** Keeps output channels `keep` of a conv. */
function keepOutputs(c: ConvNode, keep: number[]): ConvNode {
  const w = new Float32Array(c.k * c.k * c.cin * keep.length);
  for (let t = 0; t < c.k * c.k * c.cin; t++) keep.forEach((o, j) => (w[t * keep.length + j] = c.w[t * c.cout + o]));
  return { ...c, cout: keep.length, w, b: Float32Array.from(keep, (o) => c.b[o]) };
}

/** Keeps input channels `keep` of a conv. */
function keepInputs(c: ConvNode, keep: number[]): ConvNode {
  const w = new Float32Array(c.k * c.k * keep.length * c.cout);
  for (let t = 0; t < c.k * c.k; t++)
    keep.forEach((i, j) => w.set(c.w.subarray((t * c.cin + i) * c.cout, (t * c.cin + i + 1) * c.cout), (t * keep.length + j) * c.cout));
  return { ...c, cin: keep.length, w };
}

/** Output channel o of a conv is identically zero: no weight and no bias (ReLU keeps a zero at zero). */
const outputZero = (c: ConvNode, o: number) => c.b[o] === 0 && c.w.every((v, i) => i % c.cout !== o || v === 0);
/** Input channel i of a conv is never read: all its weights are zero. */
const inputIgnored = (c: ConvNode, i: number) => c.w.every((v, j) => Math.floor(j / c.cout) % c.cin !== i || v === 0);

/**
 * Values joined by adds share their channels (a residual trunk: the head, every block's output and every sum).
 * Per such class, a channel can go when every conv reading the class ignores it, or when every conv writing
 * the class leaves it at zero and the readers pad with zero (a zero channel then contributes nothing, border
 * included). Dropping channels can make others droppable, so this runs to a fixed point. A class touched by
 * anything but convs and adds (the input, the output, a depth-to-space) keeps its channels.
 */
export function pruneChannels(graph: Graph): Graph {
  let g = graph;
  for (let changed = true; changed; ) {
    changed = false;
    for (const cls of addClasses(g)) {
      const next = pruneClass(g, cls);
      if (next) {
        g = next;
        changed = true;
        break;
      }
    }
  }
  return g;
}

function addClasses(g: Graph): ValueId[][] {
  const parent = new Map<ValueId, ValueId>();
  const find = (v: ValueId): ValueId => {
    const p = parent.get(v) ?? v;
    if (p === v) return v;
    const r = find(p);
    parent.set(v, r);
    return r;
  };
  // A repeated (broadcast) operand has channels of its own: it joins no class.
  const channels = channelsOf(g);
  for (const n of g.nodes) if (n.op === 'add') for (const v of channels.get(n.b) === channels.get(n.a) ? [n.a, n.b] : [n.a]) parent.set(find(v), find(n.y));
  const classes = new Map<ValueId, ValueId[]>();
  for (const v of [INPUT, ...g.nodes.map((n) => n.y)]) classes.set(find(v), [...(classes.get(find(v)) ?? []), v]);
  return [...classes.values()];
}

function pruneClass(g: Graph, cls: ValueId[]): Graph | null {
  const members = new Set(cls);
  if (members.has(INPUT) || members.has(g.output)) return null;
  const prods = producers(g);
  const writers = cls.map((v) => prods.get(v)!).filter((n) => n.op !== 'add');
  const uses = consumers(g);
  const readers = [...new Set(cls.flatMap((v) => uses.get(v) ?? []))].filter((n) => !(n.op === 'add' && members.has(n.y)));
  if (!writers.every((n) => n.op === 'conv') || !readers.every((n) => n.op === 'conv')) return null;
  const ws = writers as ConvNode[];
  const rs = readers as ConvNode[];
  const n = ws[0].cout;
  const zeroPad = rs.every((c) => c.pad === 0);
  const keep = Array.from({ length: n }, (_, ch) => ch).filter(
    (ch) => !(rs.every((c) => inputIgnored(c, ch)) || (zeroPad && ws.every((c) => outputZero(c, ch)))),
  );
  // A value needs a channel to exist; an all-zero class is left to eliminateDead.
  if (keep.length === n || keep.length === 0) return null;
  const swap = new Map<Node, Node>();
  for (const c of ws) swap.set(c, keepOutputs(c, keep));
  for (const c of rs) swap.set(c, keepInputs((swap.get(c) as ConvNode | undefined) ?? c, keep));
  return { ...g, nodes: g.nodes.map((node) => swap.get(node) ?? node) };
}

/** A sum with an all-zero operand is its other operand (a block whose branch is gated off); then every node
 *  whose output no longer reaches the graph output goes. */
export function eliminateDead(graph: Graph): Graph {
  let g = graph;
  for (;;) {
    const prods = producers(g);
    const allZero = (v: ValueId) => {
      const p = prods.get(v);
      return p?.op === 'conv' && p.b.every((b) => b === 0) && p.w.every((w) => w === 0);
    };
    // A sum is its a when b is zero; its b only when b has all of its channels (b may be repeated).
    const channels = channelsOf(g);
    const add = g.nodes.find((n) => n.op === 'add' && ((allZero(n.a) && channels.get(n.a) === channels.get(n.b)) || allZero(n.b)));
    if (!add || add.op !== 'add') break;
    const other = allZero(add.b) ? add.a : add.b;
    g = renameUses({ ...g, nodes: g.nodes.filter((n) => n !== add) }, add.y, other);
  }
  const live = new Set<ValueId>([g.output]);
  for (let i = g.nodes.length - 1; i >= 0; i--) if (live.has(g.nodes[i].y)) for (const v of inputsOf(g.nodes[i])) live.add(v);
  return { ...g, nodes: g.nodes.filter((n) => live.has(n.y)) };
}
