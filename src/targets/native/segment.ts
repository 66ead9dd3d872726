// A segment: consecutive stages of a plan run as one pipeline, row by row, in one parallel region. Each thread
// takes bands of the last stage's output rows; producing a row pulls the rows it needs from the stages before
// it, just in time, so every value inside the segment lives in a ring of a few rows per thread (in the caches)
// instead of a frame-sized buffer that each stage streams through memory. Only the segment's inputs from outside
// (the raw frame, earlier values) and its output are whole frames.
//
// Why: on Zen 5 a block stage alone ran at 61–72 % of the FMA ceiling on a 640×360 frame and at 80–92 % on 24
// rows that stay in L2 (scripts/bench-segments.mjs, one thread); the stages were waiting on memory. The cost:
// rows in the halo of a band are computed by both neighbours (each stage's lead over the last one, at both ends
// of a band), so a segment's bands are few (one per thread) and its length is tuned (cut.ts).
//
// A segment of one stage is a stage kernel as the tuner and the profiler time it; every segment computes the
// same rows with the same functions (render.ts), so segmenting never changes a bit of the output.
import type { KernelSource } from '../../backends/native/glue.js';
import type { StageNode } from '../../compiler/ir.js';
import type { Place, StagePlan } from '../../compiler/plan.js';
import { blobLayout, residualChannels, type StageShape } from '../../compiler/stage.js';
import { hashHex } from '../../util/hash.js';
import { type NativeTuning, stageScratch } from './render.js';

export interface SegmentStage {
  readonly node: StageNode;
  readonly shape: StageShape;
  readonly tuning: NativeTuning;
  /** Name of the stage's functions (render.ts's stageFunctions). */
  readonly kernel: string;
}

/** Where a stage reads a value: produced by stage `stage` of the segment, or passed as argument `arg`. */
type Source = { readonly stage: number } | { readonly arg: number };

interface Wiring {
  readonly terms: readonly Source[];
  readonly residual: Source | null;
}

/** Each stage's sources. Arguments are numbered in the order stages and terms read them (terms, then the
 *  residual), one per read: a segment of one stage takes [term inputs…, residual?], as the runner passes them. */
function segmentWiring(nodes: readonly StageNode[]): { wiring: Wiring[]; args: number } {
  let args = 0;
  const source = (k: number, v: number): Source => {
    const j = nodes.findIndex((n, i) => i < k && n.y === v);
    return j >= 0 ? { stage: j } : { arg: args++ };
  };
  const wiring = nodes.map((n, k) => ({ terms: n.terms.map((t) => source(k, t.x)), residual: n.residual === null ? null : source(k, n.residual) }));
  return { wiring, args };
}

/** Offsets of each stage's weights in the segment's blob (the stages' blobs one after another). */
function blobOffsets(shapes: readonly StageShape[]): number[] {
  let at = 0;
  return shapes.map((s) => ((at += blobLayout(s).size), at - blobLayout(s).size));
}

/**
 * The pipeline's row bookkeeping, derived by running its pull order on a band far from the frame's edges:
 * `first[k]`, stage k's first row relative to the band's first (its lead behind: the rows its readers' rings
 * need when the band starts), and `ring[k]`, the rows of stage k's output a thread must keep (the most rows
 * produced past one that is still to be read). Edges only remove rows, so these bound every band; a thread that
 * goes up a band does the same in mirror image.
 */
