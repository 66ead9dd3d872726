// `rtsr upscale IN.mp4 OUT.mp4`: a 2-second 320×180 test video (made here with ffmpeg, 10 fps, a tone) upscales
// to 640×360 frames equal to the single-image path's, at the same rate, with its audio; faults: no ffmpeg, an
// existing output, a corrupt video, a kill while encoding. Without ffmpeg the tests that need it are skipped,
// saying so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/compiler/compile.js';
import { rgbImage } from '../src/image/image.js';
import { saveModel } from '../src/models/model-io.js';
import { defaultTarget } from '../src/targets/registry.js';
import { randomModel } from './compiler-support.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rtsr-video-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, RTSR_CACHE_DIR: join(dir, 'cache') };
const model = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":9,"m2":3}]}', 2, 1);
const modelPath = join(dir, 'm.rtsr');
saveModel(modelPath, model);

const hasTools = ['ffmpeg', 'ffprobe'].every((t) => spawnSync(t, ['-version']).status === 0);
const skip = hasTools ? false : 'ffmpeg and ffprobe are not on PATH (Debian: apt-get install ffmpeg)';

const rtsr = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [MAIN, 'upscale', ...args], { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });

/** testsrc2 (moving, coloured) at 320×180 and 10 fps with a 440 Hz tone, `seconds` long, as H.264 + AAC. */
function makeVideo(name: string, seconds: number): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=s=320x180:r=10:d=${seconds}`, '-f', 'lavfi', '-i', `sine=f=440:d=${seconds}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', join(dir, name)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Every frame of a video as raw RGB, decoded by ffmpeg. */
function frames(name: string): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', join(dir, name), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

function streams(name: string): { codec_type: string; codec_name: string; width?: number; height?: number; r_frame_rate: string; color_space?: string }[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height,r_frame_rate,color_space', '-of', 'json', join(dir, name)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).streams;
}

before(() => {
  if (hasTools) makeVideo('in.mp4', 2);
});

const LR = 320 * 180 * 3;
const HR = LR * 4;

test('a video upscaled losslessly (ffv1 in .mkv): 640×360 at 10 fps, every frame equal to runImage’s of the same decoded frame, audio kept', { skip }, async () => {
  const target = await defaultTarget();
  const r = rtsr(['in.mp4', 'out.mkv', '--model', modelPath, '--codec', 'ffv1', '--target', target.name]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^20 frames upscaled ×2 with m \\(${target.name}\\) in [\\d.]+ s: [\\d.]+ fps, [\\d.]+× real time at 10 fps → out\\.mkv \\(640x360, ffv1, audio copied\\)\\n$`));
  const [video, audio] = streams('out.mkv');
  assert.deepEqual([video.codec_type, video.codec_name, video.width, video.height, video.r_frame_rate], ['video', 'ffv1', 640, 360, '10/1']);
  assert.deepEqual([audio?.codec_type, audio?.codec_name], ['audio', 'aac']);
  const src = frames('in.mp4');
  const got = frames('out.mkv');
  assert.equal(src.length, 20 * LR);
  assert.equal(got.length, 20 * HR, 'the same 20 frames');
  const compiled = await compile(model, { target, tune: false, cacheDir: env.RTSR_CACHE_DIR });
  try {
    for (let i = 0; i < 20; i++) {
      const want = await compiled.runImage(rgbImage(320, 180, new Uint8Array(src.subarray(i * LR, (i + 1) * LR))));
      assert.ok(Buffer.from(want.data).equals(got.subarray(i * HR, (i + 1) * HR)), `frame ${i} differs from runImage's`);
    }
  } finally {
    await compiled.dispose();
  }
});

