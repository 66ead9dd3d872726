// The demo page (web/index.html): pick a zoo model or drop a .rtsr file, drop a picture or a video, and compare
// the model's output with the browser's own scaling. Every failure ends as a message on the page.
import { loadModel, type Upscaler, webTargets } from 'rtsr/web';
import { probeGpu } from './gpu.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const errorBox = $('error');
const targetLine = $('target');
const result = $('result');
const bicubic = $<HTMLCanvasElement>('bicubic');
const sr = $<HTMLCanvasElement>('sr');
const select = $<HTMLSelectElement>('model');
const download = $<HTMLAnchorElement>('download');
const stopButton = $<HTMLButtonElement>('stop');

interface ListedModel {
  name: string;
  scale: number;
  metrics?: Record<string, { psnr: number }>;
  error?: string;
}

let upscaler: Upscaler | null = null;
let modelName = '';
let picture: ImageBitmap | null = null;
let stopVideo: (() => void) | null = null;
let gpuLine = '';

function fail(message: string): void {
  errorBox.textContent = message;
  errorBox.classList.add('shown');
  document.body.dataset.error = message;
}

function clearError(): void {
  errorBox.classList.remove('shown');
  delete document.body.dataset.error;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
addEventListener('error', (e) => fail(`Something went wrong: ${e.message}`));
addEventListener('unhandledrejection', (e) => fail(`Something went wrong: ${messageOf(e.reason)}`));

function showStats(ms: number, fps: number | null): void {
  $('ms').textContent = `${ms.toFixed(1)} ms`;
  $('fps').textContent = fps === null ? '–' : fps.toFixed(1);
  $('size').textContent = `${sr.width}×${sr.height}`;
}

/** Sizes both canvases for a frame and draws the browser's scaling of it on the left one. */
function drawBicubic(src: CanvasImageSource, w: number, h: number, s: number): void {
  // Resizing clears a canvas: only when the size changes (a video keeps its size).
  for (const c of [bicubic, sr]) if (c.width !== w * s || c.height !== h * s) [c.width, c.height] = [w * s, h * s];
  const ctx = bicubic.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, 0, 0, w * s, h * s);
}

/** `?target=wasm|webgpu` keeps the page on one target (otherwise the best this device runs). */
const onlyTarget = new URLSearchParams(location.search).get('target');

/** Loads a model; the one in use stays until the new one has loaded (a bad file changes nothing). */
async function useModel(source: string | File, name: string): Promise<void> {
  stopVideo?.();
  const before = [...targetLine.childNodes];
  targetLine.dataset.state = 'loading';
  targetLine.textContent = `Loading ${name}…`;
  let loaded: Upscaler;
  try {
    loaded = await loadModel(source, onlyTarget ? { targets: webTargets().filter((t) => t.name === onlyTarget) } : {});
  } catch (err) {
    targetLine.dataset.state = upscaler ? 'ready' : 'failed';
    if (upscaler) targetLine.replaceChildren(...before);
    else targetLine.textContent = 'No model loaded.';
    return fail(messageOf(err));
  }
  await upscaler?.dispose();
  upscaler = loaded;
  modelName = name;
  targetLine.dataset.state = 'ready';
  const b = (text: string) => Object.assign(document.createElement('b'), { textContent: text });
  targetLine.replaceChildren(b(name), ` ×${loaded.scale} runs on `, b(loaded.target), `: ${loaded.reason}. ${gpuLine}`);
  $('sr-tag').textContent = `rtsr ${name}`;
  if (picture) await upscalePicture(picture);
}

async function upscalePicture(bitmap: ImageBitmap): Promise<void> {
  if (!upscaler) return fail('Choose a model first.');
  result.hidden = false;
  result.dataset.state = 'running';
  drawBicubic(bitmap, bitmap.width, bitmap.height, upscaler.scale);
  const t0 = performance.now();
  const out = await upscaler.upscale(bitmap);
  const ms = performance.now() - t0;
  sr.getContext('2d')!.putImageData(out, 0, 0);
  showStats(ms, null);
  const blob = await new Promise<Blob | null>((done) => sr.toBlob(done, 'image/png'));
  if (blob) {
    if (download.href) URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(blob);
    download.download = `${modelName}-x${upscaler.scale}.png`;
    download.hidden = false;
  }
  result.dataset.state = 'done';
}

async function openPicture(file: File): Promise<void> {
  let bitmap: ImageBitmap;
  try {
    // No colour conversion: the model sees the file's pixel values, as `rtsr upscale` does.
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    return fail(`${file.name} could not be decoded as an image (a corrupt or unsupported file?).`);
  }
  stopVideo?.();
  picture?.close();
  picture = bitmap;
  await upscalePicture(bitmap);
}

/** Plays a video file upscaled. */
function playVideo(file: File): Promise<void> {
  const video = document.createElement('video');
  video.src = URL.createObjectURL(file);
  return play(video, file.name, () => URL.revokeObjectURL(video.src));
}

