// Times training steps of a bench net on the current backend, and the same net in PyTorch in the same run:
// the machines are shared and noisy, so only a same-run ratio means anything.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as ops from '../engine/ops.js';
import { Adam } from '../engine/optim.js';
import { backend, Tensor } from '../engine/tensor.js';
import { describeCpu, thisCpu } from '../latency/profile-file.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { Rng } from '../util/random.js';
import { aroundCeiling, type Ceiling, ceilingFields } from './ceiling.js';
import { BENCH_NETS, type BenchNet, initGates, initParams, SCALE, stepFlops } from './train-nets.js';

export const BATCH = 16;
export const PATCH = 48;
export const TORCH_PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(PACKAGE_ROOT, 'bench', 'torch_train.py');

export interface TrainBenchResult {
  net: string;
  backend: string;
  ms_per_step: number;
  gflops: number;
  torch_ms_per_step: number | null;
  ratio: number | null;
  /** The FP32 FMA ceiling at the same threads, measured around our steps, and gflops / ceiling_gflops. */
  ceiling_gflops: number | null;
  share_of_ceiling: number | null;
  /** Why PyTorch's figure is missing, when it is. */
  torch_note?: string;
  torch_version?: string;
  /** The CPU and its cores, e.g. "AMD EPYC (family 25, model 17), 2 cores": figures mean little without it. */
  machine: string;
  /** With more than one round: each round's figures, the fields above then being their medians. */
  rounds?: TrainBenchRound[];
}

/** One round: our steps with the ceiling measured around them, then PyTorch's. */
export interface TrainBenchRound {
  ms_per_step: number;
  torch_ms_per_step: number | null;
  ratio: number | null;
  ceiling_gflops: number | null;
  share_of_ceiling: number | null;
}

/** The middle element of xs by key (the upper middle of an even count). */
const middle = <T>(xs: readonly T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[xs.length >> 1];
const median = (xs: number[]) => middle(xs, (x) => x);

/** Median milliseconds per training step (forward, L1 loss, backward, Adam) after `warmup` steps. */
export function timeOurs(net: BenchNet, steps: number, warmup: number): number {
  const rng = new Rng(0);
  const params = initParams(net, rng);
  const gates = initGates(net);
  const all = [...[...params.values()].flatMap((p) => [p.w, p.b]), ...gates.values()];
  const opt = new Adam(all);
  const x = new Tensor(rng.fill(new Float32Array(BATCH * PATCH * PATCH * 3), () => rng.next()), [BATCH, PATCH, PATCH, 3]);
  const hr = PATCH * SCALE;
  const target = new Tensor(rng.fill(new Float32Array(BATCH * hr * hr * 3), () => rng.next()), [BATCH, hr, hr, 3]);
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    opt.zeroGrad();
    ops.l1Loss(net.forward(x, params, gates), target).backward(undefined, { release: true });
    opt.step(1e-4);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return median(times);
}

/** PyTorch's median ms per step for the same net, or the reason it could not be measured. */
export function timeTorch(net: BenchNet, steps: number, warmup: number, threads: number): { ms: number | null; note?: string; version?: string } {
  const probe = spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return { ms: null, note: `PyTorch not found (${TORCH_PYTHON} -c "import torch" failed); on Debian: apt-get install python3-torch` };
  const spec = { net: net.name, convs: net.convs, gates: net.gates, batch: BATCH, patch: PATCH, scale: SCALE, blocks: 8, steps, warmup, threads };
  const out = execFileSync(TORCH_PYTHON, [TORCH_SCRIPT, JSON.stringify(spec)], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ms_per_step: number; torch: string };
  return { ms: r.ms_per_step, version: r.torch };
}

/** `rounds` rounds of our steps (with the machine's FMA ceiling measured around them at `threads`) then
 *  PyTorch's; with several, each figure is the median over the rounds (the ratio the median of the rounds'
 *  ratios, the ceiling the median round's): the shared machines drift between minutes, PyTorch's step most. */
export async function benchTrain(name: BenchNet['name'], opts: { steps: number; warmup: number; threads: number; torch: boolean; rounds?: number }): Promise<{ result: TrainBenchResult; ceiling: Ceiling }> {
  const net = BENCH_NETS[name];
  const flops = stepFlops(net, BATCH, PATCH, PATCH);
  const runs: { round: TrainBenchRound; ceiling: Ceiling; torch: ReturnType<typeof timeTorch> }[] = [];
  for (let i = 0; i < (opts.rounds ?? 1); i++) {
    const { value: ms, ceiling } = await aroundCeiling(opts.threads, () => timeOurs(net, opts.steps, opts.warmup));
    const torch = opts.torch ? timeTorch(net, opts.steps, opts.warmup, opts.threads) : { ms: null, note: 'skipped (--no-torch)' };
    const round = { ms_per_step: ms, torch_ms_per_step: torch.ms, ratio: torch.ms === null ? null : ms / torch.ms, ...ceilingFields(ceiling, flops / (ms * 1e6)) };
    runs.push({ round, ceiling, torch });
  }
  const ms = middle(runs, (r) => r.round.ms_per_step).round.ms_per_step;
  const { torch } = middle(runs, (r) => r.torch.ms ?? 0);
  const { ceiling } = middle(runs, (r) => r.ceiling.gflops ?? 0);
  const gflops = flops / (ms * 1e6);
  const cpu = thisCpu();
  const result = {
    net: name,
    backend: backend().name,
    ms_per_step: ms,
    gflops,
    torch_ms_per_step: torch.ms,
    ratio: torch.ms === null ? null : middle(runs, (r) => r.round.ratio!).round.ratio,
    ...ceilingFields(ceiling, gflops),
    ...(torch.note ? { torch_note: torch.note } : {}),
    ...(torch.version ? { torch_version: torch.version } : {}),
    machine: `${describeCpu(cpu)}, ${cpu.cores} cores`,
    ...(runs.length > 1 ? { rounds: runs.map((r) => r.round) } : {}),
  };
  return { result, ceiling };
}
