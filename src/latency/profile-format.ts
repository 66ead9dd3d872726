// The latency profile format (docs/speed-model.md): a device fingerprint, the setup every time in it belongs to
// (target, scale, input size, timing protocol) and one measurement per part. Anything that can produce the
// same JSON — a browser, another machine — can feed the speed model. Imports no `node:*` (the profiling page
// builds and formats profiles; `rtsr serve` validates what pages post); profile-file.ts reads and writes them.
import { summarize, type Timing } from './measure.js';
import { partKey, type Part, type RunnerInfo } from './runner.js';

export const PROFILE_FORMAT = 'rtsr-latency-profile';
export const PROFILE_VERSION = 1;

export interface DeviceFingerprint extends RunnerInfo {
  readonly cpu: string;
  /** x86's CPU family and model numbers (/proc/cpuinfo): the name alone can hide generations ("AMD EPYC" is
   *  Zen 4, family 25, and Zen 5, family 26). Absent where unknown (older profiles, browsers, other systems). */
  readonly cpuFamily?: number;
  readonly cpuModel?: number;
  /** Logical cores of the machine (threads says how many the kernels use). */
  readonly cores: number;
  readonly os: string;
  readonly node: string;
  readonly rtsr: string;
  /** Profiles measured in a browser: its user agent, and the GPU adapter where a WebGPU target ran. */
  readonly userAgent?: string;
  readonly adapter?: string;
}

/** The fields of `keys` on which two fingerprints differ, as "key: a vs b". A field one of them lacks (the CPU
 *  family of a profile made before it was recorded) is unknown, not a difference. */
