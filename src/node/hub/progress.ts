// The download progress bar: one line per file on stderr, redrawn in place with \r (no dependency).
//   model.safetensors   45% |█████████░░░░░░░░░░░| 247.9 MB / 548.1 MB  12.3 MB/s  ETA 0:24

export interface DownloadProgress {
  /** the file's name in the repo */
  file: string;
  /** bytes in the .incomplete file so far (resumed bytes included) */
  loaded: number;
  /** the full size, when the server said */
  total: number | undefined;
  /** bytes that were already there from an earlier, interrupted download */
  resumedFrom: number;
  done: boolean;
}

export type ProgressCallback = (progress: DownloadProgress) => void;

/** 1536 -> "1.5 kB" (decimal units, as tqdm and the Hub's website show sizes). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The text of one progress line (exported for tests). */
export function renderProgressLine(p: DownloadProgress, elapsedSeconds: number, width: number): string {
  const rate = elapsedSeconds > 0 ? (p.loaded - p.resumedFrom) / elapsedSeconds : 0;
  const name = p.file.length > 24 ? `…${p.file.slice(-23)}` : p.file.padEnd(24);
  const sizes = p.total !== undefined ? `${formatBytes(p.loaded)} / ${formatBytes(p.total)}` : formatBytes(p.loaded);
  const speed = `${formatBytes(Math.round(rate))}/s`;
  if (p.total === undefined || p.total === 0) return `${name} ${sizes}  ${speed}`;
  const frac = Math.min(1, p.loaded / p.total);
  const eta = p.done ? `in ${formatDuration(elapsedSeconds)}` : `ETA ${rate > 0 ? formatDuration((p.total - p.loaded) / rate) : '?'}`;
  const tail = ` ${sizes}  ${speed}  ${eta}`;
  const barWidth = Math.max(10, Math.min(30, width - name.length - tail.length - 9));
  const filled = Math.round(frac * barWidth);
  const bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled);
  return `${name} ${String(Math.floor(frac * 100)).padStart(3)}% |${bar}|${tail}`;
}

interface Writable {
  write(s: string): unknown;
  columns?: number;
}

/** A progress callback that draws bars on `stream` (stderr by default), at most every 100 ms per file. */
export function terminalProgressBar(stream: Writable = process.stderr): ProgressCallback {
  const started = new Map<string, number>();
  let lastDraw = 0;
  return (p) => {
    const now = Date.now();
    if (!started.has(p.file)) started.set(p.file, now);
    if (!p.done && now - lastDraw < 100) return;
    lastDraw = now;
    const elapsed = (now - started.get(p.file)!) / 1000;
    const line = renderProgressLine(p, elapsed, stream.columns ?? 100);
    stream.write(`\r\x1b[2K${line}${p.done ? '\n' : ''}`);
    if (p.done) started.delete(p.file);
  };
}