/** Upscales the camera live, where the page may have one (a secure context and the user's permission). */
async function playCamera(): Promise<void> {
  clearError();
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (err) {
    return fail(`No camera for this page: ${messageOf(err)} (a camera needs https or localhost, and permission).`);
  }
  const video = document.createElement('video');
  video.srcObject = stream;
  return play(video, 'the camera', () => stream.getTracks().forEach((t) => t.stop()));
}

/** Plays `video`, upscaling each frame the browser presents; frames that arrive while one runs are skipped.
 *  `release` frees its source when it stops. */
async function play(video: HTMLVideoElement, name: string, release: () => void): Promise<void> {
  if (!upscaler) {
    release();
    return fail('Choose a model first.');
  }
  stopVideo?.();
  picture = null;
  Object.assign(video, { muted: true, playsInline: true });
  const ended = () => {
    video.pause();
    release();
    stopButton.hidden = true;
    stopVideo = null;
    result.dataset.state = 'done';
  };
  stopVideo = ended;
  const started = new Promise<void>((done, reject) => {
    video.addEventListener('loadeddata', () => done(), { once: true });
    video.addEventListener('error', () => reject(new Error(`${name} cannot be played by this browser (${video.error?.message || 'unsupported or corrupt video'}).`)), { once: true });
    setTimeout(() => reject(new Error(`${name} did not start within 10 s; is it a video this browser plays?`)), 10_000);
  });
  try {
    await started;
    await video.play();
  } catch (err) {
    ended();
    return fail(messageOf(err));
  }
  const up = upscaler;
  result.hidden = false;
  result.dataset.state = 'playing';
  result.dataset.frames = '0';
  download.hidden = true;
  stopButton.hidden = false;
  let frames = 0;
  let busyMs = 0;
  const t0 = performance.now();
  const onFrame = async () => {
    if (stopVideo !== ended) return;
    const w = video.videoWidth;
    const h = video.videoHeight;
    drawBicubic(video, w, h, up.scale);
    const t = performance.now();
    try {
      sr.getContext('2d')!.putImageData(await up.upscale(video), 0, 0);
    } catch (err) {
      ended();
      return fail(messageOf(err));
    }
    busyMs += performance.now() - t;
    frames++;
    result.dataset.frames = String(frames);
    showStats(busyMs / frames, (frames * 1000) / (performance.now() - t0));
    if (!video.ended) video.requestVideoFrameCallback(onFrame);
  };
  video.addEventListener('ended', ended, { once: true });
  video.requestVideoFrameCallback(onFrame);
}

async function openFile(file: File): Promise<void> {
  clearError();
  if (/\.rtsr$/i.test(file.name)) return useModel(file, file.name.replace(/\.rtsr$/i, ''));
  if (!upscaler) return fail('No model is loaded yet: choose one above or drop a .rtsr file.');
  if (file.type.startsWith('video/')) return playVideo(file);
  if (file.type.startsWith('image/') || file.type === '') return openPicture(file);
  fail(`${file.name} (${file.type}) is not an image, a video or an .rtsr model.`);
}

async function listModels(): Promise<void> {
  const lists = await Promise.all(['zoo', 'models'].map(async (where) => {
    const res = await fetch(`/${where}/index.json`);
    return res.ok ? ((await res.json()) as ListedModel[]).filter((m) => !m.error).map((m) => ({ ...m, url: `/${where}/${encodeURIComponent(m.name)}.rtsr` })) : [];
  }));
  const models = lists.flat();
  select.innerHTML = '';
  for (const m of models) {
    const psnr = m.metrics?.Set5 ? `, Set5 ${m.metrics.Set5.psnr.toFixed(2)} dB` : '';
    select.append(new Option(`${m.name} (×${m.scale}${psnr})`, m.url));
  }
  if (models.length === 0) throw new Error('The server lists no models: drop a .rtsr file.');
  // The zoo's best ×2 within 33 ms (docs/zoo.md); any other listed model where it is not served.
  const wanted = new URLSearchParams(location.search).get('model') ?? 'wdsr-b-5x8-luma-x2';
  select.value = models.find((m) => m.name === wanted)?.url ?? models[0].url;
}

function wire(): void {
  select.addEventListener('change', () => void useModel(select.value, select.selectedOptions[0].text.split(' ')[0]));
  $<HTMLInputElement>('file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void openFile(f);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void openFile(f);
  });
  $<HTMLInputElement>('slider').addEventListener('input', (e) => $('compare').style.setProperty('--cut', `${(e.target as HTMLInputElement).value}%`));
  stopButton.addEventListener('click', () => stopVideo?.());
  $('camera').addEventListener('click', () => void playCamera());
}

wire();
gpuLine = (await probeGpu()).text;
try {
  await listModels();
  await useModel(select.value, select.selectedOptions[0].text.split(' ')[0]);
} catch (err) {
  targetLine.dataset.state = 'failed';
  targetLine.textContent = 'No model loaded.';
  fail(messageOf(err));
}
