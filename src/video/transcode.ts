// Decode → upscale → encode, streaming: one ffmpeg decodes the source to raw RGB frames on a pipe, each frame
// is upscaled in this process, and a second ffmpeg encodes the results from a pipe. The decoder's pipe is read
// only as frames are consumed and writes to the encoder's wait for 'drain', so a few frames are in memory at a
// time, whatever the video's length. Whatever happens, both children have exited when this returns.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { rgbImage, type RgbImage } from '../image/image.js';
import { InputError } from '../util/errors.js';
import { collectTail, fileArg, reason, type Running, spawnTool } from './ffmpeg.js';
import type { VideoInfo } from './probe.js';

export interface TranscodeOptions {
  readonly source: string;
  readonly info: VideoInfo;
  /** The output frames' size (each upscaled frame must have it). */
  readonly width: number;
  readonly height: number;
  /** The encoder's arguments after its frames' input, ending with the file it writes (EncodePlan.args). */
  readonly encodeArgs: string[];
  readonly upscale: (frame: RgbImage) => Promise<RgbImage>;
  /** Called after each frame is handed to the encoder. */
  readonly onFrame?: (done: number) => void;
  /** Aborting kills both children; transcode then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface TranscodeResult {
  readonly frames: number;
  /** What the decoder said about a damaged stream it read past (it exits 0 then), or null. */
  readonly decodeWarning: string | null;
}

export async function transcode(o: TranscodeOptions): Promise<TranscodeResult> {
  const { info } = o;
  // -r: frames at exactly the rate the encoder is told (duplicated or dropped where a variable-rate source
  // strays from it), so the audio stays in sync.
  const decoder = await spawnTool('ffmpeg', ['-v', 'error', '-nostdin', '-i', fileArg(o.source), '-map', '0:v:0', '-r', info.rate, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], ['ignore', 'pipe', 'pipe']);
  const decodeErrors = collectTail(decoder.child.stderr);
  let encoder: Running | null = null;
  const killAll = () => {
    for (const r of [decoder, encoder]) if (r && r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  };
  o.signal?.addEventListener('abort', killAll);
  try {
    o.signal?.throwIfAborted();
    // -n: never replace a file (ffmpeg would otherwise ask, on the stdin that carries the frames).
    encoder = await spawnTool('ffmpeg', ['-v', 'error', '-n', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-framerate', info.rate, '-i', 'pipe:0', ...o.encodeArgs], ['pipe', 'ignore', 'pipe']);
    const encodeErrors = collectTail(encoder.child.stderr);
    const encodeFailure = () => new Error(`cannot encode the upscaled video: ${reason(encodeErrors())}`);
    const input = encoder.child.stdin!;
    // Writing to an encoder that died fails with EPIPE; its exit status and stderr say why, below.
    input.on('error', () => {});
    let frames: number;
    try {
      frames = await pump(decoder, input, encoder.closed, o);
    } catch (err) {
      o.signal?.throwIfAborted();
      // The encoder quit (EPIPE, or closed while we waited for 'drain'): its own message is the one to give.
      if (encoder.child.exitCode !== null || (err as NodeJS.ErrnoException).code === 'EPIPE') {
        await encoder.closed;
        throw encodeFailure();
      }
      throw err;
    }
    input.end();
    const [decoded, encoded] = await Promise.all([decoder.closed, encoder.closed]);
    o.signal?.throwIfAborted();
    if (decoded !== 0) throw new InputError(`cannot decode video ${o.source}: ${reason(decodeErrors(), fileArg(o.source))}`);
    if (encoded !== 0) throw encodeFailure();
    if (frames === 0) throw new InputError(`${o.source}: no frame could be decoded`);
    return { frames, decodeWarning: decodeErrors().trim() ? reason(decodeErrors(), fileArg(o.source)) : null };
  } finally {
    o.signal?.removeEventListener('abort', killAll);
    killAll();
    await Promise.all([decoder.closed, encoder?.closed]);
  }
}

/** Reads the decoder's frames, upscales each and writes it to the encoder; returns how many. */
async function pump(decoder: Running, input: Writable, encoderClosed: Promise<unknown>, o: TranscodeOptions): Promise<number> {
  const { width, height } = o.info;
  const frame = new Uint8Array(width * height * 3);
  let filled = 0;
  let done = 0;
  const encoderGone = encoderClosed.then(() => Promise.reject(new Error('the encoder exited')));
  encoderGone.catch(() => {});
  for await (const chunk of decoder.child.stdout! as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(frame.length - filled, chunk.length - at);
      frame.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled < frame.length) break;
      filled = 0;
      // runImage is done with `frame` once it resolves, so the buffer is reused; its output is a new array.
      const out = await o.upscale(rgbImage(width, height, frame));
      if (out.width !== o.width || out.height !== o.height) throw new Error(`an upscaled frame is ${out.width}x${out.height}, expected ${o.width}x${o.height}`);
      if (!input.write(out.data)) await Promise.race([once(input, 'drain'), encoderGone]);
      o.onFrame?.(++done);
    }
  }
  // The decoder stopped mid-frame: only when it failed, which its exit status reports.
  return done;
}
