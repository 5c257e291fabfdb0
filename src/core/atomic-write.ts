import {randomBytes} from 'node:crypto'
import {chmodSync, closeSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

/**
 * The one private atomic write of synapse: every file it replaces (API keys, trust records, the
 * completion cache and scripts, session files) goes through here. Synchronous underneath, so that
 * synchronous callers (a config write, the completion cache) share it; the async forms are for
 * callers in async code and block only for the file's own write and fsync.
 */

/**
 * A temporary name beside `target`, private to this write: the pid and a random part, so two
 * processes (or two writes of one process) never share one. Dot-prefixed and ending `.tmp`, so a
 * directory listing can tell leftovers of a crash from real files.
 */
export function temporaryNameOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
}

/**
 * Writes `text` to a new temporary file beside `target`, readable by its owner alone from the first
 * byte (O_EXCL, 0600, and a chmod that undoes a umask or a filesystem ignoring the mode), and
 * fsyncs it; returns its path. On failure nothing is left behind and the error is thrown as it came.
 */
export function writeTemporarySync(target: string, text: string): string {
  const temporary = temporaryNameOf(target)
  try {
    const fd = openSync(temporary, 'wx', 0o600)
    try {
      chmodSync(temporary, 0o600)
      // writeFileSync on a descriptor loops until every byte is written: a lone writeSync may write part of it on a full disk.
      writeFileSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    return temporary
  } catch (error) {
    removeQuietly(temporary)
    throw error
  }
}

/** Renames a temporary file of `writeTemporarySync` over `target` and makes the rename durable; on failure the temporary file is removed. */
export function replaceWithSync(temporary: string, target: string): void {
  try {
    renameSync(temporary, target)
  } catch (error) {
    removeQuietly(temporary)
    throw error
  }
  syncDirectorySync(dirname(target))
}

/**
 * Replaces `target` with `text` so that every reader, and the disk after a crash, sees either the
 * old file or the new one, never a mix, and nobody but the owner ever sees it: a private temporary
 * file beside it, renamed over the target, then the directory fsynced so the rename itself is
 * durable. Errors are the file system's, as they came: callers say what failed.
 */
export function writeFileAtomicSync(target: string, text: string): void {
  replaceWithSync(writeTemporarySync(target, text), target)
}

export async function writeFileAtomic(target: string, text: string): Promise<void> {
  writeFileAtomicSync(target, text)
}

export async function writeTemporary(target: string, text: string): Promise<string> {
  return writeTemporarySync(target, text)
}

/** Makes renames and deletions in `dir` durable. Some systems refuse to fsync a directory; that costs only durability. */
export function syncDirectorySync(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // EISDIR/EINVAL/EPERM on platforms without directory fsync.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  syncDirectorySync(dir)
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Never created, or already gone.
  }
}

/**
 * Where a file the user named for output (`export --output`, `db backup`) is written: the path, or,
 * when it is a symbolic link, the file it leads to, as `>` follows it. Renamed over, the link itself
 * would be replaced: `/dev/stdout` redirected to a file is such a link, and a copy renamed there
 * would put a file in /dev and leave the redirected file empty. A dangling link is replaced, and a
 * stream (isStream) is left as named.
 */
export function outputTargetOf(file: string): string {
  const target = resolve(file)
  // A link to a pipe or a terminal leads to no path: the stream is written through the link.
  if (isStream(target)) return target
  try {
    return lstatSync(target).isSymbolicLink() ? realpathSync(target) : target
  } catch {
    return target
  }
}

/**
 * Whether `path` (links followed) is a stream rather than a file: a FIFO, a device (/dev/stdout, a
 * terminal) or a socket. Such a target is written into, as `>` would; renaming a file over it would
 * put a file where the stream was.
 */
export function isStream(path: string): boolean {
  try {
    const info = statSync(path)
    return info.isFIFO() || info.isCharacterDevice() || info.isSocket()
  } catch {
    return false
  }
}