export function fingerprintDiffs(a: DeviceFingerprint, b: DeviceFingerprint, keys: readonly (keyof DeviceFingerprint)[]): string[] {
  return keys.filter((k) => a[k] !== undefined && b[k] !== undefined && a[k] !== b[k]).map((k) => `${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}

/** The CPU as a person reads it: "AMD EPYC (family 26, model 2)". */
export function describeCpu(d: Pick<DeviceFingerprint, 'cpu' | 'cpuFamily' | 'cpuModel'>): string {
  const id = [d.cpuFamily !== undefined && `family ${d.cpuFamily}`, d.cpuModel !== undefined && `model ${d.cpuModel}`].filter(Boolean);
  return id.length ? `${d.cpu} (${id.join(', ')})` : d.cpu;
}

/** What every time in a profile is a time of: a speed model only ever mixes profiles that agree on it. */
export interface ProfileSetup {
  readonly target: string;
  readonly scale: number;
  readonly input: { readonly w: number; readonly h: number };
}

export interface Protocol {
  /** Untimed rounds over all parts at the start of every run (a resumed one too: caches start cold). */
  readonly warmup: number;
  /** Timed rounds: samples per part. */
  readonly repeats: number;
}

export interface Measurement extends Timing {
  readonly part: Part;
  /** Every timed run in ms, one per round (the median and spread summarise them). */
  readonly samples: readonly number[];
}

export interface Profile {
  readonly format: typeof PROFILE_FORMAT;
  readonly version: typeof PROFILE_VERSION;
  readonly device: DeviceFingerprint;
  readonly scale: number;
  readonly input: { readonly w: number; readonly h: number };
  readonly protocol: Protocol;
  /** The machine's 1-minute load average after each timed round: co-runners show up here (empty from a browser,
   *  which cannot read it). */
  readonly load: readonly number[];
  readonly measurements: readonly Measurement[];
}

/** Header as readable JSON, then one measurement per line: diffs and a glance at the numbers stay easy. */
export function formatProfile(p: Profile): string {
  const { measurements, ...head } = p;
  const header = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  const lines = measurements.map((m) => '    ' + JSON.stringify(m));
  return `${header},\n  "measurements": [${lines.length ? '\n' + lines.join(',\n') + '\n  ' : ''}]\n}\n`;
}

const isInt = (v: unknown, min = 1): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkPart(raw: unknown): string | null {
  if (!isObj(raw)) return 'part must be an object';
  const widths = (...ks: string[]) => ks.every((k) => isInt(raw[k]));
  switch (raw.kind) {
    case 'head':
    case 'tail':
      return widths('c') ? null : `${raw.kind} needs an integer c ≥ 1`;
    case 'block':
      return widths('c', 'm1', 'm2') ? null : 'block needs integers c, m1, m2 ≥ 1';
    case 'model':
      return widths('c') && Array.isArray(raw.blocks) && raw.blocks.every((b) => isObj(b) && isInt(b.m1) && isInt(b.m2))
        ? null
        : 'model needs an integer c ≥ 1 and blocks [{m1, m2}, …]';
    default:
      return `unknown part kind ${JSON.stringify(raw.kind)}`;
  }
}

/** Checks a parsed profile; every error names the file and the field at fault. */
export function validateProfile(raw: unknown, source: string): Profile {
  const bad = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (!isObj(raw) || raw.format !== PROFILE_FORMAT) return bad(`not an rtsr latency profile (format ${JSON.stringify(isObj(raw) ? raw.format : raw)})`);
  if (raw.version !== PROFILE_VERSION) bad(`profile version ${JSON.stringify(raw.version)}; this rtsr reads version ${PROFILE_VERSION}`);
  const d = raw.device;
  if (!isObj(d)) return bad("'device' must be an object");
  for (const k of ['cpu', 'os', 'node', 'rtsr', 'runner', 'target', 'compiler'])
    if (typeof d[k] !== 'string') bad(`'device.${k}' must be a string`);
  for (const k of ['cores', 'threads']) if (!isInt(d[k])) bad(`'device.${k}' must be an integer ≥ 1`);
  for (const k of ['userAgent', 'adapter']) if (d[k] !== undefined && typeof d[k] !== 'string') bad(`'device.${k}' must be a string when given`);
  for (const k of ['cpuFamily', 'cpuModel']) if (d[k] !== undefined && !isInt(d[k], 0)) bad(`'device.${k}' must be an integer ≥ 0 when given`);
  if (!isInt(raw.scale, 2) || raw.scale > 4) bad(`'scale' must be 2, 3 or 4, got ${JSON.stringify(raw.scale)}`);
  const input = raw.input;
  if (!isObj(input) || !isInt(input.w) || !isInt(input.h)) bad(`'input' must be {"w", "h"} (positive integers)`);
  const proto = raw.protocol;
  if (!isObj(proto) || !isInt(proto.warmup, 0) || !isInt(proto.repeats)) return bad(`'protocol' must be {"warmup" ≥ 0, "repeats" ≥ 1}`);
  const repeats = proto.repeats;
  if (!Array.isArray(raw.load) || !raw.load.every(isNum)) bad("'load' must be an array of numbers ≥ 0");
  if (!Array.isArray(raw.measurements)) return bad("'measurements' must be an array");
  const seen = new Set<string>();
  raw.measurements.forEach((m: unknown, i: number) => {
    const at = `measurements[${i}]`;
    if (!isObj(m)) return bad(`${at} must be an object`);
    const err = checkPart(m.part);
    if (err) bad(`${at}.part: ${err}`);
    const samples = m.samples;
    if (!Array.isArray(samples) || samples.length === 0 || samples.length > repeats || !samples.every((t) => isNum(t) && t > 0))
      return bad(`${at}.samples must be 1 to ${repeats} (protocol.repeats) times > 0`);
    const stats = summarize(samples);
    if (!isNum(m.ms) || Math.abs(m.ms - stats.ms) > 1e-9 * stats.ms) bad(`${at}.ms must be the median of its samples (${stats.ms})`);
    if (!isNum(m.spread)) bad(`${at}.spread must be a finite number ≥ 0`);
    const key = partKey(m.part as Part);
    if (seen.has(key)) bad(`${at}: ${key} is measured twice`);
    seen.add(key);
  });
  return raw as unknown as Profile;
}

/** Refuses a profile (or a speed model fitted on one) that times another target, scale or input size. */
export function checkSetup(have: ProfileSetup, want: Partial<ProfileSetup>, source: string): void {
  const size = (s: { w: number; h: number }) => `${s.w}x${s.h}`;
  const diffs: string[] = [];
  if (want.target !== undefined && have.target !== want.target) diffs.push(`target '${have.target}', not '${want.target}'`);
  if (want.scale !== undefined && have.scale !== want.scale) diffs.push(`scale ×${have.scale}, not ×${want.scale}`);
  if (want.input !== undefined && size(have.input) !== size(want.input)) diffs.push(`input ${size(have.input)}, not ${size(want.input)}`);
  if (diffs.length) throw new Error(`${source} was measured for ${diffs.join(', ')}: its times do not apply here`);
}

/** The setup a profile's times belong to. */
export const profileSetup = (p: Profile): ProfileSetup => ({ target: p.device.target, scale: p.scale, input: p.input });
