// Which speed model a search steers by. The shipped one when it was measured on a machine like this one; one
// profiled into the output folder earlier; for --quick on a CPU no shipped model was measured on, the nearest
// shipped model (same target and scale), whose milliseconds the calibration then rescales to this machine —
// profiling first would take longer than the whole quick search (the 2-core Xeon: 12.8 min of tuning);
// else this machine is profiled. Each says which in one line.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fitSpeedModel } from '../latency/fit.js';
import {
  checkSetup, defaultProfilePath, describeCpu, deviceFingerprint, type DeviceFingerprint, fingerprintDiffs, profileSetup, readProfile,
} from '../latency/profile-file.js';
import { planParts, runProfile } from '../latency/profiler.js';
import { createRunner } from '../latency/runner.js';
import { modelPathFor, SpeedModel } from '../latency/speed-model.js';
import type { Target } from '../targets/target.js';
import { PACKAGE_ROOT } from '../util/package-root.js';

export interface SpeedModelRequest {
  target: Target;
  scale: number;
  input: { w: number; h: number };
  quick: boolean;
  outDir: string;
  /** A profile measured on another device (`rtsr search --device-profile`): its fitted model, nothing else. */
  deviceProfile?: string;
  /** Fields that replace this machine's fingerprint: a test stands in for a CPU no shipped model was measured on. */
  device?: Partial<DeviceFingerprint>;
  log: (line: string) => void;
}

export type SpeedModelSource = 'device profile' | 'this machine' | 'nearest' | 'profiled';

export interface ChosenSpeedModel {
  model: SpeedModel;
  path: string;
  source: SpeedModelSource;
  /** This machine's fingerprint (with the request's replacements). */
  here: DeviceFingerprint;
}

/** Fingerprint fields that decide whether a speed model describes this machine (not node or rtsr versions). */
const SAME_DEVICE = ['cpu', 'cpuFamily', 'cpuModel', 'cores', 'os', 'runner', 'target', 'compiler', 'threads'] as const;

const PROFILES = join(PACKAGE_ROOT, 'profiles');

/** The shipped speed model of this target and scale whose input is closest in pixels (times scale with them;
 *  the calibration absorbs the rest), or null. */
export function nearestShipped(target: string, scale: number, input: { w: number; h: number }): { model: SpeedModel; path: string } | null {
  const pixels = (s: { w: number; h: number }) => s.w * s.h;
  const candidates = (existsSync(PROFILES) ? readdirSync(PROFILES) : [])
    .filter((f) => f.endsWith('.model.json'))
    .map((f) => ({ path: join(PROFILES, f), model: SpeedModel.load(join(PROFILES, f)) }))
    .filter((c) => c.model.data.setup.target === target && c.model.data.setup.scale === scale);
  const miss = (c: (typeof candidates)[number]) => Math.abs(Math.log(pixels(c.model.data.setup.input) / pixels(input)));
  candidates.sort((a, b) => miss(a) - miss(b) || a.path.localeCompare(b.path));
  return candidates[0] ?? null;
}

const shown = (path: string) => (path.startsWith(PACKAGE_ROOT) ? relative(PACKAGE_ROOT, path) : path);

export async function speedModelFor(r: SpeedModelRequest): Promise<ChosenSpeedModel> {
  const runner = await createRunner({ target: r.target, scale: r.scale, h: r.input.h, w: r.input.w });
  const here: DeviceFingerprint = { ...deviceFingerprint(runner.info), ...r.device };
  if (r.deviceProfile) {
    const profile = readProfile(r.deviceProfile);
    checkSetup(profileSetup(profile), { scale: r.scale, input: r.input }, r.deviceProfile);
    const path = join(r.outDir, 'device.model.json');
    const model = fitSpeedModel(profile, r.deviceProfile);
    model.save(path);
    r.log(`speed model: ${path}, fitted on ${r.deviceProfile} (${describeCpu(profile.device)})`);
    return { model, path, source: 'device profile', here };
  }
  const setup = { target: r.target.name, scale: r.scale, input: r.input };
  const shipped = join(PACKAGE_ROOT, modelPathFor(defaultProfilePath(setup)));
  const profilePath = join(r.outDir, 'profile.json');
  const modelPath = modelPathFor(profilePath);
  let why = `no shipped one for ${r.target.name} ×${r.scale} at ${r.input.w}x${r.input.h}`;
  for (const path of [shipped, modelPath]) {
    if (!existsSync(path)) continue;
    const model = SpeedModel.load(path);
    const diffs = fingerprintDiffs(model.data.device, here, SAME_DEVICE);
    if (path === shipped && diffs.length) why = `${shown(shipped)} was measured on another machine (${diffs.join('; ')}; there vs here)`;
    if (diffs.length) continue;
    r.log(`speed model: ${shown(path)}, measured on this kind of machine (${describeCpu(here)}, ${here.cores} cores, ${r.target.name})`);
    return { model, path, source: path === shipped ? 'this machine' : 'profiled', here };
  }
  const nearest = r.quick ? nearestShipped(r.target.name, r.scale, r.input) : null;
  if (nearest) {
    const d = nearest.model.data;
    const which = nearest.path === shipped ? 'it' : `the nearest shipped one, ${shown(nearest.path)} (${d.setup.input.w}x${d.setup.input.h}, measured on ${describeCpu(d.device)})`;
    r.log(`speed model: ${why}; --quick starts from ${which}, rescaled to this machine by the calibration below (the full search profiles this machine first)`);
    return { ...nearest, source: 'nearest', here };
  }
  const samples = r.quick ? 40 : 400;
  const parts = planParts(samples, 1).length;
  r.log(`speed model: none for this machine (${describeCpu(here)}): ${why}; profiling it first (resumable): ${parts} parts to compile and tune, then timing rounds`);
  const profile = await runProfile(runner, {
    out: profilePath, scale: r.scale, input: r.input, samples, seed: 1, warmup: 1, repeats: r.quick ? 5 : 15, batch: 24, log: r.log,
  });
  const model = fitSpeedModel(profile, profilePath);
  model.save(modelPath);
  return { model, path: modelPath, source: 'profiled', here };
}
