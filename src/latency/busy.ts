// Timing on a busy machine. A co-runner only ever adds time, so a network's time is the fastest of several
// windows' medians; whether the machine was busy comes from the CPU time other processes took while timing
// (/proc/stat, the hypervisor's steal included) where Linux tells it, else from the timings themselves: a wide
// spread within a window, or windows that disagree. Busy windows are retimed after a wait, a bounded number of
// times; what the search then aims at says how busy the machine still was.
import { readFileSync } from 'node:fs';
import { summarize } from './measure.js';

const median = (xs: readonly number[]) => summarize(xs).ms;

/** One window of interleaved rounds: each network's samples (ms), and the cores other processes used meanwhile. */
export interface TimedWindow {
  samples: number[][];
  othersCores: number | null;
}

export interface Steadiness {
  busy: boolean;
  windows: number;
  /** Mean cores other processes took while timing; null where the system does not tell. */
  others_cores: number | null;
  /** Median over windows and networks of (Q3 − Q1) / median. */
  spread: number;
  /** Largest over the networks of (median of its window medians) / (its fastest window median). */
  disagreement: number;
}

/** Quiet, other processes take ≤ 0.05 cores. The timings alone tell less: native samples spread 2–5 % on the Zen 4
 *  machines (docs/speed-model.md) but 31–36 % on this 2-core Zen 5 VM with nothing else running, wasm's 21–29 %;
 *  so the spread and disagreement limits judge only where the CPU time of others is unknown. */
export const BUSY = { othersCores: 0.25, spread: 0.15, disagreement: 1.1 };

export function judge(windows: readonly TimedWindow[]): Steadiness {
  const known = windows.map((w) => w.othersCores).filter((c): c is number => c !== null);
  const others = known.length === windows.length && known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : null;
  const spread = median(windows.flatMap((w) => w.samples.map((s) => summarize(s).spread)));
  const nets = windows[0]?.samples.length ?? 0;
  const disagreement = Math.max(1, ...Array.from({ length: nets }, (_, i) => {
    const medians = windows.map((w) => summarize(w.samples[i]).ms);
    return median(medians) / Math.min(...medians);
  }));
  const busy = others !== null ? others >= BUSY.othersCores : spread > BUSY.spread || disagreement > BUSY.disagreement;
  return { busy, windows: windows.length, others_cores: others, spread, disagreement };
}

export function describeSteadiness(s: Steadiness): string {
  const others = s.others_cores === null ? 'other processes: not known here' : `other processes took ${s.others_cores.toFixed(2)} cores`;
  return `${others}; samples spread ${(100 * s.spread).toFixed(0)} % (IQR / median); window medians up to ${s.disagreement.toFixed(2)}× the fastest`;
}

/** Busy jiffies (user, nice, system, irq, softirq, steal) of the whole machine, or null without /proc/stat. */
function machineBusySeconds(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100; // USER_HZ, 100 on Linux
  } catch {
    return null;
  }
}

/** Starts measuring; the returned function gives the cores other processes used since, or null where unknown. */
export function othersCpuMeter(): () => number | null {
  const [t0, all0, self0] = [performance.now(), machineBusySeconds(), process.cpuUsage()];
  return () => {
    const all = machineBusySeconds();
    if (all === null || all0 === null) return null;
    const self = process.cpuUsage(self0);
    const wall = (performance.now() - t0) / 1e3;
    return Math.max(0, (all - all0 - (self.user + self.system) / 1e6) / wall);
  };
}

export interface SteadyOptions {
  log: (line: string) => void;
  /** Windows timed before judging, and at most in all. */
  minWindows?: number;
  maxWindows?: number;
  /** Pause before each retimed window. */
  waitMs?: number;
  /** Tests pass synthetic windows' meters and a clock that does not wait. */
  meter?: () => () => number | null;
  sleep?: (ms: number) => Promise<void>;
}

/** Each network's fastest window median over at least `minWindows` windows of `rounds()`, with more windows, after
 *  a wait, while the last `minWindows` look busy, up to `maxWindows`; and how steady those last windows were. */
export async function timeSteadily(rounds: () => Promise<number[][]>, o: SteadyOptions): Promise<{ ms: number[]; steadiness: Steadiness }> {
  const { minWindows = 3, maxWindows = 6, waitMs = 5000, meter = othersCpuMeter } = o;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const windows: TimedWindow[] = [];
  const window = async () => {
    const stop = meter();
    const samples = await rounds();
    windows.push({ samples, othersCores: stop() });
  };
  while (windows.length < minWindows) await window();
  let verdict = judge(windows);
  if (verdict.busy && windows.length < maxWindows) o.log(`the machine is busy (${describeSteadiness(verdict)}); timing again every ${(waitMs / 1e3).toFixed(0)} s, up to ${maxWindows - windows.length} more times`);
  while (verdict.busy && windows.length < maxWindows) {
    await sleep(waitMs);
    await window();
    verdict = judge(windows.slice(-minWindows));
  }
  const ms = windows[0].samples.map((_, i) => Math.min(...windows.map((w) => summarize(w.samples[i]).ms)));
  return { ms, steadiness: { ...verdict, windows: windows.length } };
}
