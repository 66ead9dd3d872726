// Latency profile files on disk (the format itself, node-free, is profile-format.ts): reading, atomic writing,
// default paths, and the fingerprint of the machine this process runs on.
import { readFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { type DeviceFingerprint, formatProfile, type Profile, type ProfileSetup, validateProfile } from './profile-format.js';
import type { RunnerInfo } from './runner.js';

export * from './profile-format.js';

export function rtsrVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The family and model numbers of /proc/cpuinfo's first CPU (x86 Linux); {} where the text has none. */
export function cpuIdentity(cpuinfo: string): { cpuFamily?: number; cpuModel?: number } {
  const field = (name: string) => {
    const m = new RegExp(`^${name}\\s*:\\s*(\\d+)\\s*$`, 'm').exec(cpuinfo);
    return m ? Number(m[1]) : undefined;
  };
  const [cpuFamily, cpuModel] = [field('cpu family'), field('model')];
  return { ...(cpuFamily !== undefined && { cpuFamily }), ...(cpuModel !== undefined && { cpuModel }) };
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return ''; // not Linux: the CPU's name is all the fingerprint has
  }
}

/** This machine's CPU: its name, family and model where known, and its cores. */
export function thisCpu(): Pick<DeviceFingerprint, 'cpu' | 'cpuFamily' | 'cpuModel' | 'cores'> {
  const cores = cpus();
  return { cpu: cores[0]?.model.trim() ?? 'unknown', ...cpuIdentity(readCpuinfo()), cores: cores.length };
}

export function deviceFingerprint(info: RunnerInfo): DeviceFingerprint {
  return {
    ...thisCpu(),
    os: `${platform()} ${arch()}`,
    node: process.version,
    rtsr: rtsrVersion(),
    runner: info.runner,
    target: info.target,
    compiler: info.compiler,
    threads: info.threads,
  };
}

export function writeProfile(path: string, p: Profile): void {
  writeFileAtomic(path, formatProfile(p));
}

export function readProfile(path: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the profile (${(err as Error).message})`);
  }
  return validateProfile(raw, path);
}

/** Where `rtsr profile` writes and `rtsr speed-model fit` reads by default: profiles/<target>-x<s>-<WxH>.json. */
export const defaultProfilePath = (s: ProfileSetup) => join('profiles', `${s.target}-x${s.scale}-${s.input.w}x${s.input.h}.json`);

