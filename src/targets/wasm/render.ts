// WebAssembly for one fused stage (compiler/stage.ts), emitted as bytecode: the native C renderer's schedule
// (targets/native/render.ts) with its order of additions, so both compute the same floats bit for bit where both
// fuse multiply-adds (relaxed_madd here, gcc's contraction there) or neither does.
// Row-planar activations [H][C][WS] with 4 pixels a vector; per term a ring of k rows [cin][WS + 2 vectors] of
// the conv's input, padded with the term's pad value, each new row computed by the term's 1×1 chain over tiles
// of tp pixels (the M1-wide intermediates stay in two per-thread tiles); the k×k conv in register blocks of
// OB output channels × PB pixel vectors with weights broadcast by v128.load32_splat; bias first, ReLU, residual,
// store; a shuffling stage rounds (uint8) and interleaves its rows into the kept part of the output frame.
// Shapes and weight offsets are constants (load/store offsets where they can be); the frame size is not.
import { blobLayout, residualChannels, type StageShape, type StageTuning } from '../../compiler/stage.js';
import { argSlots } from './abi.js';
import { Func, type ModuleBuilder } from './encode.js';
import { range } from '../../util/range.js';

const VB = 16; // bytes per vector

/** `acc += x · w`: one relaxed fused multiply-add where the engine has it, else a product and a sum. */
function madd(f: Func, relaxed: boolean, acc: number, x: number, w: number): void {
  if (relaxed) f.get(x).get(w).get(acc).op('f32x4.relaxed_madd').set(acc);
  else f.get(acc).get(x).get(w).op('f32x4.mul', 'f32x4.add').set(acc);
}

/** Pushes relu(v) as the C's `(vi)a & (a > 0)`: −0 and NaN become +0, exactly. */
function relu(f: Func, v: number, zero: number): void {
  f.get(v).get(v).get(zero).op('f32x4.gt', 'v128.and');
}

/** `while (cond) body` */
function whileLoop(f: Func, cond: () => void, body: () => void): void {
  f.block((done) =>
    f.loop((top) => {
      cond();
      f.op('i32.eqz').brIf(done);
      body();
      f.br(top);
    }),
  );
}

const addTo = (f: Func, local: number, n: number) => f.get(local).i32(n).op('i32.add').set(local);

/** Loops `block(O, P)` over output channels in balanced blocks of at most obMax (plus a remainder) and pixel
 *  vectors in blocks of pb (plus single vectors), in the given order, as the C's blockedLoops. */
function blockedLoops(f: Func, cout: number, obMax: number, pb: number, order: 'xo' | 'ox', L: { v: number; o0: number; nv: number }, block: (O: number, P: number) => void): void {
  const ob = Math.ceil(cout / Math.ceil(cout / obMax));
  const full = Math.floor(cout / ob) * ob;
  const rem = cout - full;
  const oLoops = (inner: (O: number) => void) => {
    if (full > 0) {
      f.i32(0).set(L.o0);
      f.loop((top) => {
        inner(ob);
        addTo(f, L.o0, ob);
        f.get(L.o0).i32(full).op('i32.lt_s').brIf(top);
      });
    }
    if (rem > 0) f.i32(full).set(L.o0), inner(rem);
  };
  const vLoops = (step: (P: number) => void) => {
    f.i32(0).set(L.v);
    whileLoop(f, () => f.get(L.v).i32(pb).op('i32.add').get(L.nv).op('i32.le_s'), () => (step(pb), addTo(f, L.v, pb)));
    whileLoop(f, () => f.get(L.v).get(L.nv).op('i32.lt_s'), () => (step(1), addTo(f, L.v, 1)));
  };
  if (order === 'xo') vLoops((P) => oLoops((O) => block(O, P)));
  else oLoops((O) => vLoops((P) => block(O, P)));
}

/** v128 locals for a register block of up to O×P accumulators, P inputs and a broadcast weight. */
function blockLocals(f: Func, O: number, P: number) {
  return { acc: range(O).map(() => range(P).map(() => f.local('v128'))), x: range(P).map(() => f.local('v128')), w: f.local('v128') };
}

