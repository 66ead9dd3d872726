// One linear memory and the threads that run stages in it (thread 0 is the caller's; workers take the others,
// worker.ts's protocol). Memory is handed out by a bump allocator and grown on demand, never shrunk (wasm cannot);
// a shared memory (threads) needs a maximum, so it gets the whole 32-bit space, which V8 only reserves.
import { bandsFor } from '../../compiler/plan.js';
import type { WasmHost, WorkerLike } from './host.js';
import { CMD, CTRL, CTRL_BYTES, countDown, type StageFn, takeBands, type WorkerMessage } from './worker.js';

const PAGE = 65536;
/** A shared memory's declared maximum (modules importing it declare the same). */
export const MAX_PAGES = 65536;

const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number) => { value: unknown } }).waitAsync;


/** A module instantiated on every thread: its exported stage entries by index. */
export interface Loaded {
  readonly id: number;
  readonly fns: readonly StageFn[];
}

export class Runtime {
  readonly memory: WebAssembly.Memory;
  private top: number;
  private readonly ctrl: Int32Array;
  private readonly workers: WorkerLike[] = [];
  private readonly modules: StageFn[][] = [];
  private failure: string | null = null;
  /** A WAKE command is out and not yet settled. */
  private waking = false;

  /** `threads` > 1 needs features().threads (a shared memory and host.spawnWorker). */
  constructor(
    private readonly host: WasmHost,
    readonly threads: number,
  ) {
    const shared = threads > 1;
    this.memory = new WebAssembly.Memory(shared ? { initial: 1, maximum: MAX_PAGES, shared } : { initial: 1 });
    // Address 0 stays unused (an absent residual is 0); the control block follows.
    this.top = CTRL_BYTES;
    this.ctrl = new Int32Array(this.memory.buffer, this.alloc(CTRL_BYTES), CTRL_BYTES / 4);
    for (let t = 1; t < threads; t++) {
      const w = host.spawnWorker!();
      w.onError((err) => this.fail(`wasm worker ${t}: ${err.message}`));
      w.postMessage({ type: 'init', memory: this.memory, ctrl: this.ctrl.byteOffset, thread: t, gen: this.ctrl[CTRL.GEN] } satisfies WorkerMessage);
      this.workers.push(w);
    }
  }

  get shared(): boolean {
    return this.threads > 1;
  }

  /** The allocation mark: memory below it is taken. */
  get mark(): number {
    return this.top;
  }

  /** `bytes` of memory aligned to 64 (vectors never split cache lines); grows the memory when needed. */
  alloc(bytes: number): number {
    const at = Math.ceil(this.top / 64) * 64;
    this.reserve(at + bytes);
    this.top = at + bytes;
    return at;
  }

  /** Frees everything allocated since `mark` (later allocations reuse it). */
  release(mark: number): void {
    this.top = mark;
  }

  /** Grows the memory to at least `end` bytes. */
  reserve(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) throw new Error(`wasm: ${end} bytes do not fit a 4 GiB memory (tile the frame: a smaller memory budget)`);
      this.memory.grow(pages);
    }
  }

  /** Views of the memory as it is now (a grown memory has a new buffer). */
  f32(at: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, n);
  }
  u8(at: number, n: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, at, n);
  }
  i32(at: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, n);
  }

  /** Has the workers wake now (they spin a while, then sleep again), so that the next run starts on every thread
   *  at once: call it ahead of a frame, before work of one's own such as copying the input in. */
  wake(): void {
    if (this.workers.length === 0 || this.waking) return;
    this.command(CMD.WAKE, this.workers.length);
    this.waking = true;
  }

  /** Waits until the workers are awake (after wake()). */
  async awake(): Promise<void> {
    if (!this.waking) return;
    this.waking = false;
    await this.settle(this.host.canBlock);
  }

  /** Instantiates `module` on every thread; `names` are the stage entries it exports. */
  async load(module: WebAssembly.Module, names: readonly string[]): Promise<Loaded> {
    const id = this.modules.length;
    const exports = (await WebAssembly.instantiate(module, { env: { memory: this.memory } })).exports;
    this.modules.push(names.map((n) => exports[n] as StageFn));
    if (this.workers.length) {
      await this.awake();
      this.command(CMD.YIELD, this.workers.length);
      for (const w of this.workers) w.postMessage({ type: 'load', id, module, names } satisfies WorkerMessage);
      // Rare and slow (each worker instantiates): wait without blocking, so a worker's error event can arrive; a
      // timer keeps the event loop alive meanwhile (Node's workers are unreferenced, and a pending waitAsync
      // does not count).
      const alive = setInterval(() => undefined, 2 ** 30);
      try {
        await this.settle(false);
      } finally {
        clearInterval(alive);
      }
    }
    return { id, fns: this.modules[id] };
  }

  /**
   * Runs stage entry `fn` of `m` over rows ya..yb in bands shared by all threads, each with its own scratch
   * (`scratch` + thread · `stride` bytes).
   */
  async run(m: Loaded, fn: number, args: number, ya: number, yb: number, scratch: number, stride: number): Promise<void> {
    const bands = bandsFor(yb - ya, this.threads);
    if (this.workers.length === 0) {
      for (let b = 0; b < bands; b++) m.fns[fn](args, ya + Math.floor(((yb - ya) * b) / bands), ya + Math.floor(((yb - ya) * (b + 1)) / bands), scratch);
      return;
    }
    await this.awake();
    const c = this.ctrl;
    [c[CTRL.BANDS], c[CTRL.MOD], c[CTRL.FN], c[CTRL.ARGS], c[CTRL.YA], c[CTRL.YB], c[CTRL.SCR], c[CTRL.STRIDE]] = [bands, m.id, fn, args, ya, yb, scratch, stride];
    Atomics.store(c, CTRL.NEXT, 0);
    this.command(CMD.RUN, this.workers.length);
    try {
      takeBands(c, this.modules, 0);
    } finally {
      await this.settle(this.host.canBlock);
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private command(cmd: number, pending: number): void {
    if (this.failure) throw new Error(this.failure);
    const c = this.ctrl;
    c[CTRL.CMD] = cmd;
    Atomics.store(c, CTRL.PENDING, pending);
    Atomics.add(c, CTRL.GEN, 1);
    Atomics.notify(c, CTRL.GEN);
  }

  /** Waits until every worker is done with the current command. */
  private async settle(block: boolean): Promise<void> {
    const c = this.ctrl;
    let v = Atomics.load(c, CTRL.PENDING);
    for (let i = 0; v !== 0 && i < (block ? 20000 : 0); i++) v = Atomics.load(c, CTRL.PENDING);
    for (; v !== 0; v = Atomics.load(c, CTRL.PENDING)) {
      if (block) Atomics.wait(c, CTRL.PENDING, v);
      else if (waitAsync) await waitAsync(c, CTRL.PENDING, v).value;
      else await new Promise((r) => setTimeout(r, 1)); // engines without Atomics.waitAsync: poll
    }
    if (Atomics.exchange(c, CTRL.ERR, 0) !== 0) this.fail('wasm: a worker failed (its error is on stderr)');
    if (this.failure) throw new Error(this.failure);
  }

  /** A dead worker never counts down: count for it, so nothing waits forever, and refuse further commands. */
  private fail(msg: string): void {
    this.failure ??= msg;
    Atomics.store(this.ctrl, CTRL.PENDING, 0);
    Atomics.notify(this.ctrl, CTRL.PENDING);
  }
}
