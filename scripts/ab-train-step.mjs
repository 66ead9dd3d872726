#!/usr/bin/env node
// Two builds' training steps against each other, alternating in the same minutes: this host's speed drifts
// 10–20 % within minutes, which hides a few-percent change between two runs of `rtsr bench train` (whose
// PyTorch anchor drifts more still). Each run is a fresh process timing one bench net's step (`timeOurs` of
// src/bench/train-bench.ts: 30 steps after 3 warm-up, median), A and B PAIRS times, which goes first alternating. Build both first, e.g.
//   git worktree add ../before <commit> && (cd ../before && npm ci && npm run build)
//   node scripts/ab-train-step.mjs ../before . conv5x32 3
// Both run as `rtsr bench train` does, the conv blockings tuned on this machine; a root written `untuned:ROOT`
// runs that build with the default blockings (what tuning gains: `untuned:. . conv5x32`).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [a, b, net = 'conv5x32', pairs = '3'] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: node scripts/ab-train-step.mjs ROOT_A ROOT_B [conv5x32|wdsr-b|supernet] [PAIRS]');

/** One fresh process's median step of `net`, in ms, with the build under `root` (`untuned:` prefix: see above). */
function step(spec) {
  const untuned = spec.startsWith('untuned:');
  const root = untuned ? spec.slice('untuned:'.length) : spec;
  const dist = (p) => pathToFileURL(resolve(root, 'dist/src', p)).href;
  const code = `
    const { selectBackend } = await import('${dist('backends/index.js')}');
    const { timeOurs } = await import('${dist('bench/train-bench.js')}');
    const { BENCH_NETS } = await import('${dist('bench/train-nets.js')}');
    const { useBackend } = await import('${dist('engine/tensor.js')}');
    useBackend(await selectBackend('native', { tune: ${!untuned} }));
    console.log(await timeOurs(BENCH_NETS[${JSON.stringify(net)}], 30, 3));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }).trim());
}

const runs = { A: [], B: [] };
for (let i = 0; i < Number(pairs); i++) {
  for (const which of i % 2 ? ['B', 'A'] : ['A', 'B']) runs[which].push(step(which === 'A' ? a : b));
  console.log(`${net} pair ${i + 1}: A ${runs.A[i].toFixed(1)} ms, B ${runs.B[i].toFixed(1)} ms`);
}
const median = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
console.log(`${net}: median A ${median(runs.A).toFixed(1)} ms (${a}), B ${median(runs.B).toFixed(1)} ms (${b}), B/A ${(median(runs.B) / median(runs.A)).toFixed(3)}`);
