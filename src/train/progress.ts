// A one-line progress bar on stderr (loss, lr, it/s, ETA). On a terminal it redraws in place; otherwise
// (CI, logs) it prints a line at every 5 % so logs stay short.
export class Progress {
  private readonly t0 = performance.now();
  private startStep: number | null = null;
  private lastPrinted = -1;

  constructor(
    private readonly total: number,
    private readonly quiet: boolean,
  ) {}

  update(step: number, loss: number, lr: number, valPsnr: number | null): void {
    if (this.quiet) return;
    this.startStep ??= step - 1;
    const secs = (performance.now() - this.t0) / 1000;
    const rate = (step - this.startStep) / Math.max(secs, 1e-9);
    const eta = (this.total - step) / Math.max(rate, 1e-9);
    const frac = step / this.total;
    const bar = '#'.repeat(Math.round(frac * 24)).padEnd(24, '.');
    const val = valPsnr === null ? '' : ` val ${valPsnr.toFixed(2)} dB`;
    const line = `[${bar}] ${step}/${this.total} loss ${loss.toFixed(4)} lr ${lr.toExponential(1)} ${rate.toFixed(1)} it/s ETA ${fmtTime(eta)}${val}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else {
      const pct = Math.floor(frac * 20);
      if (pct !== this.lastPrinted) {
        this.lastPrinted = pct;
        process.stderr.write(line + '\n');
      }
    }
  }

  done(): void {
    if (!this.quiet && process.stderr.isTTY) process.stderr.write('\n');
  }
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}
