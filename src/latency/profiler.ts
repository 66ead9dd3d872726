// `rtsr profile`'s engine. Plans the parts, compiles them batch by batch (one compiler run per batch), then
// times all of them in interleaved rounds — every part once per round, in a fresh random order — so that a
// co-runner that comes and goes slows all parts alike rather than one batch of them. The profile file is
// rewritten atomically after every round: an interrupted profile keeps every finished sample, and a restart
// times only the samples still missing.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { measurementsOf, type PartSamples, prepareInBatches, timeRounds } from './measure.js';
import {
  checkSetup, deviceFingerprint, fingerprintDiffs, PROFILE_FORMAT, PROFILE_VERSION, readProfile, writeProfile,
  type DeviceFingerprint, type Profile, type Protocol,
} from './profile-file.js';
import { partKey, type BlockRunner } from './runner.js';
import { planParts } from './sampling.js';

export { planParts };

export interface ProfileOptions extends Protocol {
  readonly out: string;
  readonly scale: number;
  readonly input: { readonly w: number; readonly h: number };
  /** Sampled block configurations (the planned models' blocks come on top). */
  readonly samples: number;
  readonly seed: number;
  /** Parts per compiler run. */
  readonly batch: number;
  readonly log?: (line: string) => void;
  /** Milliseconds; tests pass a virtual clock. */
  readonly now?: () => number;
}

function sameDevice(file: DeviceFingerprint, now: DeviceFingerprint, path: string): void {
  const diffs = fingerprintDiffs(file, now, Object.keys(now) as (keyof DeviceFingerprint)[]);
  if (diffs.length) throw new Error(`${path} was measured on another device or setup (${diffs.join('; ')}, file vs here): resume it there, or pass another --out`);
}

/** The profile to continue: the file at `out` if it exists (after checking it matches this run), else a new one. */
function startingProfile(runner: BlockRunner, o: ProfileOptions): Profile {
  const device = deviceFingerprint(runner.info);
  const protocol = { warmup: o.warmup, repeats: o.repeats };
  if (!existsSync(o.out)) return { format: PROFILE_FORMAT, version: PROFILE_VERSION, device, scale: o.scale, input: o.input, protocol, load: [], measurements: [] };
  const p = readProfile(o.out);
  checkSetup({ target: p.device.target, scale: p.scale, input: p.input }, { target: device.target, scale: o.scale, input: o.input }, o.out);
  sameDevice(p.device, device, o.out);
  if (p.protocol.warmup !== o.warmup || p.protocol.repeats !== o.repeats)
    throw new Error(`${o.out} was measured with --warmup ${p.protocol.warmup} --repeats ${p.protocol.repeats}: resume with those, or pass another --out`);
  return p;
}

/** "~40 s left", "~3.5 min left". */
const left = (ms: number) => (ms < 90e3 ? `~${Math.round(ms / 1e3)} s left` : `~${(ms / 60e3).toFixed(1)} min left`);

/** Measures what the profile at `o.out` lacks; returns the complete profile. */
export async function runProfile(runner: BlockRunner, o: ProfileOptions): Promise<Profile> {
  const log = o.log ?? (() => {});
  const now = o.now ?? (() => performance.now());
  let profile = startingProfile(runner, o);
  // Samples by part, in file order, then plan order for parts new to the file.
  const samples = new Map<string, PartSamples>(profile.measurements.map((m) => [partKey(m.part), { part: m.part, times: [...m.samples] }]));
  for (const p of planParts(o.samples, o.seed)) if (!samples.has(partKey(p))) samples.set(partKey(p), { part: p, times: [] });
  const todo = [...samples.values()].filter((s) => s.times.length < o.repeats);
  if (todo.length === 0) return profile;
  if (profile.measurements.length) log(`${o.out}: ${todo.length} of ${samples.size} parts still need samples`);

  const t0 = now();
  await prepareInBatches(runner, todo.map((s) => s.part), o.batch, now, (done, ms) =>
    log(`compiled ${done}/${todo.length} parts (${(ms / 1e3).toFixed(1)} s; ${left(((now() - t0) / done) * (todo.length - done))})`));
  const rounds = o.repeats - Math.min(...todo.map((s) => s.times.length));
  log(`timing ${todo.length} parts: ${o.warmup} warm-up and ${rounds} timed rounds, every part once a round`);
  await timeRounds(runner, todo, { warmup: o.warmup, repeats: o.repeats, seed: o.seed + profile.load.length, now }, (round, timed, ms) => {
    const load = Number(loadavg()[0].toFixed(2));
    profile = { ...profile, load: [...profile.load, load], measurements: measurementsOf(samples.values()) };
    writeProfile(o.out, profile);
    log(`round ${round}/${rounds}: ${timed} parts in ${(ms / 1e3).toFixed(1)} s, load ${load}; ${left(ms * (rounds - round))}`);
  });
  return profile;
}
