// Which speed model a search steers by: the CPU's family and model in the fingerprint (so "AMD EPYC" Zen 4 and Zen 5
// are told apart, older profiles still read), the shipped model where it was measured on this kind of machine, and
// for --quick elsewhere the nearest shipped one — with fingerprints injected, nothing profiled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTarget } from '../src/cli/target-option.js';
import { cpuIdentity, type DeviceFingerprint, describeCpu, fingerprintDiffs, readProfile, validateProfile } from '../src/latency/profile-file.js';
import { SpeedModel } from '../src/latency/speed-model.js';
import { nearestShipped, speedModelFor } from '../src/search/speed-model-for.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const ZEN5 = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\n';
const ARM = 'processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n';

test('the fingerprint carries x86 family and model; a field one side lacks is unknown, not a difference', () => {
  assert.deepEqual(cpuIdentity(ZEN5), { cpuFamily: 26, cpuModel: 2 });
  assert.deepEqual(cpuIdentity(ARM), {});
  assert.deepEqual(cpuIdentity(''), {});
  const base = { cpu: 'AMD EPYC', cores: 2, os: 'linux x64', node: 'v20', rtsr: '0.1.0', runner: 'compiler-fused', target: 'native', compiler: 'cc', threads: 2 };
  const zen4: DeviceFingerprint = { ...base, cpuFamily: 25 };
  const zen5: DeviceFingerprint = { ...base, cpuFamily: 26, cpuModel: 2 };
  assert.deepEqual(fingerprintDiffs(zen4, zen5, ['cpu', 'cpuFamily', 'cpuModel', 'cores']), ['cpuFamily: 25 vs 26']);
  assert.deepEqual(fingerprintDiffs(base, zen5, ['cpu', 'cpuFamily', 'cpuModel']), [], 'a profile from before the family was recorded');
  assert.equal(describeCpu(zen5), 'AMD EPYC (family 26, model 2)');
  assert.equal(describeCpu(base), 'AMD EPYC');
  // The shipped profiles carry the family they were measured on (docs/speed-model.md); profiles without it read.
  assert.equal(readProfile(join(PACKAGE_ROOT, 'profiles/native-x2-640x360.json')).device.cpuFamily, 25);
  assert.equal(readProfile(join(PACKAGE_ROOT, 'profiles/wasm-x2-640x360.json')).device.cpuFamily, 26);
  const raw = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'profiles/native-x4-320x180.json'), 'utf8'));
  delete raw.device.cpuFamily;
  assert.equal(validateProfile(raw, 'old.json').device.cpuFamily, undefined);
  raw.device.cpuFamily = '25';
  assert.throws(() => validateProfile(raw, 'bad.json'), /bad\.json: 'device\.cpuFamily' must be an integer ≥ 0 when given/);
});

test('the nearest shipped speed model is of the same target and scale, closest in pixels', () => {
  const name = (n: { path: string } | null) => n && n.path.slice(PACKAGE_ROOT.length + 1);
  assert.equal(name(nearestShipped('native', 2, { w: 640, h: 360 })), 'profiles/native-x2-640x360.model.json');
  assert.equal(name(nearestShipped('native', 2, { w: 320, h: 180 })), 'profiles/native-x2-640x360.model.json');
  assert.equal(name(nearestShipped('native', 4, { w: 640, h: 360 })), 'profiles/native-x4-320x180.model.json');
  assert.equal(nearestShipped('native', 3, { w: 426, h: 240 }), null);
  assert.equal(nearestShipped('wasm', 4, { w: 320, h: 180 }), null);
});

test('the shipped model measured on this kind of machine is used as it is; on another CPU, --quick takes the nearest and says why', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-speed-'));
  // The package's model of this setup alone (profiles/ may ship others for other CPU kinds: the next test).
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-profiles-'));
  try {
    const target = await resolveTarget(undefined);
    const file = `${target.name}-x2-640x360.model.json`;
    writeFileSync(join(dir, file), readFileSync(join(PACKAGE_ROOT, 'profiles', file)));
    const shipped = join(dir, file);
    const there = SpeedModel.load(shipped).data.device;
    const ask = async (device: Partial<DeviceFingerprint>) => {
      const logs: string[] = [];
      const got = await speedModelFor({ target, scale: 2, input: { w: 640, h: 360 }, quick: true, outDir: out, device, profilesDir: dir, log: (l) => logs.push(l) });
      return { ...got, logs };
    };
    // The shipped model's own machine (every field that decides, from its fingerprint).
    const same = await ask({ cpu: there.cpu, cpuFamily: there.cpuFamily, cpuModel: there.cpuModel, cores: there.cores, os: there.os, compiler: there.compiler, threads: there.threads });
    assert.deepEqual([same.source, same.path, same.logs.length], ['this machine', shipped, 1]);
    assert.ok(same.logs[0].startsWith(`speed model: ${shipped}, measured on this kind of machine`), same.logs[0]);
    // The same name, another CPU family: not this machine.
    const other = await ask({ cpu: there.cpu, cpuFamily: 99, cpuModel: 1, cores: there.cores, os: there.os, compiler: there.compiler, threads: there.threads });
    assert.deepEqual([other.source, other.path], ['nearest', shipped]);
    assert.deepEqual(other.logs, [
      `speed model: ${shipped} was measured on another machine (cpuFamily: ${there.cpuFamily} vs 99; there vs here); ` +
        '--quick starts from it, rescaled to this machine by the calibration below (the full search profiles this machine first)',
    ]);
    assert.equal(describeCpu(other.here), `${there.cpu} (family 99, model 1)`);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('profiles/ may ship a model per CPU kind for one setup: the one of this machine is used, else the nearest machine', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-speed-'));
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-profiles-'));
  try {
    const target = await resolveTarget(undefined);
    const raw = JSON.parse(readFileSync(join(PACKAGE_ROOT, `profiles/${target.name}-x2-640x360.model.json`), 'utf8'));
    const there = raw.device as DeviceFingerprint;
    const ship = (name: string, cpuFamily: number) => writeFileSync(join(dir, name), JSON.stringify({ ...raw, device: { ...there, cpuFamily, cpuModel: 2 } }));
    ship(`${target.name}-x2-640x360.model.json`, 25);
    ship(`${target.name}-x2-640x360-zen5.model.json`, 26);
    const ask = async (cpuFamily: number, cpuModel: number) => {
      const logs: string[] = [];
      const device = { cpu: there.cpu, cpuFamily, cpuModel, cores: there.cores, os: there.os, compiler: there.compiler, threads: there.threads };
      const got = await speedModelFor({ target, scale: 2, input: { w: 640, h: 360 }, quick: true, outDir: out, device, profilesDir: dir, log: (l) => logs.push(l) });
      return { source: got.source, file: got.path.slice(dir.length + 1), logs };
    };
    assert.deepEqual((await ask(26, 2)).file, `${target.name}-x2-640x360-zen5.model.json`);
    assert.deepEqual((await ask(25, 2)).file, `${target.name}-x2-640x360.model.json`);
    // Neither machine: the nearest (one field apart, not two), and the line names both.
    const other = await ask(26, 9);
    assert.deepEqual([other.source, other.file], ['nearest', `${target.name}-x2-640x360-zen5.model.json`]);
    assert.match(other.logs[0], /the shipped ones were measured on other machines: .*-x2-640x360\.model\.json \(cpuFamily: 25 vs 26; cpuModel: 2 vs 9; there vs here\), .*-zen5\.model\.json \(cpuModel: 2 vs 9; there vs here\); --quick starts from the nearest shipped one/);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
