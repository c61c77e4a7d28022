// A lock file so that two processes downloading the same blob do not write the same .incomplete file.
// huggingface_hub uses filelock on <cache>/.locks/<repo>/<etag>.lock; Node has no flock(), so this lock is an
// exclusively created file (open with O_EXCL) that says who holds it. The holder refreshes its mtime while it
// works; a lock whose process is gone (same host) or that has not been refreshed for `staleMs` is taken over.
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export interface LockOptions {
  /** a lock not refreshed for this long is considered abandoned (default 60 s) */
  staleMs?: number;
  /** how often a waiting process looks again (default 100 ms) */
  pollMs?: number;
  /** called once when the lock is held by someone else and we start waiting */
  onWait?: (holder: LockInfo | undefined) => void;
}

export interface LockInfo {
  pid: number;
  host: string;
  /** unique per acquisition: tells our lock from a newer one at the same path */
  token: string;
  since: string;
}

/** Releases the lock (idempotent). */
export type ReleaseLock = () => void;

function readLock(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

/** Why a lock can be taken over, or undefined while its holder looks alive. */
export function staleReason(path: string, staleMs: number): string | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return undefined; // gone already: the next exclusive create will tell
  }
  const info = readLock(path);
  if (info && info.host === hostname() && !processIsAlive(info.pid)) return `process ${info.pid} is gone`;
  if (Date.now() - mtimeMs > staleMs) return `not refreshed for ${Math.round((Date.now() - mtimeMs) / 1000)} s`;
  return undefined;
}

/** Moves a stale lock aside, unless it was replaced by a fresh one meanwhile (then that one is put back). */
function breakStaleLock(path: string, stale: LockInfo | undefined): void {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = readLock(aside);
  if (stale && moved && moved.token !== stale.token) {
    try {
      linkSync(aside, path); // a fresh lock was taken between our check and the rename: restore it
    } catch {
      /* the path is taken again: that holder wins */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the lock at `path` is ours, and returns the function that releases it. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 100;
  mkdirSync(dirname(path), { recursive: true });
  const info: LockInfo = { pid: process.pid, host: hostname(), token: randomUUID(), since: new Date().toISOString() };
  let waited = false;
  for (;;) {
    try {
      writeFileSync(path, JSON.stringify(info), { flag: 'wx' }); // O_CREAT | O_EXCL: only one process succeeds
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(path);
    if (staleReason(path, staleMs)) {
      breakStaleLock(path, holder);
      continue;
    }
    if (!waited) options.onWait?.(holder);
    waited = true;
    await sleep(pollMs);
  }
  // Refresh the mtime so waiting processes know we are alive (unref: never keeps the process running).
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      /* the lock was broken: nothing to refresh */
    }
  }, Math.max(1000, staleMs / 4));
  heartbeat.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    if (readLock(path)?.token === info.token) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  };
}
