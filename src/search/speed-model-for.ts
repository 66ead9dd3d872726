// Which speed model a search steers by. A shipped one measured on a machine like this one (profiles/ may hold one
// per CPU kind for a setup: <target>-x<scale>-<WxH>[-<kind>].model.json); one profiled into the output folder
// earlier; for --quick on a CPU no shipped model was measured on, the nearest shipped model (same target and scale,
// closest input, then closest machine), whose milliseconds the calibration then rescales to this machine —
// profiling first would take longer than the whole quick search (the issue's 2-core Xeon: 12.8 min of tuning);
// else this machine is profiled. Each says which in one line.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
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
  /** Where the shipped models are; default the package's profiles/ (tests ship their own). */
  profilesDir?: string;
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

interface Shipped {
  model: SpeedModel;
  path: string;
}

/** Every shipped speed model of this target and scale. */
function shippedModels(target: string, scale: number, dir = PROFILES): Shipped[] {
  return (existsSync(dir) ? readdirSync(dir) : [])
    .filter((f) => f.endsWith('.model.json'))
    .map((f) => ({ path: join(dir, f), model: SpeedModel.load(join(dir, f)) }))
    .filter((c) => c.model.data.setup.target === target && c.model.data.setup.scale === scale);
}

const sameInput = (a: { w: number; h: number }, b: { w: number; h: number }) => a.w === b.w && a.h === b.h;

/** Named as its setup's default file (the first profiled for it): preferred between equals. */
const defaultNamed = (c: Shipped) => basename(c.path) === basename(modelPathFor(defaultProfilePath(c.model.data.setup)));

/** The shipped speed model of this target and scale whose input is closest in pixels (times scale with them;
 *  the calibration absorbs the rest), of those the one measured on the machine most like `here`; or null. */
export function nearestShipped(target: string, scale: number, input: { w: number; h: number }, here?: DeviceFingerprint, dir = PROFILES): Shipped | null {
  const pixels = (s: { w: number; h: number }) => s.w * s.h;
  const miss = (c: Shipped) => Math.abs(Math.log(pixels(c.model.data.setup.input) / pixels(input)));
  const unlike = (c: Shipped) => (here ? fingerprintDiffs(c.model.data.device, here, SAME_DEVICE).length : 0);
  const candidates = shippedModels(target, scale, dir);
  candidates.sort((a, b) => miss(a) - miss(b) || unlike(a) - unlike(b) || Number(defaultNamed(b)) - Number(defaultNamed(a)) || a.path.localeCompare(b.path));
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
  const dir = r.profilesDir ?? PROFILES;
  // This setup's shipped models, the one of the default name first.
  const shipped = shippedModels(r.target.name, r.scale, dir)
    .filter((c) => sameInput(c.model.data.setup.input, r.input))
    .sort((a, b) => Number(defaultNamed(b)) - Number(defaultNamed(a)) || a.path.localeCompare(b.path));
  const profilePath = join(r.outDir, 'profile.json');
  const modelPath = modelPathFor(profilePath);
  const others: { path: string; diffs: string }[] = [];
  for (const { path, model } of [...shipped, ...(existsSync(modelPath) ? [{ path: modelPath, model: SpeedModel.load(modelPath) }] : [])]) {
    const diffs = fingerprintDiffs(model.data.device, here, SAME_DEVICE);
    if (diffs.length) {
      if (path !== modelPath) others.push({ path: shown(path), diffs: `${diffs.join('; ')}; there vs here` });
      continue;
    }
    r.log(`speed model: ${shown(path)}, measured on this kind of machine (${describeCpu(here)}, ${here.cores} cores, ${r.target.name})`);
    return { model, path, source: path === modelPath ? 'profiled' : 'this machine', here };
  }
  const why =
    others.length === 0
      ? `no shipped one for ${r.target.name} ×${r.scale} at ${r.input.w}x${r.input.h}`
      : others.length === 1
        ? `${others[0].path} was measured on another machine (${others[0].diffs})`
        : `the shipped ones were measured on other machines: ${others.map((o) => `${o.path} (${o.diffs})`).join(', ')}`;
  const nearest = r.quick ? nearestShipped(r.target.name, r.scale, r.input, here, dir) : null;
  if (nearest) {
    const d = nearest.model.data;
    const which = shipped.length === 1 && nearest.path === shipped[0].path ? 'it' : `the nearest shipped one, ${shown(nearest.path)} (${d.setup.input.w}x${d.setup.input.h}, measured on ${describeCpu(d.device)})`;
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