// Pixels are checked on the lossless path above. Here they cannot be: the random model's output is a colour
// checkerboard at the pixel pitch (its pixel shuffle of random weights), which 4:2:0 chroma cannot carry
// (11 dB against the lossless frames; the same frames re-encoded with x264 at qp 0 in 4:4:4 give 53 dB).
test('the default .mp4 (libx264 CRF 18, 4:2:0 BT.709): 640×360, all 20 frames at 10 fps, audio copied', { skip }, () => {
  const r = rtsr(['in.mp4', 'out.mp4', '--model', modelPath]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /→ out\.mp4 \(640x360, libx264, audio copied\)\n$/);
  const [video, audio] = streams('out.mp4');
  assert.deepEqual([video.codec_name, video.width, video.height, video.r_frame_rate, video.color_space, audio?.codec_name], ['h264', 640, 360, '10/1', 'bt709', 'aac']);
  assert.equal(frames('out.mp4').length, 20 * HR);
});

test('audio the container refuses is re-encoded, said in one note: AAC into .webm becomes Opus', { skip }, () => {
  const r = rtsr(['in.mp4', 'out.webm', '--model', modelPath]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^note: \.webm does not take the source's aac audio as it is \(.+\); it is re-encoded\n.*→ out\.webm \(640x360, libvpx-vp9, audio re-encoded\)\n$/);
  assert.deepEqual(streams('out.webm').map((s) => s.codec_name), ['vp9', 'opus']);
});

test('without ffmpeg on PATH: one line saying how to install it, exit 2', () => {
  writeFileSync(join(dir, 'any.mp4'), 'not looked at');
  // The reference target: the default one would first say that there is no C compiler on this PATH either.
  const r = rtsr(['any.mp4', 'any-x2.mp4', '--model', modelPath, '--target', 'reference'], { PATH: join(dir, 'empty-path') });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^rtsr: video needs ffprobe, which is not on PATH: install ffmpeg \(it brings ffprobe\) with `sudo apt-get install ffmpeg` \(Debian, Ubuntu\).*\n$/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('any')), ['any.mp4']);
});

test('an existing output is refused without --overwrite and kept; the input is never the output', () => {
  writeFileSync(join(dir, 'clip.mp4'), 'not looked at');
  writeFileSync(join(dir, 'taken.mp4'), 'my own file');
  let r = rtsr(['clip.mp4', 'taken.mp4', '--model', modelPath, '--target', 'reference']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'rtsr: taken.mp4 already exists; nothing was written (pass --overwrite to replace it)\n');
  assert.equal(readFileSync(join(dir, 'taken.mp4'), 'utf8'), 'my own file');
  r = rtsr(['clip.mp4', 'clip.mp4', '--model', modelPath, '--target', 'reference', '--overwrite']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'rtsr: writing clip.mp4 would overwrite the input clip.mp4\n');
});

