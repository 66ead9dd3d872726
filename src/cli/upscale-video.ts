// `rtsr upscale IN.mp4 OUT.mp4 --model …`: a video through the compiled model frame by frame (src/video), with
// the guarantees images have: the checks of outputs.ts before any work, the output written to a temp file
// beside OUT and renamed over it only once the encoder has finished, and on a failure or a stop signal (Ctrl-C,
// SIGTERM, SIGHUP) both ffmpeg children killed and the temp file removed.
import { existsSync, rmSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { checkImageSize } from '../image/io.js';
import type { Precision, Target } from '../targets/target.js';
import { commitTemp, tempPathFor } from '../util/atomic.js';
import { fsCause } from '../util/errors.js';
import { planEncode } from '../video/encode.js';
import { probeVideo } from '../video/probe.js';
import { transcode } from '../video/transcode.js';
import { CliError } from './args.js';
import { compileOption, modelOption } from './model-option.js';
import { checkDistinct, checkNotExisting, prepareFolders } from './outputs.js';
import { drawBar, endBar, say } from './status-line.js';

export interface VideoOptions {
  readonly model: string;
  readonly target: Target;
  readonly precision: Precision;
  readonly threads?: number;
  readonly overwrite: boolean;
  readonly codec?: string;
  readonly crf?: number;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof SIGNALS)[number];

export async function upscaleVideo(input: string, out: string, opts: VideoOptions): Promise<void> {
  if (!existsSync(input) || !statSync(input).isFile()) throw new CliError(`${input}: no such file`);
  checkDistinct([input], [out]);
  if (!opts.overwrite) checkNotExisting([out]);
  prepareFolders([out]);
  const info = await probeVideo(input);
  const { name, model } = modelOption(opts.model);
  const s = model.scale;
  const [width, height] = [info.width * s, info.height * s];
  checkImageSize(width, height, `${input}'s frames upscaled ×${s}`);
  const plan = await planEncode(input, info, out, width, height, { codec: opts.codec, crf: opts.crf });
  if (plan.note) say(plan.note);
  const compiled = await compileOption(model, opts.target, opts.threads, opts.precision);

  const tmp = tempPathFor(out);
  const abort = new AbortController();
  const stop: { by: StopSignal | null } = { by: null };
  const onSignal = (sig: StopSignal) => {
    stop.by = sig;
    abort.abort(new Error(`stopped by ${sig}`));
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);
  const t0 = performance.now();
  const rate = (done: number) => done / ((performance.now() - t0) / 1000);
  let drawn = -Infinity;
  const progress = (done: number, last = false) => {
    // A redraw per frame would cost more than a small frame's upscale.
    if (!last && performance.now() - drawn < 100) return;
    drawn = performance.now();
    const total = info.frames === null ? '' : `/${info.framesExact ? '' : '~'}${info.frames}`;
    const fps = rate(done);
    drawBar(info.frames === null ? null : done / info.frames, `${done}${total} frames, ${fps.toFixed(1)} fps, ${(fps / info.fps).toFixed(2)}× real time`);
  };
  try {
    const result = await transcode({ source: input, info, width, height, encodeArgs: plan.args(tmp), upscale: (f) => compiled.runImage(f), onFrame: progress, signal: abort.signal });
    // A signal that came as the encoder finished still means stop: nothing is put in place.
    abort.signal.throwIfAborted();
    try {
      commitTemp(tmp, out, { replace: opts.overwrite });
    } catch (err) {
      throw new Error(`cannot write ${out}: ${fsCause(err)}`);
    }
    progress(result.frames, true);
    endBar();
    if (result.decodeWarning) say(`note: ffmpeg decoded ${input} past damage: ${result.decodeWarning}`);
    const fps = rate(result.frames);
    const audio = plan.audio === 'none' ? '' : `, audio ${plan.audio}`;
    say(
      `${result.frames} frames upscaled ×${s} with ${name} (${opts.target.name}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
        `${fps.toFixed(1)} fps, ${(fps / info.fps).toFixed(2)}× real time at ${+info.fps.toFixed(2)} fps → ${out} (${width}x${height}, ${plan.codec}${audio})`,
    );
  } catch (err) {
    if (stop.by === null) throw err;
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    rmSync(tmp, { force: true });
    await compiled.dispose();
  }
  if (stop.by !== null) {
    say(`rtsr: stopped by ${stop.by}; ${out} was not written`);
    // The status a shell gives a command its signal ended (130 for Ctrl-C).
    process.exit(128 + constants.signals[stop.by]);
  }
}
