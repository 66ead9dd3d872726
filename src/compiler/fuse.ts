// Fusion: the folded graph's convs, sums and final depth-to-space regrouped into stages, each of which the
// native backend runs as one kernel that never writes its intermediates to memory:
//   - a 1×1 conv read only by the next conv joins that conv's chain (WDSR-B's expansion and reduction ride
//     along with the block's 3×3, so the M1-wide tensor exists only in a per-thread tile);
//   - a sum of two convs becomes one stage with two terms (the tail and the global skip);
//   - a sum of a conv and anything else becomes the conv's residual (repeated, if it has fewer channels: a
//     luminance tail's sub-pixels added to R, G and B);
//   - a depth-to-space producing the graph output becomes the stage's store.
import { channelsOf, consumers, type ConvNode, describe, type Graph, INPUT, type Node, producers, type StageNode } from './ir.js';

function stageOf(c: ConvNode): StageNode {
  return {
    op: 'stage',
    name: c.name,
    y: c.y,
    terms: [{ x: c.x, chain: [], k: c.k, cin: c.cin, cout: c.cout, w: c.w, pad: c.pad }],
    b: c.b,
    relu: c.relu,
    residual: null,
    shuffle: 1,
  };
}

/** A stage that is a plain conv output (no residual, no shuffle) and may therefore be merged into another. */
const plain = (n: Node | undefined): n is StageNode => n?.op === 'stage' && n.residual === null && n.shuffle === 1;

export function fuseStages(graph: Graph): Graph {
  let g: Graph = { ...graph, nodes: graph.nodes.map((n) => (n.op === 'conv' ? stageOf(n) : n)) };
  for (let next = fuseOnce(g); next; next = fuseOnce(g)) g = next;
  return g;
}

function fuseOnce(g: Graph): Graph | null {
  const uses = consumers(g);
  const prods = producers(g);
  const channels = channelsOf(g);
  const only = (v: number, reader: Node) => v !== g.output && uses.get(v)?.length === 1 && uses.get(v)![0] === reader;
  const rewrite = (drop: Node[], swap: [Node, Node]) => ({
    ...g,
    nodes: g.nodes.filter((n) => !drop.includes(n)).map((n) => (n === swap[0] ? swap[1] : n)),
  });

  for (const n of g.nodes) {
    if (n.op === 'stage') {
      // Chain: a plain single-term 1×1 stage that only this term reads (and that does not read the raw input,
      // so a chain always starts from a stage's output).
      for (const [ti, t] of n.terms.entries()) {
        const p = prods.get(t.x);
        if (!plain(p) || p.terms.length !== 1 || p.terms[0].k !== 1 || p.terms[0].x === INPUT || !only(t.x, n)) continue;
        const pt = p.terms[0];
        const pw = { cin: pt.cin, cout: pt.cout, w: pt.w, b: p.b, relu: p.relu };
        const terms = n.terms.map((u, i) => (i === ti ? { ...u, x: pt.x, chain: [...pt.chain, pw, ...u.chain] } : u));
        return rewrite([p], [n, { ...n, name: `${p.name}+${n.name}`, terms }]);
      }
    }
    if (n.op === 'add') {
      const [a, b] = [prods.get(n.a), prods.get(n.b)];
      const [ca, cb] = [channels.get(n.a)!, channels.get(n.b)!];
      if (plain(a) && plain(b) && a !== b && ca === cb && !a.relu && !b.relu && only(n.a, n) && only(n.b, n)) {
        const merged: StageNode = { ...a, name: `${a.name}+${b.name}`, y: n.y, terms: [...a.terms, ...b.terms], b: a.b.map((v, o) => v + b.b[o]) };
        return rewrite([n, b], [a, merged]);
      }
      for (const [branch, other] of [
        [b, n.a],
        [a, n.b],
      ] as const) {
        // The raw frame is HWC, not a stage's planar layout: it cannot be read as a residual. Only a's side
        // (all of the sum's channels) can take the other as its residual.
        const rc = channels.get(other)!;
        if (plain(branch) && only(branch.y, n) && other !== INPUT && channels.get(branch.y) === ca)
          return rewrite([n], [branch, { ...branch, y: n.y, residual: other, ...(rc < ca ? { residualChannels: rc } : {}) }]);
      }
    }
    if (n.op === 'depthToSpace' && n.y === g.output) {
      const p = prods.get(n.x);
      if (p?.op === 'stage' && p.shuffle === 1 && only(n.x, n)) return rewrite([n], [p, { ...p, y: n.y, shuffle: n.s }]);
    }
  }
  return null;
}

/** The stages of a fully fused graph, or an error naming the first node the native backend cannot run. */
export function stagesOf(g: Graph): StageNode[] {
  const bad = g.nodes.find((n) => n.op !== 'stage');
  if (bad) throw new Error(`compiler: ${describe(bad)} does not fuse into a stage (only convs, sums, a final depth-to-space and foldable affine maps and gates compile)`);
  return g.nodes as StageNode[];
}
