// A one-line progress bar on stderr (loss, lr, it/s, ETA). On a terminal it redraws in place; otherwise
// (CI, logs) it prints a line at every 5 % so logs stay short, and at least once a minute, so a slow stage's log
// (5 % of a 3-hour search can be 10 minutes) still shows it is alive.
export const SILENT_SECONDS = 60;
/** it/s and ETA are measured over the last one to two windows, so a run paused (Ctrl-Z, SIGSTOP) or slowed by
 *  another job reads its present speed again within two minutes, not an average since it began. */
export const RATE_WINDOW_SECONDS = 60;

export interface ProgressSink {
  tty: boolean;
  write(s: string): void;
  now(): number; // ms
}

const stderrSink: ProgressSink = { tty: !!process.stderr.isTTY, write: (s) => process.stderr.write(s), now: () => performance.now() };

export class Progress {
  private readonly t0: number;
  private prev: { at: number; step: number } | null = null;
  private mark: { at: number; step: number } | null = null;
  private lastPct = -1;
  private lastAt = -Infinity;

  constructor(
    private readonly total: number,
    private readonly quiet: boolean,
    private readonly sink: ProgressSink = stderrSink,
  ) {
    this.t0 = sink.now();
  }

  update(step: number, loss: number, lr: number, valPsnr: number | null): void {
    if (this.quiet) return;
    const now = this.sink.now();
    this.mark ??= { at: this.t0, step: step - 1 }; // the first step's time counts from construction
    this.prev ??= this.mark;
    if (now - this.mark.at >= RATE_WINDOW_SECONDS * 1000) [this.prev, this.mark] = [this.mark, { at: now, step }];
    const rate = (step - this.prev.step) / Math.max((now - this.prev.at) / 1000, 1e-9);
    const eta = (this.total - step) / Math.max(rate, 1e-9);
    const frac = step / this.total;
    const bar = '#'.repeat(Math.round(frac * 24)).padEnd(24, '.');
    const val = valPsnr === null ? '' : ` val ${valPsnr.toFixed(2)} dB`;
    const line = `[${bar}] ${step}/${this.total} loss ${loss.toFixed(4)} lr ${lr.toExponential(1)} ${rate.toFixed(1)} it/s ETA ${fmtTime(eta)}${val}`;
    if (this.sink.tty) this.sink.write(`\r${line}\x1b[K`);
    else {
      const pct = Math.floor(frac * 20);
      if (pct !== this.lastPct || now - this.lastAt >= SILENT_SECONDS * 1000) {
        this.lastPct = pct;
        this.lastAt = now;
        this.sink.write(line + '\n');
      }
    }
  }

  done(): void {
    if (!this.quiet && this.sink.tty) this.sink.write('\n');
  }
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}