test('a corrupt or truncated video: one line naming it, exit 2, nothing written', { skip }, () => {
  writeFileSync(join(dir, 'garbage.mp4'), 'this is no video');
  writeFileSync(join(dir, 'cut.mp4'), readFileSync(join(dir, 'in.mp4')).subarray(0, 20_000));
  for (const name of ['garbage.mp4', 'cut.mp4']) {
    const r = rtsr([name, 'never.mkv', '--model', modelPath]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^rtsr: cannot read video ${name.replace('.', '\\.')}: [^\\n]+\\n$`));
  }
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('never')), []);
});

test('a codec ffmpeg lacks, or --crf for one without it: one line, exit 2, nothing written', { skip }, () => {
  for (const [args, message] of [
    [['--codec', 'nosuch'], "rtsr: cannot encode never.mkv with nosuch: Unknown encoder 'nosuch'\n"],
    [['--codec', 'ffv1', '--crf', '20'], 'rtsr: --crf applies to libx264, libx265, libvpx-vp9, not ffv1\n'],
  ]) {
    const r = rtsr(['in.mp4', 'never.mkv', '--model', modelPath, ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, message);
  }
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('never')), []);
});

/** Pids of running ffmpeg processes with `text` in their arguments (Linux's /proc). */
function ffmpegsWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
        return args[0] === 'ffmpeg' && state !== 'Z' && args.some((a) => a.includes(text));
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}

/** Starts `upscale long.mp4 kill/out.mp4` and sends `signal` once the encoder has created its temp file and
 *  written to it; resolves with the exit code or signal and stderr. */
async function killWhileEncoding(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; seen: boolean }> {
  const child = spawn(process.execPath, [MAIN, 'upscale', join(dir, 'long.mp4'), join(dir, 'kill/out.mp4'), '--model', modelPath], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (s) => (stderr += s));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('close', (code, sig) => done([code, sig])));
  let seen = false;
  while (!seen && child.exitCode === null) {
    seen = readdirSync(join(dir, 'kill')).some((n) => n.startsWith('.out.mp4.') && readFileSync(join(dir, 'kill', n)).length > 0);
    if (seen) child.kill(signal);
    else await new Promise((tick) => setTimeout(tick, 20));
  }
  const [code, sig] = await exited;
  return { code, signal: sig, stderr, seen };
}

test('a kill while encoding leaves nothing under the final name: SIGINT kills both ffmpegs and removes the temp file; after SIGKILL the encoder ends and the next run sweeps its file', { skip }, async () => {
  makeVideo('long.mp4', 20);
  mkdirSync(join(dir, 'kill'));
  const stopped = await killWhileEncoding('SIGINT');
  assert.ok(stopped.seen, `the run ended before its output was seen: ${stopped.stderr}`);
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /rtsr: stopped by SIGINT; \S+kill\/out\.mp4 was not written\n$/);
  assert.deepEqual(readdirSync(join(dir, 'kill')), []);
  assert.deepEqual(ffmpegsWith(dir), [], 'no ffmpeg left running');

  const killed = await killWhileEncoding('SIGKILL');
  assert.ok(killed.seen && killed.signal === 'SIGKILL', killed.stderr);
  // The decoder dies on its broken pipe, the encoder at the end of its input; neither waits for anything.
  for (let i = 0; i < 100 && ffmpegsWith(dir).length > 0; i++) await new Promise((tick) => setTimeout(tick, 100));
  assert.deepEqual(ffmpegsWith(dir), [], 'no ffmpeg left running 10 s after');
  const left = readdirSync(join(dir, 'kill'));
  assert.ok(left.length === 1 && left[0].endsWith('.tmp'), `only the killed run's temp file: ${left}`);
  const r = rtsr(['in.mp4', 'kill/out.mp4', '--model', modelPath]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'kill')), ['out.mp4']);
});

test('bench --video: times the model on the video’s frame size and says whether it is real-time at its rate', { skip }, () => {
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, [MAIN, 'bench', '--video', 'in.mp4', '--target', 'reference', '--warmup', '0', '--repeats', '1', ...args], { cwd: dir, env, encoding: 'utf8' });
  let r = bench('--model', 'm.rtsr');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^m\.rtsr ×2, 320x180 → 640x360, reference \(\d+ threads?\): [\d.]+ ms\/frame, [\d.]+ GFLOP\/s\nceiling \(\d+ threads?[^\n]*\nreal-time at 10 fps: (yes|no) \([\d.]+ ms\/frame of 100\.0\)\n$/);
  r = bench('--model', 'm.rtsr', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  // The fields of test/compiler-bench.test.ts, then the video's.
  assert.deepEqual(Object.keys(j).slice(-4), ['video', 'video_fps', 'frame_budget_ms', 'real_time']);
  assert.deepEqual([j.input, j.video, j.video_fps, j.frame_budget_ms, j.real_time], ['320x180', 'in.mp4', 10, 100, j.ms <= 100]);
  // Several models: the budget is one frame's time.
  r = bench('--model', 'm.rtsr', '--model', 'm.rtsr', '--json');
  assert.equal(r.status, 0, r.stderr);
  for (const row of JSON.parse(r.stdout) as { ms: number; meets_budget: boolean }[]) assert.equal(row.meets_budget, row.ms <= 100);
  r = bench('--model', 'm.rtsr', '--input', '8x8');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'rtsr: --input or --video, not both: a video sets the frame size\n');
});