export function pipelineRows(nodes: readonly StageNode[]): { first: number[]; ring: number[] } {
  const { wiring } = segmentWiring(nodes);
  const n = nodes.length;
  const radius = (k: number, t: number) => (nodes[k].terms[t].k - 1) >> 1;
  const first = nodes.map(() => 0);
  for (let k = n - 1; k >= 0; k--)
    wiring.forEach((w, c) => {
      w.terms.forEach((s, t) => 'stage' in s && s.stage === k && (first[k] = Math.min(first[k], first[c] - radius(c, t))));
      if (w.residual && 'stage' in w.residual && w.residual.stage === k) first[k] = Math.min(first[k], first[c]);
    });
  // Simulate the generated code's order (row() below): fills pull each source row just before reading it,
  // then the residual row is read.
  const next = [...first];
  const newest = nodes.map(() => -Infinity);
  const ring = nodes.map(() => 1);
  const read = (j: number, q: number) => (ring[j] = Math.max(ring[j], newest[j] - q + 1));
  const ensure = (j: number, q: number) => {
    while (next[j] <= q) row(j, next[j]++);
  };
  const row = (k: number, y: number): void => {
    wiring[k].terms.forEach((s, t) => {
      const r = radius(k, t);
      for (let yy = y === first[k] ? y - r : y + r; yy <= y + r; yy++)
        if ('stage' in s) {
          ensure(s.stage, yy);
          read(s.stage, yy);
        }
    });
    const res = wiring[k].residual;
    if (res && 'stage' in res) {
      ensure(res.stage, y);
      read(res.stage, y);
    }
    newest[k] = y;
  };
  for (let y = 0; y < 4 * (1 - Math.min(...first)) + 8; y++) row(n - 1, y);
  return { first, ring };
}

export function segmentName(stages: readonly SegmentStage[]): string {
  return `seg_${hashHex(JSON.stringify(stages.map((s) => [s.kernel, s.node.terms.map((t) => t.x), s.node.residual, s.node.y]))).slice(0, 16)}`;
}

/**
 * The kernel `k_<name>(p, s)`: p = [arguments (segmentWiring)…, out, blob], s = [H, W, threads, bands, fx0, fy0,
 * FW, ky0, ky1, kx0, kx1]: an H×W window at (fx0, fy0) of a frame FW pixels wide; the last stage computes rows
 * ky0..ky1 (a shuffling one also only columns kx0..kx1, stored at their place in the output frame).
 */
