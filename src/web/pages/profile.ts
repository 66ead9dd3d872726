// The profiling page (web/profile.html): profiles this device's targets with the parts `rtsr profile` plans,
// compiled and timed by the same code (compiler-runner, measure), then posts the profile to `rtsr serve` and
// offers it as a download. Query parameters preset the form (?input=64x36&samples=20&repeats=3&models=0&start=1).
import { webTargets, type Target } from 'rtsr/web';
import { createCompilerRunner } from '../../latency/compiler-runner.js';
import { measurementsOf, type PartSamples, prepareInBatches, timeRounds } from '../../latency/measure.js';
import { type DeviceFingerprint, formatProfile, PROFILE_FORMAT, PROFILE_VERSION, type Profile, validateProfile } from '../../latency/profile-format.js';
import type { RunnerInfo } from '../../latency/runner.js';
import { planParts } from '../../latency/sampling.js';
import { probeGpu } from './gpu.js';

declare const RTSR_VERSION: string;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = {
  target: $<HTMLSelectElement>('target'),
  scale: $<HTMLSelectElement>('scale'),
  input: $<HTMLInputElement>('input'),
  samples: $<HTMLInputElement>('samples'),
  repeats: $<HTMLInputElement>('repeats'),
  models: $<HTMLInputElement>('models'),
};
const startButton = $<HTMLButtonElement>('start');
const progress = $<HTMLProgressElement>('progress');

function fail(message: string): void {
  const box = $('error');
  box.textContent = message;
  box.classList.add('shown');
  document.body.dataset.error = message;
}

const WARMUP = 1;
const BATCH = 8;
const SEED = 1;

/** Never names the CPU (browsers do not tell it): the user agent and the adapter say what they can. */
function fingerprint(info: RunnerInfo, adapter: string | null): DeviceFingerprint {
  const uaData = (navigator as { userAgentData?: { platform?: string } }).userAgentData;
  return {
    cpu: 'unknown (a browser does not name the CPU)',
    cores: navigator.hardwareConcurrency || 1,
    os: uaData?.platform || navigator.platform || 'unknown',
    node: 'none (browser)',
    rtsr: RTSR_VERSION,
    ...info,
    userAgent: navigator.userAgent,
    ...(adapter ? { adapter } : {}),
  };
}

function readForm(): { scale: number; input: { w: number; h: number }; samples: number; repeats: number; models: boolean } {
  const m = /^(\d+)x(\d+)$/.exec(form.input.value.trim());
  const int = (el: HTMLInputElement, min: number) => {
    const n = Number(el.value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${el.id} must be an integer ≥ ${min}, got '${el.value}'`);
    return n;
  };
  if (!m || +m[1] < 1 || +m[2] < 1) throw new Error(`input must be WIDTHxHEIGHT, e.g. 640x360; got '${form.input.value}'`);
  return { scale: Number(form.scale.value), input: { w: +m[1], h: +m[2] }, samples: int(form.samples, 0), repeats: int(form.repeats, 1), models: form.models.checked };
}

async function profileDevice(target: Target, adapter: string | null): Promise<void> {
  const o = readForm();
  $('run').hidden = false;
  document.body.dataset.state = 'running';
  const runner = await createCompilerRunner({ target, scale: o.scale, h: o.input.h, w: o.input.w });
  const parts = planParts(o.samples, SEED).filter((p) => o.models || p.kind !== 'model');
  const todo: PartSamples[] = parts.map((part) => ({ part, times: [] }));
  // Progress in part-runs: compiling a part counts as one, like each of its timed runs.
  const total = parts.length * (1 + WARMUP + o.repeats);
  const t0 = performance.now();
  let done = 0;
  const advance = async (units: number, phase: string) => {
    done += units;
    progress.value = done / total;
    const elapsed = (performance.now() - t0) / 1e3;
    $('phase').textContent = phase;
    $('eta').textContent = `${Math.round((100 * done) / total)} % · ${elapsed.toFixed(0)} s so far · about ${((elapsed / done) * (total - done)).toFixed(0)} s left`;
    await new Promise((r) => setTimeout(r)); // let the page paint between batches
  };
  let compiled = 0;
  await prepareInBatches(runner, parts, BATCH, () => performance.now(), (n) => {
    const step = n - compiled;
    compiled = n;
    return advance(step, `Compiling ${n} of ${parts.length} parts for ${target.name}…`);
  });
  await advance(parts.length * WARMUP, 'Warming up…');
  await timeRounds(runner, todo, { warmup: WARMUP, repeats: o.repeats, seed: SEED, now: () => performance.now() }, (round, timed) => advance(timed, `Timing: round ${round} of ${o.repeats}`));
  const profile: Profile = {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    device: fingerprint(runner.info, adapter),
    scale: o.scale,
    input: o.input,
    protocol: { warmup: WARMUP, repeats: o.repeats },
    load: [],
    measurements: measurementsOf(todo),
  };
  const text = formatProfile(validateProfile(profile, 'this profile'));
  const download = $<HTMLAnchorElement>('download');
  download.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  download.download = `${target.name}-x${o.scale}-${o.input.w}x${o.input.h}.json`;
  $('phase').textContent = `Measured ${todo.length} parts in ${((performance.now() - t0) / 1e3).toFixed(0)} s`;
  $('done').hidden = false;
  const res = await fetch('/api/profile', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text });
  const reply = await res.text();
  if (!res.ok) throw new Error(`The server did not take the profile (${reply.trim()}); download it instead.`);
  const { path } = JSON.parse(reply) as { path: string };
  $('saved').textContent = `Saved by rtsr serve as ${path}`;
  $('next').textContent = `rtsr speed-model fit --profile ${path}\nrtsr search --device-profile ${path} --budget-ms 33 --scale ${o.scale} --input ${o.input.w}x${o.input.h}`;
  document.body.dataset.state = 'done';
  document.body.dataset.saved = path;
}

async function main(): Promise<void> {
  const gpu = await probeGpu();
  const usable: Target[] = [];
  const notes: string[] = [gpu.text];
  for (const t of webTargets()) {
    const missing = await t.unavailable();
    if (missing) notes.push(`${t.name}: ${missing}`);
    else usable.push(t);
  }
  for (const t of usable) form.target.append(new Option(`${t.name} (${t.defaultThreads()} thread${t.defaultThreads() === 1 ? '' : 's'})`, t.name));
  // URL parameters fill the form once its target list exists (?target=wasm picks one).
  const params = new URLSearchParams(location.search);
  for (const [k, el] of Object.entries(form)) {
    const v = params.get(k);
    if (v === null) continue;
    if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = v !== '0';
    else el.value = v;
  }
  $('device').textContent = [`user agent: ${navigator.userAgent}`, `cores: ${navigator.hardwareConcurrency}`, `cross-origin isolated: ${crossOriginIsolated}`, ...notes, ...(await Promise.all(usable.map(async (t) => `${t.name}: ${await t.describe()}`)))].join('\n');
  if (usable.length === 0) return fail('No rtsr target runs in this browser (it needs WebAssembly SIMD or WebGPU).');
  const start = async () => {
    startButton.disabled = true;
    try {
      await profileDevice(usable.find((t) => t.name === form.target.value) ?? usable[0], gpu.adapter);
    } catch (err) {
      document.body.dataset.state = 'failed';
      fail(err instanceof Error ? err.message : String(err));
    } finally {
      startButton.disabled = false;
    }
  };
  startButton.addEventListener('click', () => void start());
  if (params.get('start') === '1') await start();
}

void main();
