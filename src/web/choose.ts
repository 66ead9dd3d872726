// Which target a page's models run on: the first candidate that runs on this device, in order of preference
// (targets registered by the page, then WebGPU, then wasm, the portable one), with the reason in
// words: why each preferred one was passed over and how the chosen one runs (threads, and why not more).
import type { Target } from '../targets/target.js';

export interface Choice {
  readonly target: Target;
  /** One line for the page: what runs, and why not a preferred one. */
  readonly reason: string;
}

/** How a target runs here, for the reason line: wasm's thread count hinges on cross-origin isolation; others
 *  say what runs them (WebGPU: the adapter). */
async function howItRuns(t: Target, threads: number): Promise<string> {
  if (t.name !== 'wasm') return t.describe();
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const why = isolated ? ' (cross-origin isolated)' : ': the page is not cross-origin isolated (serve it with COOP/COEP headers)';
  return `wasm SIMD on ${threads} thread${threads === 1 ? '' : 's'}${why}`;
}

export async function chooseTarget(candidates: readonly Target[], threads?: number): Promise<Choice> {
  const passed: string[] = [];
  for (const target of candidates) {
    const missing = await target.unavailable();
    if (missing) {
      passed.push(`${target.name} not used: ${missing}`);
      continue;
    }
    const runs = await howItRuns(target, threads ?? target.defaultThreads());
    return { target, reason: [runs, ...passed].join('; ') };
  }
  throw new Error(`no target runs in this browser: ${passed.join('; ') || 'none was offered'}`);
}
