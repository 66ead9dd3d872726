// `rtsr upscale IN OUT --model NAME|FILE`: super-resolves an image, a folder of images or a glob of them with a
// compiled model and writes PNGs. Globs are expanded here (`*`, `?`, `[…]` within a name, `**` across
// folders), so they work quoted and on shells that do not expand them. A video input goes to upscale-video.ts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import type { CompiledModel } from '../compiler/compile.js';
import { checkImageSize, readImageFile, writePng } from '../image/io.js';
import { InputError } from '../util/errors.js';
import { isVideoPath, VIDEO_OUTPUT_EXTS } from '../video/encode.js';
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { compileOption, modelOption } from './model-option.js';
import { OPTIONS, type Options } from './options.js';
import { checkDistinct, checkNotExisting, listFew, prepareFolders } from './outputs.js';
import { drawBar, endBar, say } from './status-line.js';
import { resolveTarget } from './target-option.js';
import { upscaleVideo } from './upscale-video.js';

const options = {
  model: OPTIONS.model,
  target: OPTIONS.target,
  precision: OPTIONS.precision,
  threads: OPTIONS.threads,
  overwrite: OPTIONS.overwrite,
  codec: { kind: 'text', value: 'NAME', help: "a video's encoder (ffmpeg's name); default libx264 (libvpx-vp9 for .webm); ffv1 is lossless" },
  crf: { kind: 'int', value: 'N', min: 0, max: 63, help: "a video's quality for libx264, libx265, libvpx-vp9 (lower is better); default 18, 22, 31" },
} as const satisfies Options;

