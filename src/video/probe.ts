// What a video holds, from ffprobe: the frame size as decoded, the frame rate its frames are decoded at, how
// many frames that makes, and its audio streams.
import { InputError } from '../util/errors.js';
import { fileArg, reason, runTool } from './ffmpeg.js';

export interface VideoInfo {
  /** The frame size as ffmpeg decodes it: a 90°-rotated phone video's width and height are swapped. */
  readonly width: number;
  readonly height: number;
  /** The frame rate as ffmpeg takes it ('30000/1001'), passed on as it is so that no rounding creeps in. */
  readonly rate: string;
  readonly fps: number;
  /** The stream's frame count, else duration × fps (then `framesExact` is false); null when neither is known. */
  readonly frames: number | null;
  readonly framesExact: boolean;
  /** Codec names of the audio streams, in order. */
  readonly audio: string[];
}

interface Stream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  side_data_list?: { rotation?: number }[];
  tags?: { rotate?: string };
}

/** 'num/den' as a number; NaN when either is not positive ('0/0' is ffprobe's "unknown"). */
function ratio(r: string | undefined): number {
  const [num, den] = (r ?? '').split('/').map(Number);
  return num > 0 && den > 0 ? num / den : NaN;
}

/** The rate ffmpeg itself guesses (av_guess_frame_rate): r_frame_rate, unless it is a timebase-like value
 *  (> 210) while the average is plausible (< 70), as in variable-rate phone videos. */
function frameRate(s: Stream): string | null {
  const r = ratio(s.r_frame_rate);
  const avg = ratio(s.avg_frame_rate);
  if (r > 0 && !(r > 210 && avg < 70)) return s.r_frame_rate!;
  return avg > 0 ? s.avg_frame_rate! : null;
}

export async function probeVideo(path: string): Promise<VideoInfo> {
  const { code, stdout, stderr } = await runTool('ffprobe', [
    '-v', 'error',
    '-show_entries', 'stream=codec_type,codec_name,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:stream_side_data=rotation:stream_tags=rotate:format=duration',
    '-of', 'json',
    '-i', fileArg(path),
  ]);
  if (code !== 0) throw new InputError(`cannot read video ${path}: ${reason(stderr, fileArg(path))}`);
  const { streams = [], format = {} } = JSON.parse(stdout) as { streams?: Stream[]; format?: { duration?: string } };
  const video = streams.find((s) => s.codec_type === 'video' && s.width && s.height);
  if (!video) throw new InputError(`${path}: no video stream`);
  const rate = frameRate(video);
  if (rate === null) throw new InputError(`${path}: the video stream has no frame rate`);
  const fps = ratio(rate);
  const rotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(video.tags?.rotate ?? 0);
  const turned = Math.abs(rotation) % 180 === 90;
  const counted = Number(video.nb_frames);
  const duration = Number(video.duration ?? format.duration);
  return {
    width: turned ? video.height! : video.width!,
    height: turned ? video.width! : video.height!,
    rate,
    fps,
    frames: counted > 0 ? counted : duration > 0 ? Math.round(duration * fps) : null,
    framesExact: counted > 0,
    audio: streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name ?? 'unknown'),
  };
}
