// Running ffmpeg and ffprobe (Debian's `ffmpeg` package brings both). They are spawned with argument arrays,
// never through a shell, and get files as fileArg()s, so any file name reaches them as it is; a missing one is
// an InputError that says how to install it.
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { InputError } from '../util/errors.js';

export type Tool = 'ffmpeg' | 'ffprobe';

function installHint(): string {
  if (process.platform === 'darwin') return '`brew install ffmpeg`';
  if (process.platform === 'win32') return '`winget install ffmpeg`';
  return '`sudo apt-get install ffmpeg` (Debian, Ubuntu), `sudo dnf install ffmpeg` (Fedora) or `brew install ffmpeg`';
}

/** A path as ffmpeg's file protocol, so that no name is taken for another protocol ('concat:a.mp4', 'pipe:1')
 *  or, starting with '-', for an option. */
export const fileArg = (path: string) => `file:${path}`;

/** A spawned tool and its end: the exit code (null when killed by a signal) once its pipes are closed too. */
export interface Running {
  readonly child: ChildProcess;
  readonly closed: Promise<number | null>;
}

/** Spawns `tool`, resolving once it runs; rejects with the install hint when it is not on PATH. */
export async function spawnTool(tool: Tool, args: readonly string[], stdio: StdioOptions): Promise<Running> {
  const child = spawn(tool, args, { stdio });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code: number | null) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    // Also the handler of any later 'error' (a failed kill), which would otherwise crash the process.
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new InputError(`video needs ${tool}, which is not on PATH: install ffmpeg (it brings ffprobe) with ${installHint()}`) : err),
    );
  });
  return { child, closed };
}

/** The last `max` characters a stream gave: enough for ffmpeg's final error lines, bounded for a long run
 *  that warns on every frame. */
export function collectTail(stream: NodeJS.ReadableStream | null, max = 16_384): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (s: string) => {
    text = (text + s).slice(-max);
  });
  return () => text;
}

/** Runs `tool` to its end: its exit code, stdout and stderr. */
export async function runTool(tool: Tool, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, closed } = await spawnTool(tool, args, ['ignore', 'pipe', 'pipe']);
  const stdout = collectTail(child.stdout, Infinity);
  const stderr = collectTail(child.stderr);
  const code = await closed;
  return { code, stdout: stdout(), stderr: stderr() };
}

/** ffmpeg's reason for a failure: its first message from a component ("[webm @ 0x…] Only VP8 or VP9 …"),
 *  which says what is wrong where the last line is generic ("Error initializing output stream 0:0 --");
 *  else its last line, without the file name it starts with (the caller's message names the file). */
export function reason(stderr: string, path?: string): string {
  const lines = stderr.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const specific = lines.map((l) => /^\[[^\]]+ @ 0x[0-9a-f]+\] (.+)$/.exec(l)?.[1]).find((m) => m !== undefined);
  const last = lines.pop() ?? 'no message';
  return specific ?? (path !== undefined && last.startsWith(`${path}: `) ? last.slice(path.length + 2) : last);
}