export function segmentKernel(name: string, stages: readonly SegmentStage[]): KernelSource {
  const nodes = stages.map((s) => s.node);
  const { wiring, args } = segmentWiring(nodes);
  const { first, ring } = pipelineRows(nodes);
  const offsets = blobOffsets(stages.map((s) => s.shape));
  const last = stages.length - 1;
  const shuffle = stages[last].shape.shuffle > 1;
  const OUT = args;
  const BLOB = args + 1;
  const C = `${name}_ctx`;
  const cout = (k: number) => stages[k].shape.cout;
  const scratch = stages.map((s) => stageScratch(s.shape, s.tuning));

  const fields = stages.flatMap((s, k) => [
    ...scratch[k].map((_, ti) => `  float* ring${k}_${ti}; float* tile${k}_${ti}a; float* tile${k}_${ti}b;`),
    `  int first${k}, next${k};`,
    ...(k === last ? [`  float* stile; unsigned char* bytes;`] : [`  float* val${k}; int tag${k}[${ring[k]}];`]),
  ]);
  // Row q of stage k's output inside the segment: slot q % ring, tagged with q so that a read of a row the
  // ring no longer holds (a bookkeeping bug) stops the process instead of computing a wrong image.
  const valueFns = stages.slice(0, last).flatMap((_, k) => [
    `static float* ${name}_put${k}(${C}* c, int q) { c->tag${k}[q % ${ring[k]}] = q; return c->val${k} + (long)(q % ${ring[k]}) * ${cout(k)} * c->WS; }`,
    `static const float* ${name}_get${k}(${C}* c, int q) {`,
    `  if (c->tag${k}[q % ${ring[k]}] != q) { fprintf(stderr, "rtsr native: ${name} lost row %d of stage ${k}\\n", q); abort(); }`,
    `  return c->val${k} + (long)(q % ${ring[k]}) * ${cout(k)} * c->WS;`,
    '}',
  ]);
  // A source row: pulled from an earlier stage of the segment, or read from an argument (a planar value's row,
  // or the raw frame, which the fill reads by window coordinates).
  const pull = (src: Source, row: string, term: StageShape['terms'][number]) =>
    'stage' in src
      ? `${name}_ensure${src.stage}(c, ${row}); src = ${name}_get${src.stage}(c, ${row});`
      : term.source === 'raw'
        ? `src = c->p[${src.arg}];`
        : `src = (const float*)c->p[${src.arg}] + (long)${row} * ${term.chain.length ? term.chain[0].cin : term.cin} * c->WS;`;

  const rowFns = stages.flatMap((st, k) => {
    const s = st.shape;
    const fn = st.kernel;
    const lines = [
      `static void ${name}_row${k}(${C}* c, int y) {`,
      `  const float* restrict wts = c->blob + ${offsets[k]};`,
      '  const int H = c->H;',
      '  const long WS = c->WS, RS = c->RS;',
    ];
    s.terms.forEach((term, ti) => {
      const K = term.k;
      const R = (K - 1) >> 1;
      lines.push(
        `  /* Term ${ti}: ring slot of row yy is (yy + ${R} + ${K} * H) % ${K}; a band's first row fills all ${K}, in the`,
        '     direction the thread goes, and each next row the one ahead. */',
        `  for (int i = (y == c->first${k} ? -${R} : ${R}); i <= ${R}; i++) {`,
        '    const int yy = y + i * c->dir;',
        '    const void* src = NULL;',
        `    if (yy >= 0 && yy < H) { ${pull(wiring[k].terms[ti], 'yy', term)} }`,
        `    ${fn}_fill${ti}(c->ring${k}_${ti} + (long)((yy + ${R} + ${K} * H) % ${K}) * ${term.cin} * RS, yy, src, c->tile${k}_${ti}a, c->tile${k}_${ti}b, wts, H, c->W, WS, RS, c->s);`,
        '  }',
        `  const float* rows${ti}[${K}];`,
        `  for (int dy = 0; dy < ${K}; dy++) rows${ti}[dy] = c->ring${k}_${ti} + (long)((y + dy + ${K} * H) % ${K}) * ${term.cin} * RS + VW;`,
      );
    });
    const res = wiring[k].residual;
    lines.push(
      res === null
        ? '  const float* resrow = NULL;'
        : 'stage' in res
          ? `  ${name}_ensure${res.stage}(c, y); const float* resrow = ${name}_get${res.stage}(c, y);`
          : `  const float* resrow = (const float*)c->p[${res.arg}] + (long)y * ${residualChannels(s)} * WS;`,
      k < last ? `  float* dst = ${name}_put${k}(c, y);` : shuffle ? '  float* dst = c->stile;' : `  float* dst = (float*)c->p[${OUT}] + (long)y * ${s.cout} * WS;`,
      `  ${fn}_out(${s.terms.map((_, ti) => `rows${ti}, `).join('')}resrow, dst, wts, WS, RS);`,
      ...(k === last && shuffle ? [`  ${fn}_store(dst, c->bytes, c->p[${OUT}], y, c->s, WS);`] : []),
      '}',
    );
    if (k < last)
      lines.push(
        `static void ${name}_ensure${k}(${C}* c, int q) {`,
        '  if (c->dir > 0) {',
        '    if (q > c->H - 1) q = c->H - 1;',
        `    while (c->next${k} <= q) { const int r = c->next${k}++; ${name}_row${k}(c, r); }`,
        '  } else {',
        '    if (q < 0) q = 0;',
        `    while (c->next${k} >= q) { const int r = c->next${k}--; ${name}_row${k}(c, r); }`,
        '  }',
        '}',
      );
    return lines;
  });

  const alloc = stages.flatMap((st, k) => [
    ...scratch[k].map(
      (sc, ti) => `    c.ring${k}_${ti} = xalloc(sizeof(float) * ${sc.ring}); c.tile${k}_${ti}a = xalloc(sizeof(float) * ${sc.tile}); c.tile${k}_${ti}b = xalloc(sizeof(float) * ${sc.tile});`,
    ),
    k < last
      ? `    c.val${k} = xalloc(sizeof(float) * ${ring[k]} * ${cout(k)} * WS);`
      : shuffle
        ? `    c.stile = xalloc(sizeof(float) * ${st.shape.cout} * WS); c.bytes = ${st.shape.io === 'u8' ? `xalloc(${st.shape.cout} * WS)` : 'NULL'};`
        : '    c.stile = NULL; c.bytes = NULL;',
  ]);
  const release = stages.flatMap((_, k) => [...scratch[k].map((__, ti) => `    free(c.ring${k}_${ti}); free(c.tile${k}_${ti}a); free(c.tile${k}_${ti}b);`), k < last ? `    free(c.val${k});` : '    free(c.stile); free(c.bytes);']);
  // A band's start at row `y` going `dir`: each stage starts its lead behind, within the frame.
  const bandStart = (y: string, indent: string) =>
    stages.map((_, k) =>
      k === last
        ? `${indent}c.first${k} = c.next${k} = ${y};`
        : `${indent}{ const int f = ${y} + ${first[k]} * c.dir; c.first${k} = c.next${k} = f < 0 ? 0 : f > H - 1 ? H - 1 : f; for (int i = 0; i < ${ring[k]}; i++) c.tag${k}[i] = -1; }`,
    );

  const code = `typedef struct {
  void** p; const double* s; const float* blob;
  int H, W, dir; long WS, RS;
${fields.join('\n')}
} ${C};
${valueFns.join('\n')}
${rowFns.join('\n')}
static void k_${name}(void** p, const double* s) {
  const int H = (int)s[0], W = (int)s[1], nt = (int)s[2], bands = (int)s[3];
  const long WS = (W + VW - 1) / VW * VW;
  const long RS = WS + 2 * VW; /* ring rows: one vector of padding either side */
  const int ya = ${shuffle ? '(int)s[7]' : '0'}, yb = ${shuffle ? '(int)s[8]' : 'H'};
  /* With a band per thread and an even number of threads, two threads share each two bands, one going down
     from the top and one up from the bottom; ends[] holds each pair's next row from the top and from the bottom. */
  const int pairs = nt > 1 && nt == bands && nt % 2 == 0 ? nt / 2 : 0;
  int* ends = xalloc(sizeof(int) * 2 * (pairs > 0 ? pairs : 1));
  for (int b = 0; b < pairs; b++) { ends[2 * b] = ya + (int)((long)(yb - ya) * b / pairs); ends[2 * b + 1] = ya + (int)((long)(yb - ya) * (b + 1) / pairs) - 1; }
  #pragma omp parallel num_threads(nt)
  {
    ${C} c;
    c.p = p; c.s = s; c.blob = p[${BLOB}]; c.H = H; c.W = W; c.WS = WS; c.RS = RS;
${alloc.join('\n')}
    if (pairs) {
      /* Each thread takes the next row at its end until the two meet: however late a thread wakes or however
         slowly it runs, neither waits for the other, and the rows computed twice are those around where they
         meet, as at a band's edge. */
      const int b = omp_get_thread_num() / 2;
      c.dir = omp_get_thread_num() % 2 ? -1 : 1;
      int y = c.dir > 0 ? ends[2 * b] : ends[2 * b + 1];
${bandStart('y', '      ').join('\n')}
      for (;;) {
        int mine;
        #pragma omp critical(${name}_meet)
        {
          mine = ends[2 * b] <= ends[2 * b + 1];
          if (mine) y = c.dir > 0 ? ends[2 * b]++ : ends[2 * b + 1]--;
        }
        if (!mine) break;
        ${name}_row${last}(&c, y);
      }
    } else {
      /* Bands handed out as threads come free; every other one is gone up (costs the same, and one thread given
         two bands then takes both paths: the tests and the cut tuner rely on that). */
      #pragma omp for schedule(dynamic, 1)
      for (int band = 0; band < bands; band++) {
        const int y0 = ya + (int)((long)(yb - ya) * band / bands), y1 = ya + (int)((long)(yb - ya) * (band + 1) / bands);
        c.dir = band % 2 ? -1 : 1;
        const int start = c.dir > 0 ? y0 : y1 - 1;
${bandStart('start', '        ').join('\n')}
        for (int i = 0; i < y1 - y0; i++) ${name}_row${last}(&c, start + i * c.dir);
      }
    }
${release.join('\n')}
  }
  free(ends);
}
`;
  return { name, code };
}