export const command = defineCommand({
  summary: 'super-resolve an image, a folder or a glob of images, or a video',
  usage: ['IN OUT --model NAME|FILE [options]', 'IN.mp4 OUT.mp4 --model NAME|FILE [--codec NAME] [--crf N] [options]'],
  args: [
    ['IN', "an image file, a folder (its .png, .jpg, .jpeg and .bmp files) or a glob ('frames/*.png', 'a/**/*.jpg'); or a video (.mp4, .mkv, .webm, .mov, .avi and what else ffmpeg reads: needs ffmpeg and ffprobe)"],
    ['OUT', `a .png file for a single image, else a folder (created; one <name>.png per input); for a video, a ${VIDEO_OUTPUT_EXTS.join(', ')} file at the source's frame rate, its audio copied`],
  ],
  options,
  notes: 'Outputs are RGB: an alpha channel is dropped, which the run says. An image that fails is reported and the others are\nstill written; the run then exits non-zero.',
  examples: ['rtsr upscale photo.png photo-x2.png --model wdsr-b-x2', "rtsr upscale 'frames/*.png' frames-x2 --model wdsr-b-x2 --overwrite", 'rtsr upscale clip.mp4 clip-x2.mkv --model wdsr-b-x2 --codec ffv1'],
  run,
});

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.bmp']);
const isImage = (f: string) => IMAGE_EXTS.has(extname(f).toLowerCase());
const hasMagic = (s: string) => /[*?[]/.test(s);

/** A glob segment as a regex: * and ? never match '/', [..] is a character class ([!..] negated). */
function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[' && seg.indexOf(']', i + 2) > 0) {
      const end = seg.indexOf(']', i + 2);
      const body = seg.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      re += `[${body}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files matching a glob, sorted. Hidden entries match only a segment that starts with '.'. */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split(/[\\/]+/);
  const fixed: string[] = [];
  while (parts.length > 1 && !hasMagic(parts[0])) fixed.push(parts.shift()!);
  const root = fixed.length ? fixed.join(sep) || sep : '.';
  const out: string[] = [];
  const walk = (dir: string, segs: string[]) => {
    if (segs.length === 0) {
      if (existsSync(dir) && statSync(dir).isFile()) out.push(dir);
      return;
    }
    const [seg, ...rest] = segs;
    if (!hasMagic(seg)) return walk(join(dir, seg), rest);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
    const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => seg.startsWith('.') || !e.name.startsWith('.'));
    if (seg === '**') {
      walk(dir, rest);
      for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), segs);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of entries) if (re.test(e.name)) walk(join(dir, e.name), rest);
  };
  walk(root, parts);
  return [...new Set(out)].sort();
}

/** The input files of IN, and whether IN named exactly one file. */
function inputsOf(input: string): { files: string[]; single: boolean } {
  if (existsSync(input) && statSync(input).isFile()) return { files: [input], single: true };
  if (existsSync(input) && statSync(input).isDirectory()) {
    const files = readdirSync(input).filter((f) => !f.startsWith('.') && isImage(f)).sort().map((f) => join(input, f));
    if (files.length === 0) throw new CliError(`${input}: no .png, .jpg, .jpeg or .bmp files in this folder`);
    return { files, single: false };
  }
  if (!hasMagic(input)) throw new CliError(`${input}: no such file or folder`);
  const files = expandGlob(input).filter(isImage);
  if (files.length === 0) throw new CliError(`${input}: the pattern matches no image files`);
  return { files, single: false };
}

/** Output path per input: OUT itself for a single image going to a .png path, else OUT/<name>.png. */
function outputsFor(files: string[], single: boolean, out: string): string[] {
  const toFile = single && extname(out).toLowerCase() === '.png' && !(existsSync(out) && statSync(out).isDirectory());
  if (single && !toFile && extname(out) !== '' && !existsSync(out)) throw new CliError(`${out}: the output must be a .png file or a folder`);
  return toFile ? [out] : files.map((f) => join(out, `${basename(f, extname(f))}.png`));
}

/** Upscales one file; true when its alpha channel was dropped. */
async function upscaleFile(compiled: CompiledModel, file: string, out: string, replace: boolean): Promise<boolean> {
  const { image, alpha } = await readImageFile(file);
  checkImageSize(image.width * compiled.scale, image.height * compiled.scale, `${file} upscaled ×${compiled.scale}`);
  // Without --overwrite, a file that appeared since the check at the start is not replaced either.
  await writePng(out, await compiled.runImage(image), { replace });
  return alpha;
}

function progress(done: number, total: number, name: string): void {
  if (total >= 2) drawBar(done / total, `${done}/${total} ${name}`);
}

async function run({ values, positionals, usage }: Args<typeof options>): Promise<void> {
  if (positionals.length !== 2 || values.model === undefined) throw new CliError(usage);
  const precision = values.precision;
  const target = await resolveTarget(values.target, precision);
  const [input, out] = positionals;
  if (isVideoPath(input) && !hasMagic(input)) return upscaleVideo(input, out, { ...values, model: values.model, target, precision });
  if (values.codec !== undefined || values.crf !== undefined) throw new CliError(`--codec and --crf are for a video input (${VIDEO_OUTPUT_EXTS.join(', ')}, …)`);
  const { files, single } = inputsOf(input);
  const outs = outputsFor(files, single, out);
  checkDistinct(files, outs);
  if (!values.overwrite) checkNotExisting(outs);
  prepareFolders(outs);
  const { name, model } = modelOption(values.model);
  const compiled = await compileOption(model, target, values.threads, precision);
  const t0 = performance.now();
  const failed: { file: string; err: Error }[] = [];
  const withAlpha: string[] = [];
  try {
    for (const [i, f] of files.entries()) {
      progress(i, files.length, basename(f));
      try {
        if (await upscaleFile(compiled, f, outs[i], values.overwrite)) withAlpha.push(f);
      } catch (err) {
        if (single) throw err;
        failed.push({ file: f, err: err as Error });
        say(`rtsr: ${(err as Error).message}`);
      }
    }
  } finally {
    await compiled.dispose();
  }
  progress(files.length, files.length, '');
  if (files.length > 1) endBar();
  if (withAlpha.length > 0) say(`note: alpha channel dropped (outputs are RGB) from ${withAlpha.length === 1 ? withAlpha[0] : `${withAlpha.length} images: ${listFew(withAlpha)}`}`);
  const done = files.length - failed.length;
  const where = single ? outs[0] : relative('.', out) || '.';
  say(`${done} image${done === 1 ? '' : 's'} upscaled ×${compiled.scale} with ${name} (${target.name}) in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${where}`);
  if (failed.length === 0) return;
  // Exit 2 when only the inputs were at fault, 1 when something else failed too.
  const Err = failed.every((f) => f.err instanceof InputError) ? InputError : Error;
  throw new Err(`${failed.length} of ${files.length} images failed: ${listFew(failed.map((f) => f.file))}`);
}
