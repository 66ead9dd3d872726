// How an upscaled video is written: the container from the output's extension, a video codec (the container's
// default or --codec) and its quality, and what happens to the audio. A two-frame trial encode settles all of
// it before the model is compiled, so a codec the container refuses fails at once, and audio the container
// cannot hold is re-encoded or dropped with a note instead of failing after the whole video was upscaled.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { InputError } from '../util/errors.js';
import { fileArg, reason, runTool } from './ffmpeg.js';
import type { VideoInfo } from './probe.js';

/** Output extensions: ffmpeg's muxer for each and the video codec used unless --codec says otherwise. */
const CONTAINERS: Record<string, { muxer: string; codec: string }> = {
  '.mp4': { muxer: 'mp4', codec: 'libx264' },
  '.m4v': { muxer: 'mp4', codec: 'libx264' },
  '.mov': { muxer: 'mov', codec: 'libx264' },
  '.mkv': { muxer: 'matroska', codec: 'libx264' },
  '.avi': { muxer: 'avi', codec: 'libx264' },
  '.webm': { muxer: 'webm', codec: 'libvpx-vp9' },
};
export const VIDEO_OUTPUT_EXTS = Object.keys(CONTAINERS);

/** Inputs: whatever ffmpeg reads; these extensions route `rtsr upscale` to the video path. */
const VIDEO_INPUT_EXTS = new Set([...VIDEO_OUTPUT_EXTS, '.mpg', '.mpeg', '.ts', '.m2ts', '.mts', '.flv', '.wmv', '.ogv', '.3gp', '.y4m']);
export const isVideoPath = (path: string) => VIDEO_INPUT_EXTS.has(extname(path).toLowerCase());

/** Encoders with a constant-quality mode: its default here (x264's 18 looks lossless to most eyes) and the
 *  flags it needs. They get 4:2:0 chroma, which every player decodes (TO_YUV); other encoders keep ffmpeg's
 *  choice, so a lossless one (ffv1, png, libx264rgb -qp 0) stays RGB. */
const CRF: Record<string, { crf: number; extra: string[] }> = {
  libx264: { crf: 18, extra: [] },
  libx265: { crf: 22, extra: [] },
  // -b:v 0 makes -crf constant quality; libvpx's default speed (cpu-used 0) encoded 2.7× slower than this,
  // at 7 % smaller files, and would make the encoder the slowest step.
  'libvpx-vp9': { crf: 31, extra: ['-b:v', '0', '-row-mt', '1', '-cpu-used', '4'] },
};

/** RGB → 4:2:0 with the BT.709 matrix, tagged so: players take an untagged HD video for BT.709, and read that
 *  way, ffmpeg's default conversion (BT.601) turns (192, 48, 96) into (203, 64, 96). */
const TO_YUV = ['-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'];

export interface EncodeChoice {
  /** --codec, else the container's. */
  readonly codec?: string;
  readonly crf?: number;
}

export interface EncodePlan {
  readonly codec: string;
  /** What becomes of the source's audio: 'none' (it has none), 'copied', 're-encoded' or 'dropped'. */
  readonly audio: 'none' | 'copied' | 're-encoded' | 'dropped';
  /** A line for the user when the audio could not be copied. */
  readonly note: string | null;
  /** ffmpeg's arguments after the frames' input: the source as second input for its audio, maps, codecs, the
   *  muxer and `path`. */
  args(path: string): string[];
}

/** Decides how `out` is encoded from `source` (its audio) at `width`×`height`, trying it on two frames. */
export async function planEncode(source: string, info: VideoInfo, out: string, width: number, height: number, choice: EncodeChoice): Promise<EncodePlan> {
  const ext = extname(out).toLowerCase();
  const container = CONTAINERS[ext];
  if (!container) throw new InputError(`${out}: a video is written as ${VIDEO_OUTPUT_EXTS.join(', ')}`);
  const codec = choice.codec ?? container.codec;
  const quality = CRF[codec];
  if (choice.crf !== undefined && !quality) throw new InputError(`--crf applies to ${Object.keys(CRF).join(', ')}, not ${codec}`);
  const videoArgs = ['-c:v', codec, ...(quality ? ['-crf', String(choice.crf ?? quality.crf), ...quality.extra, ...TO_YUV] : [])];
  const withAudio = ['-i', fileArg(source), '-map', '0:v', '-map', '1:a'];
  const audioWays: { audio: EncodePlan['audio']; input: string[]; codec: string[] }[] =
    info.audio.length === 0
      ? [{ audio: 'none', input: [], codec: [] }]
      : [
          { audio: 'copied', input: withAudio, codec: ['-c:a', 'copy'] },
          // The container's default audio encoder.
          { audio: 're-encoded', input: withAudio, codec: [] },
          { audio: 'dropped', input: [], codec: [] },
        ];
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-encode-trial-'));
  try {
    let failure = '';
    for (const way of audioWays) {
      const output = (extra: string[], path: string) => [...way.input, ...videoArgs, ...way.codec, ...extra, '-f', container.muxer, fileArg(path)];
      // Two frames of black at the real size and rate, and the real audio cut to the same length.
      const frames = ['-f', 'lavfi', '-i', `color=c=black:s=${width}x${height}:r=${info.rate}`];
      const { code, stderr } = await runTool('ffmpeg', ['-v', 'error', '-y', ...frames, ...output(['-t', String(2 / info.fps)], join(dir, `trial${ext}`))]);
      rmSync(join(dir, `trial${ext}`), { force: true });
      if (code === 0) return { codec, audio: way.audio, note: audioNote(way.audio, info, ext, failure), args: (path) => output([], path) };
      failure = reason(stderr);
    }
    throw new InputError(`cannot encode ${out} with ${codec}: ${failure}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function audioNote(audio: EncodePlan['audio'], info: VideoInfo, ext: string, failure: string): string | null {
  const what = `${info.audio.join(', ')} audio`;
  if (audio === 're-encoded') return `note: ${ext} does not take the source's ${what} as it is (${failure}); it is re-encoded`;
  if (audio === 'dropped') return `note: the source's ${what} is dropped: ${ext} takes neither it nor a re-encode of it (${failure})`;
  return null;
}