/** Bytes of one thread's scratch for a segment on rows of ws floats: its stages' term rings and chain tiles (at
 *  the widest tile a tuning may pick), the rings of the values that stay inside, and a shuffling stage's row. */
export function segmentScratchBytes(nodes: readonly StageNode[], ws: number, vw: number): number {
  const rs = ws + 2 * vw;
  const { ring } = pipelineRows(nodes);
  const last = nodes.length - 1;
  const floats = nodes.reduce((a, n, k) => {
    const terms = n.terms.reduce((b, t) => b + t.k * t.cin * rs + 2 * 8 * vw * Math.max(1, ...t.chain.map((p) => p.cout)), 0);
    const out = k < last ? ring[k] * n.terms[0].cout * ws : n.shuffle > 1 ? 2 * n.terms[0].cout * ws : 0;
    return a + terms + out;
  }, 0);
  return 4 * floats;
}

/** Most arguments a segment kernel takes besides its output and weights (glue.ts passes at most 16 arrays). */
const MAX_SEGMENT_ARGS = 14;

/**
 * The plan's stages cut into segments, in order: each as long as it may be — every value produced inside it,
 * but by its last stage, is read only inside it; its output place is none of its inputs' (bands of a pipeline
 * run at once); its scratch per thread fits `budget` bytes (one stage always makes a segment).
 */
