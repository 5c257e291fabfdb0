import {randomBytes} from 'node:crypto'
import {chmod, type FileHandle, open, rename, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

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
export async function writeTemporary(target: string, text: string): Promise<string> {
  const temporary = temporaryNameOf(target)
  try {
    const handle = await open(temporary, 'wx', 0o600)
    try {
      await chmod(temporary, 0o600)
      await handle.writeFile(text, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    return temporary
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw error
  }
}

/**
 * Replaces `target` with `text` so that every reader, and the disk after a crash, sees either the
 * old file or the new one, never a mix, and nobody but the owner ever sees it: a private temporary
 * file beside it (see writeTemporary), renamed over the target, then the directory fsynced so the
 * rename itself is durable. Errors are the file system's, as they came: callers say what failed.
 */
export async function writeFileAtomic(target: string, text: string): Promise<void> {
  const temporary = await writeTemporary(target, text)
  try {
    await rename(temporary, target)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(target))
}

/** Makes renames and deletions in `dir` durable. Some systems refuse to fsync a directory; that costs only durability. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // EISDIR/EINVAL/EPERM on platforms without directory fsync.
  } finally {
    await handle?.close()
  }
}
