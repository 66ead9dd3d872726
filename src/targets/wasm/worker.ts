// The thread protocol, both sides of it. Threads share one linear memory; a control block of i32 words in it
// carries each command. The thread that runs the model (thread 0) writes a command's fields, sets PENDING to
// the number of workers, bumps GEN and notifies; each worker (waiting on GEN: a short spin, then Atomics.wait)
// runs it and decrements PENDING, the last one notifying. A RUN command's rows are split into bands that every
// thread, thread 0 included, takes one at a time from the NEXT counter (a thread slowed by another process then
// does less of the work). WAKE does nothing but count down: sent ahead of a frame, it has the workers spinning
// when the frame's first stage comes instead of asleep (a wake-up costs more than a small stage). To load a new module, thread 0 sends YIELD with the module posted as a message: the
// workers leave their wait loop for the event loop, instantiate it, count down and re-enter the loop.
// `workerHandler` is the whole worker: the Node entry (worker-node.ts) and a Web Worker entry both call it.

export const CTRL = { GEN: 0, CMD: 1, PENDING: 2, NEXT: 3, BANDS: 4, MOD: 5, FN: 6, ARGS: 7, YA: 8, YB: 9, SCR: 10, STRIDE: 11, ERR: 12 } as const;
export const CTRL_BYTES = 64;
export const CMD = { RUN: 0, YIELD: 1, WAKE: 2 } as const;

/** A stage entry (abi.ts): rows y0..y1 with the args block at `args` and scratch at `scratch`. */
export type StageFn = (args: number, y0: number, y1: number, scratch: number) => void;

export type WorkerMessage =
  | { readonly type: 'init'; readonly memory: WebAssembly.Memory; readonly ctrl: number; readonly thread: number; readonly gen: number }
  | { readonly type: 'load'; readonly id: number; readonly module: WebAssembly.Module; readonly names: readonly string[] };

/** Loads of GEN or PENDING before sleeping: the next stage usually starts within microseconds, much sooner than
 *  a sleeping thread wakes. */
export const SPIN = 20000;

/** Takes bands of the current RUN command until none is left. */
export function takeBands(ctrl: Int32Array, modules: readonly (readonly StageFn[])[], thread: number): void {
  const [bands, ya, yb] = [ctrl[CTRL.BANDS], ctrl[CTRL.YA], ctrl[CTRL.YB]];
  const fn = modules[ctrl[CTRL.MOD]][ctrl[CTRL.FN]];
  const [args, scratch] = [ctrl[CTRL.ARGS], ctrl[CTRL.SCR] + thread * ctrl[CTRL.STRIDE]];
  for (let b = Atomics.add(ctrl, CTRL.NEXT, 1); b < bands; b = Atomics.add(ctrl, CTRL.NEXT, 1))
    fn(args, ya + Math.floor(((yb - ya) * b) / bands), ya + Math.floor(((yb - ya) * (b + 1)) / bands), scratch);
}

/** Counts one worker done with the current command; the last one wakes thread 0. */
export function countDown(ctrl: Int32Array): void {
  if (Atomics.sub(ctrl, CTRL.PENDING, 1) === 1) Atomics.notify(ctrl, CTRL.PENDING);
}

/** The worker side: returns the message handler. A kernel's error goes to the console (thread 0 may be blocked
 *  waiting) and fails the command through the control block. */
export function workerHandler(): (msg: WorkerMessage) => void {
  let memory: WebAssembly.Memory;
  let ctrl: Int32Array;
  let thread = 0;
  let seen = 0;
  const modules: StageFn[][] = [];
  const loop = () => {
    for (;;) {
      let g = Atomics.load(ctrl, CTRL.GEN);
      for (let i = 0; g === seen && i < SPIN; i++) g = Atomics.load(ctrl, CTRL.GEN);
      while (g === seen) {
        Atomics.wait(ctrl, CTRL.GEN, seen);
        g = Atomics.load(ctrl, CTRL.GEN);
      }
      seen = g;
      const cmd = ctrl[CTRL.CMD];
      if (cmd === CMD.YIELD) return;
      if (cmd === CMD.RUN) {
        try {
          takeBands(ctrl, modules, thread);
        } catch (err) {
          Atomics.store(ctrl, CTRL.ERR, 1);
          console.error(`rtsr wasm worker ${thread}:`, err);
        }
      }
      countDown(ctrl);
    }
  };
  return (msg) => {
    if (msg.type === 'init') {
      ({ memory, thread, gen: seen } = msg);
      ctrl = new Int32Array(memory.buffer, msg.ctrl, CTRL_BYTES / 4);
    } else {
      try {
        const exports = new WebAssembly.Instance(msg.module, { env: { memory } }).exports;
        modules[msg.id] = msg.names.map((n) => exports[n] as StageFn);
      } catch (err) {
        Atomics.store(ctrl, CTRL.ERR, 1);
        console.error(`rtsr wasm worker ${thread}:`, err);
      }
      countDown(ctrl);
    }
    loop();
  };
}
