// stderr as a status line: on a terminal a progress bar is redrawn in place, and every message clears it first.

/** A line on stderr, first clearing a progress bar. */
export function say(line: string): void {
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`);
}

/** Redraws `[=====     ] text` (no bar when `fraction` is null) on a terminal; nothing in a log. */
export function drawBar(fraction: number | null, text: string): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round(Math.min(1, fraction ?? 0) * width);
  process.stderr.write(`\r${fraction === null ? '' : `[${'='.repeat(filled)}${' '.repeat(width - filled)}] `}${text}\x1b[K`);
}

/** Leaves a finished bar on its line. */
export function endBar(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