/** Pointwise GEMM (1×1 conv) over nv pixel vectors: out[o][v] = b[o] + Σ_i w[i][o]·in[i][v]; w, b: float
 *  offsets in the blob. Params (in, inStrideBytes, out, outStrideBytes, nv, wts). */
function pointwise(p: { cin: number; cout: number; relu: boolean }, w: number, b: number, tu: StageTuning, relaxed: boolean): Func {
  const f = new Func(['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], []);
  const [inp, ins, outp, outs, nv, wts] = range(6);
  const [v, o0, wb, xi, wi, n, ob] = range(7).map(() => f.local('i32'));
  const zero = f.local('v128');
  const R = blockLocals(f, Math.min(tu.cob, p.cout), tu.cpb);
  f.f32(0).op('f32x4.splat').set(zero);
  blockedLoops(f, p.cout, tu.cob, tu.cpb, 'xo', { v, o0, nv }, (O, P) => {
    f.get(wts).get(o0).i32(2).op('i32.shl', 'i32.add').set(wb);
    for (const o of range(O)) {
      f.get(wb).mem('v128.load32_splat', 4 * (b + o)).set(R.acc[o][0]);
      for (const q of range(P).slice(1)) f.get(R.acc[o][0]).set(R.acc[o][q]);
    }
    f.get(inp).get(v).i32(4).op('i32.shl', 'i32.add').set(xi);
    f.get(wb).set(wi);
    f.i32(p.cin).set(n);
    f.loop((top) => {
      for (const q of range(P)) f.get(xi).mem('v128.load', VB * q).set(R.x[q]);
      for (const o of range(O)) {
        f.get(wi).mem('v128.load32_splat', 4 * (w + o)).set(R.w);
        for (const q of range(P)) madd(f, relaxed, R.acc[o][q], R.x[q], R.w);
      }
      f.get(xi).get(ins).op('i32.add').set(xi);
      addTo(f, wi, 4 * p.cout);
      f.get(n).i32(1).op('i32.sub').tee(n).brIf(top);
    });
    f.get(outp).get(o0).get(outs).op('i32.mul', 'i32.add').get(v).i32(4).op('i32.shl', 'i32.add').set(ob);
    for (const o of range(O)) {
      for (const q of range(P)) {
        f.get(ob);
        if (p.relu) relu(f, R.acc[o][q], zero);
        else f.get(R.acc[o][q]);
        f.mem('v128.store', VB * q);
      }
      f.get(ob).get(outs).op('i32.add').set(ob);
    }
  });
  return f;
}

/** Fills one ring row of term ti: row yy of the conv's input, data at +1 vector, pad columns either side (or
 *  all pad outside the frame). Params (row, yy, src, tileA, tileB, wts, H, W). */
function fill(s: StageShape, ti: number, tu: StageTuning, pws: number[]): Func {
  const term = s.terms[ti];
  const lt = blobLayout(s).terms[ti];
  const f = new Func(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], []);
  const [row, yy, src, tileA, tileB, wts, H, W] = range(8);
  const [WSb, RSb, e, end, p, q, c] = range(7).map(() => f.local('i32'));
  const pad = f.local('f32');
  const padv = f.local('v128');
  f.get(W).i32(3).op('i32.add').i32(-4).op('i32.and').i32(2).op('i32.shl').tee(WSb).i32(2 * VB).op('i32.add').set(RSb);
  f.get(wts).mem('f32.load', 4 * lt.pad).tee(pad).op('f32x4.splat').set(padv);
  // Outside the frame (yy < 0 reads as a huge unsigned number): the whole row is pad.
  f.get(yy).get(H).op('i32.ge_u').if(() => {
    f.i32(0).set(e);
    f.loop((top) => {
      f.get(row).get(e).op('i32.add').get(padv).mem('v128.store');
      addTo(f, e, VB);
      f.get(e).i32(term.cin).get(RSb).op('i32.mul', 'i32.lt_s').brIf(top);
    });
    f.op('return');
  });
  if (term.source === 'raw') {
    // HWC frame → three planar rows, u8 as (float)(v / 255.0) in double, as the C and the reference do.
    const E = s.io === 'u8' ? 1 : 4;
    f.get(src).get(yy).get(W).op('i32.mul').i32(3 * E).op('i32.mul', 'i32.add').set(p);
    f.get(row).i32(VB).op('i32.add').set(q);
    f.get(q).get(W).i32(2).op('i32.shl', 'i32.add').set(end);
    if (E === 1) {
      // Four pixels a step while a 16-byte load stays in the row (6 pixels left): channel ch's bytes shuffled into
      // the low byte of each lane, then v / 255 in float, which equals (float)(v / 255.0): double rounding is
      // innocuous for a quotient when double has ≥ 2·24 + 2 bits.
      const [bytes, k255] = [f.local('v128'), f.local('v128')];
      f.f32(255).op('f32x4.splat').set(k255);
      whileLoop(f, () => f.get(q).i32(24).op('i32.add').get(end).op('i32.le_u'), () => {
        f.get(p).mem('v128.load').set(bytes);
        for (const ch of range(3)) {
          f.get(q);
          if (ch > 0) f.get(RSb).i32(ch).op('i32.mul', 'i32.add');
          // Pixel i's byte into lane i's low byte; the other bytes are masked off.
          f.get(bytes).get(bytes).shuffle(range(16).map((i) => (i % 4 === 0 ? ch + 3 * (i / 4) : 0)));
          f.i32(255).op('i32x4.splat', 'v128.and', 'f32x4.convert_i32x4_u').get(k255).op('f32x4.div').mem('v128.store');
        }
        addTo(f, p, 12);
        addTo(f, q, VB);
      });
    }
    whileLoop(f, () => f.get(q).get(end).op('i32.lt_u'), () => {
      for (const ch of range(3)) {
        f.get(q);
        if (ch > 0) f.get(RSb).i32(ch).op('i32.mul', 'i32.add');
        if (E === 1) f.get(p).mem('i32.load8_u', ch).op('f64.convert_i32_u').f64(255).op('f64.div', 'f32.demote_f64');
        else f.get(p).mem('f32.load', 4 * ch);
        f.mem('f32.store');
      }
      addTo(f, p, 3 * E);
      addTo(f, q, 4);
    });
  } else if (term.chain.length === 0) {
    f.get(src).get(yy).i32(term.cin).op('i32.mul').get(WSb).op('i32.mul', 'i32.add').set(p);
    f.get(row).i32(VB).op('i32.add').set(q);
    f.i32(term.cin).set(c);
    f.loop((top) => {
      f.get(q).get(p).get(W).i32(2).op('i32.shl', 'memory.copy');
      f.get(p).get(WSb).op('i32.add').set(p);
      f.get(q).get(RSb).op('i32.add').set(q);
      f.get(c).i32(1).op('i32.sub').tee(c).brIf(top);
    });
  } else {
    // The chain over tiles of tp pixels: p = tile start (bytes), c = its vectors.
    const n = term.chain.length;
    const tileBytes = 4 * tu.tp;
    const x = f.local('i32');
    f.get(src).get(yy).i32(term.chain[0].cin).op('i32.mul').get(WSb).op('i32.mul', 'i32.add').set(x);
    f.i32(0).set(p);
    f.loop((top) => {
      f.get(WSb).get(p).op('i32.sub').tee(c).i32(tileBytes).get(c).i32(tileBytes).op('i32.lt_s', 'select').i32(4).op('i32.shr_s').set(c);
      term.chain.forEach((_, j) => {
        const tile = (k: number) => (k % 2 === 0 ? tileA : tileB);
        if (j === 0) f.get(x).get(p).op('i32.add').get(WSb);
        else f.get(tile(j - 1)).i32(tileBytes);
        if (j === n - 1) f.get(row).i32(VB).op('i32.add').get(p).op('i32.add').get(RSb);
        else f.get(tile(j)).i32(tileBytes);
        f.get(c).get(wts).call(pws[j]);
      });
      addTo(f, p, tileBytes);
      f.get(p).get(WSb).op('i32.lt_s').brIf(top);
    });
  }
  // Pad columns: the vector left of the data and everything from W on (the chain also wrote lanes ≥ W).
  f.get(row).set(q);
  f.i32(term.cin).set(c);
  f.loop((top) => {
    f.get(q).get(padv).mem('v128.store');
    f.get(W).i32(2).op('i32.shl').i32(VB).op('i32.add').set(e);
    whileLoop(f, () => f.get(e).get(RSb).op('i32.lt_s'), () => {
      f.get(q).get(e).op('i32.add').get(pad).mem('f32.store');
      addTo(f, e, 4);
    });
    f.get(q).get(RSb).op('i32.add').set(q);
    f.get(c).i32(1).op('i32.sub').tee(c).brIf(top);
  });
  return f;
}

/**
 * Adds the stage's functions to `mb` and exports its entry `(args, y0, y1, scratch)` (abi.ts) as `name`:
 * rows y0..y1 of the stage, the first row of the band filling every ring row (as a thread's band does in C).
 */
export function renderStage(mb: ModuleBuilder, name: string, s: StageShape, tu: StageTuning, relaxed: boolean): void {
  const L = blobLayout(s);
  const A = argSlots(s);
  const COUT = s.cout;
  const RC = residualChannels(s);
  const SH = s.shuffle;
  const fills = s.terms.map((term, ti) => {
    const pws = term.chain.map((p, j) => mb.add(pointwise(p, L.terms[ti].chain[j].w, L.terms[ti].chain[j].b, tu, relaxed)));
    return mb.add(fill(s, ti, tu, pws));
  });

  const f = new Func(['i32', 'i32', 'i32', 'i32'], []);
  const [args, y0, y1, scr] = range(4);
  const i32 = () => f.local('i32');
  const arg = (slot: number) => {
    const l = i32();
    f.get(args).mem('i32.load', 4 * slot).set(l);
    return l;
  };
  const scratch = (slot: number) => {
    const l = arg(slot);
    f.get(l).get(scr).op('i32.add').set(l);
    return l;
  };
  const src = A.src.map(arg);
  const [res, out, wts, H, W, ky0, kx0, kx1] = [A.res, A.out, A.wts, A.h, A.w, A.ky0, A.kx0, A.kx1].map(arg);
  const ring = A.ring.map(scratch);
  const tileA = A.tileA.map(scratch);
  const tileB = A.tileB.map(scratch);
  const stile = scratch(A.stile);
  const bytes = scratch(A.bytes);
  const [WS, WSb, RSb, nv, y, yy, v, o0, dst, resrow, wb, ri, wi, n, db, rx, wx, m] = range(18).map(i32);
  f.get(W).i32(3).op('i32.add').i32(-4).op('i32.and').tee(WS).i32(2).op('i32.shl').tee(WSb).i32(2 * VB).op('i32.add').set(RSb);
  f.get(WS).i32(2).op('i32.shr_s').set(nv);
  const rowBytes = s.terms.map((t) => {
    const l = i32();
    f.get(RSb).i32(t.cin).op('i32.mul').set(l);
    return l;
  });
  const rows = s.terms.map((t) => range(t.k).map(i32));
  const rrow = RC === COUT ? null : i32();
  const zero = f.local('v128');
  f.f32(0).op('f32x4.splat').set(zero);
  const R = blockLocals(f, Math.min(tu.ob, COUT), tu.pb);
  // Ring slot of row yy of term ti: (yy + r + k·H) mod k, as the C.
  const slotOf = (ti: number, row: () => void) => {
    const { k } = s.terms[ti];
    f.get(ring[ti]);
    if (k > 1) row(), f.i32((k - 1) >> 1).op('i32.add').get(H).i32(k).op('i32.mul', 'i32.add').i32(k).op('i32.rem_u').get(rowBytes[ti]).op('i32.mul', 'i32.add');
  };

  const convBlock = (O: number, P: number) => {
    f.get(wts).get(o0).i32(2).op('i32.shl', 'i32.add').set(wb);
    for (const o of range(O)) {
      f.get(wb).mem('v128.load32_splat', 4 * (L.bias + o)).set(R.acc[o][0]);
      for (const q of range(P).slice(1)) f.get(R.acc[o][0]).set(R.acc[o][q]);
    }
    s.terms.forEach((term, ti) => {
      const K = term.k;
      const r = (K - 1) >> 1;
      for (const dy of range(K)) {
        f.get(rows[ti][dy]).get(v).i32(4).op('i32.shl', 'i32.add').i32(4 * r).op('i32.sub').set(ri);
        f.get(wb).set(wi);
        f.i32(term.cin).set(n);
        f.loop((top) => {
          // The taps dx run as a loop, not unrolled as in C: V8 (11.3) issues a loop body's loads first and its
          // multiply-adds last, so every load of the body is live at once with the accumulators; one tap's P + O
          // loads and an O×P block fit the 15 vector registers it allocates (3×3, 2×4), three taps' spill.
          const tap = (x: number, w: number) => {
            for (const q of range(P)) f.get(x).mem('v128.load', VB * q).set(R.x[q]);
            for (const o of range(O)) {
              f.get(w).mem('v128.load32_splat', 4 * (L.terms[ti].w + dy * K * term.cin * COUT + o)).set(R.w);
              for (const q of range(P)) madd(f, relaxed, R.acc[o][q], R.x[q], R.w);
            }
          };
          if (K === 1) tap(ri, wi);
          else {
            f.get(ri).set(rx);
            f.get(wi).set(wx);
            f.i32(K).set(m);
            f.loop((taps) => {
              tap(rx, wx);
              addTo(f, rx, 4);
              addTo(f, wx, 4 * term.cin * COUT);
              f.get(m).i32(1).op('i32.sub').tee(m).brIf(taps);
            });
          }
          f.get(ri).get(RSb).op('i32.add').set(ri);
          addTo(f, wi, 4 * COUT);
          f.get(n).i32(1).op('i32.sub').tee(n).brIf(top);
        });
      }
    });
    // Epilogue: relu, residual, store; db = byte offset of the block in a [COUT][WS] row.
    f.get(o0).get(WSb).op('i32.mul').get(v).i32(4).op('i32.shl', 'i32.add').set(db);
    for (const o of range(O)) {
      // A repeated residual (fewer channels) is read at channel (o0 + o) mod RC of its [RC][WS] row.
      if (s.residual && rrow !== null)
        f.get(resrow).get(o0).i32(o).op('i32.add').i32(RC).op('i32.rem_u').get(WSb).op('i32.mul', 'i32.add').get(v).i32(4).op('i32.shl', 'i32.add').set(rrow);
      for (const q of range(P)) {
        f.get(dst).get(db).op('i32.add');
        if (s.relu) relu(f, R.acc[o][q], zero);
        else f.get(R.acc[o][q]);
        if (s.residual) {
          if (rrow === null) f.get(resrow).get(db).op('i32.add');
          else f.get(rrow);
          f.mem('v128.load', VB * q).op('f32x4.add');
        }
        f.mem('v128.store', VB * q);
      }
      f.get(db).get(WSb).op('i32.add').set(db);
    }
  };

  f.get(y0).set(y);
  whileLoop(f, () => f.get(y).get(y1).op('i32.lt_s'), () => {
    s.terms.forEach((term, ti) => {
      const r = (term.k - 1) >> 1;
      // The first row of a band fills all k ring rows, the next ones one each.
      f.get(y).i32(r).op('i32.sub').get(y).i32(r).op('i32.add').get(y).get(y0).op('i32.eq', 'select').set(yy);
      whileLoop(f, () => f.get(yy).get(y).i32(r).op('i32.add').op('i32.le_s'), () => {
        slotOf(ti, () => f.get(yy));
        f.get(yy).get(src[ti]).get(tileA[ti]).get(tileB[ti]).get(wts).get(H).get(W).call(fills[ti]);
        addTo(f, yy, 1);
      });
      for (const dy of range(term.k)) {
        slotOf(ti, () => f.get(y).i32(dy).op('i32.add').i32(r).op('i32.sub'));
        f.i32(VB).op('i32.add').set(rows[ti][dy]);
      }
    });
    if (SH > 1) f.get(stile).set(dst);
    else f.get(out).get(y).i32(COUT).op('i32.mul').get(WSb).op('i32.mul', 'i32.add').set(dst);
    if (s.residual) f.get(res).get(y).i32(RC).op('i32.mul').get(WSb).op('i32.mul', 'i32.add').set(resrow);
    blockedLoops(f, COUT, tu.ob, tu.pb, tu.order, { v, o0, nv }, convBlock);
    if (SH > 1) scatter(f, s, { y, ky0, kx0, kx1, WS, WSb, stile, bytes, out });
    addTo(f, y, 1);
  });
  mb.add(f, name);
}

/** Depth-to-space of the computed row (stile = [COUT][WS] floats) into the kept part of the output frame; for
 *  uint8 each channel row is first rounded into a byte row with fromFloat's MATLAB rounding, computed in double
 *  (exact: v·255 is exact there): `!(t > 0) ? 0 : t >= 254.5 ? 255 : (int)(t + 0.5)`. */
function scatter(f: Func, s: StageShape, L: Record<'y' | 'ky0' | 'kx0' | 'kx1' | 'WS' | 'WSb' | 'stile' | 'bytes' | 'out', number>): void {
  const SH = s.shuffle;
  const u8 = s.io === 'u8';
  const E = u8 ? 1 : 4;
  const [r, b, x, t0, op, nx] = range(6).map(() => f.local('i32'));
  const ptr = range(3 * SH).map(() => f.local('i32'));
  if (u8) {
    // Four values a step, from the vector holding kx0 (lanes outside kx0..kx1 round into unused bytes):
    // t = (double)v · 255 exactly as the C; (int)(t + 0.5) by a saturating truncation (NaN → 0), then the two
    // saturating narrows clamp to 0..255, which is the C's ?: (t ≤ 0 and NaN → 0, t ≥ 254.5 → 255).
    const [k255, half, v] = range(3).map(() => f.local('v128'));
    f.f64(255).op('f64x2.splat').set(k255);
    f.f64(0.5).op('f64x2.splat').set(half);
    const round = () => f.op('f64x2.promote_low_f32x4').get(k255).op('f64x2.mul').get(half).op('f64x2.add', 'i32x4.trunc_sat_f64x2_s_zero');
    f.get(L.stile).set(r);
    f.get(L.bytes).set(b);
    f.i32(s.cout).set(t0);
    f.loop((top) => {
      f.get(L.kx0).i32(-4).op('i32.and').set(x);
      whileLoop(f, () => f.get(x).get(L.kx1).op('i32.lt_s'), () => {
        f.get(b).get(x).op('i32.add');
        f.get(r).get(x).i32(2).op('i32.shl', 'i32.add').mem('v128.load').tee(v);
        round();
        f.get(v).get(v).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
        round();
        f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).tee(v).get(v).op('i16x8.narrow_i32x4_u').tee(v).get(v).op('i8x16.narrow_i16x8_u');
        f.mem('v128.store32_lane', 0, 0);
        addTo(f, x, 4);
      });
      f.get(r).get(L.WSb).op('i32.add').set(r);
      f.get(b).get(L.WS).op('i32.add').set(b);
      f.get(t0).i32(1).op('i32.sub').tee(t0).brIf(top);
    });
  }
  const base = u8 ? L.bytes : L.stile;
  const rowElems = (SH * 3) as number; // elements of one output pixel run of SH pixels
  // Output row stride in bytes: (kx1 − kx0)·SH pixels of 3 elements.
  f.get(L.kx1).get(L.kx0).op('i32.sub').set(nx);
  for (const i of range(SH)) {
    // op = out + ((y − ky0)·SH + i) · OW bytes; ptr[c·SH + j] = the source channel row at kx0.
    f.get(L.out).get(L.y).get(L.ky0).op('i32.sub').i32(SH).op('i32.mul').i32(i).op('i32.add').get(nx).op('i32.mul').i32(rowElems * E).op('i32.mul', 'i32.add').set(op);
    for (const c of range(3))
      for (const j of range(SH))
        f.get(base).get(L.WS).i32(((c * SH + i) * SH + j) * E).op('i32.mul', 'i32.add').get(L.kx0).i32(E).op('i32.mul', 'i32.add').set(ptr[c * SH + j]);
    f.i32(0).set(x);
    whileLoop(f, () => f.get(x).get(nx).op('i32.lt_s'), () => {
      for (const j of range(SH))
        for (const c of range(3)) {
          f.get(op);
          f.get(ptr[c * SH + j]).get(x);
          if (E === 4) f.i32(2).op('i32.shl');
          f.op('i32.add');
          if (u8) f.mem('i32.load8_u').mem('i32.store8', j * 3 + c);
          else f.mem('f32.load').mem('f32.store', 4 * (j * 3 + c));
        }
      addTo(f, op, rowElems * E);
      addTo(f, x, 1);
    });
  }
}
