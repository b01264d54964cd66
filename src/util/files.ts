// Files goman writes for people (config, kubeconfig, snapshots, bundles, the Lambda zip): each
// lands whole or not at all, through a temp file nobody can predict or pre-plant, and the
// errors say what is wrong with the path the user gave rather than with the temp file.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** An error about a path the user named, phrased for them (no errno, no temp-file names). */
export class FileError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(message);
    this.name = 'FileError';
    this.file = file;
  }
}

/** Awaits `work`; a FileError from it is re-thrown naming the flag the path came from. */
export async function namingFlag<T>(flag: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof FileError) throw new FileError(e.file, `${flag}: ${e.message}`);
    throw e;
  }
}

/** What went wrong with `file`, in words: "its folder /x does not exist", "permission denied". */
export function fileProblem(e: unknown, file: string): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `its folder ${path.dirname(path.resolve(file))} does not exist`;
    case 'ENOTDIR':
      return `a part of the path is a file, not a folder`;
    case 'EISDIR':
      return 'it is a folder';
    case 'EEXIST':
      return 'it exists and is not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return (e as Error).message.split('\n')[0] ?? String(e);
  }
}

export interface AtomicWriteOptions {
  /** File mode of the result (default 0644 less the umask). */
  mode?: number;
}

/**
 * Writes `content` to `file` through a temp file in the same folder, created with O_EXCL under a
 * random name (a link planted there makes the open fail instead of being followed), flushed to
 * disk, then renamed over `file`. Throws FileError naming `file`.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, opts.mode ?? 0o666);
  } catch (e) {
    throw new FileError(file, `cannot write ${file}: ${fileProblem(e, file)}`);
  }
  try {
    try {
      // The mode given to open() is cut by the umask; the caller's mode is the mode it wants.
      if (opts.mode !== undefined) await handle.chmod(opts.mode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new FileError(file, `cannot write ${file}: ${fileProblem(e, file)}`);
  }
}

/**
 * `mkdir -p` that never loops: Node's recursive mkdir spins on paths such as /proc/x, where
 * the parent exists but refuses children. Each missing folder is made once, top down.
 */
export async function makeDirectory(dir: string, mode = 0o777): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    try {
      if (!(await stat(at)).isDirectory()) throw new FileError(dir, `cannot use ${dir} as a folder: ${at === path.resolve(dir) ? 'it is a file' : `${at} is a file`}`);
      break;
    } catch (e) {
      if (e instanceof FileError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileError(dir, `cannot use ${dir} as a folder: ${fileProblem(e, dir)}`);
      missing.push(at);
      const parent = path.dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(d).catch(() => undefined))?.isDirectory()) continue;
      throw new FileError(dir, `cannot create folder ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${path.dirname(d)} does not accept new folders` : fileProblem(e, dir)}`);
    }
  }
}

export interface LockOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /**
   * A lock whose process is gone was left by a crash and is taken over at once; one whose
   * process cannot be checked (another machine sharing the folder) after this long (default 120 s).
   */
  staleMs?: number;
}

/** Whether a lock holding `text` was left by a process that no longer runs (or is older than `staleMs`). */
async function abandoned(lock: string, text: string, staleMs: number): Promise<boolean> {
  const info = await stat(lock).catch(() => undefined);
  if (!info) return false;
  const [pid, host] = text.trim().split(' ');
  if (host === hostname() && Number(pid) > 0) {
    try {
      process.kill(Number(pid), 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
    return false;
  }
  return Date.now() - info.mtimeMs > staleMs;
}

/**
 * Runs `fn` while holding `${file}.lock`, a file created with O_EXCL: read-modify-write cycles
 * of one file by several processes (20 parallel `goman context add`) then never lose updates.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const staleMs = opts.staleMs ?? 120_000;
  let wait = 5;
  for (;;) {
    try {
      const handle = await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await handle.writeFile(`${process.pid} ${hostname()}\n`);
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileError(file, `cannot lock ${file}: ${fileProblem(e, lock)}`);
      const judged = await readFile(lock, 'utf8').catch(() => '');
      if (await abandoned(lock, judged, staleMs)) {
        // The holder we judged may have released the lock and a live process taken it since we
        // read it (its pid is then gone for the good reason): remove only the lock we judged.
        if ((await readFile(lock, 'utf8').catch(() => '')) === judged) await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new FileError(file, `${file} is locked by another goman process; if none is running, remove ${lock}`);
      await delay(wait);
      wait = Math.min(wait * 2, 100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