export function groupSegments(plan: StagePlan, ws: number, vw: number, budget: number): number[][] {
  const stages = plan.stages;
  const readers = (v: number) => stages.flatMap((s, i) => (s.node.terms.some((t) => t.x === v) || s.node.residual === v ? [i] : []));
  const valid = (i: number, j: number) => {
    for (let k = i; k < j; k++) if (readers(stages[k].node.y).some((r) => r > j)) return false;
    const nodes = stages.slice(i, j + 1).map((s) => s.node);
    const { wiring, args } = segmentWiring(nodes);
    const inputs = wiring.flatMap((w, k) => [...w.terms.flatMap((s, t) => ('arg' in s ? [stages[i + k].inputs[t]] : [])), ...(w.residual && 'arg' in w.residual ? [stages[i + k].residual] : [])]);
    return args <= MAX_SEGMENT_ARGS && (stages[j].out === 'frame' || !inputs.includes(stages[j].out));
  };
  const out: number[][] = [];
  for (let i = 0; i < stages.length; ) {
    let end = i;
    for (let j = i + 1; j < stages.length && segmentScratchBytes(stages.slice(i, j + 1).map((s) => s.node), ws, vw) <= budget; j++) if (valid(i, j)) end = j;
    out.push(stages.slice(i, end + 1).map((_, k) => i + k));
    i = end + 1;
  }
  return out;
}

/** A segment as a plan runs it: where its arguments (segmentWiring's order) and its output live, its weights. */
export interface PlacedSegment {
  readonly args: readonly Place[];
  readonly out: Place;
  readonly blob: Float32Array;
}

/** Segment `seg` (plan stage indices) placed: its arguments and output in the plan's slots or the frames, and its
 *  stages' weights one after another. */
export function placeSegment(plan: StagePlan, seg: readonly number[]): PlacedSegment {
  const stages = seg.map((i) => plan.stages[i]);
  const args: Place[] = [];
  segmentWiring(stages.map((s) => s.node)).wiring.forEach((w, k) => {
    w.terms.forEach((s, t) => 'arg' in s && (args[s.arg] = stages[k].inputs[t]));
    if (w.residual && 'arg' in w.residual) args[w.residual.arg] = stages[k].residual!;
  });
  const blob = new Float32Array(stages.reduce((a, s) => a + s.blob.length, 0));
  stages.reduce((at, s) => (blob.set(s.blob, at), at + s.blob.length), 0);
  return { args, out: stages[stages.length - 1].out, blob };
}
