import {randomBytes} from 'node:crypto'
import {link, lstat, readdir, readFile, rename, unlink} from 'node:fs/promises'
import {basename, join} from 'node:path'

import {syncDirectory, writeFileAtomic, writeTemporary} from './atomic-write.js'
import {DirectoryLock, type DirectoryLockOptions} from './directory-lock.js'
import {describeFsError} from './fs-errors.js'

/** Leftovers of writes and deletes cut short by a crash: `.<name>.<pid>.<random>.tmp` (atomic-write) and `.deleted`. */
export const LEFTOVER_FILE = /^\..+\.[0-9a-f]{12}\.(deleted|tmp)$/

/**
 * The commit record of a write or a deletion of several files (`.batch.<random>.journal`): once it
 * exists, the batch is decided, and a writer that finds it (its author crashed) finishes the renames
 * or the deletions it lists.
 */
export const JOURNAL_FILE = /^\.batch\.[0-9a-f]{12}\.journal$/

export interface LockedDirectoryOptions extends DirectoryLockOptions {
  /** The lock file's name inside the directory. */
  lockFile: string
}

/**
 * A directory of files that several processes write: every change runs holding this process's
 * queue and the directory's lock file (see DirectoryLock), single files are replaced by an atomic
 * rename, and several files are written or deleted all or nothing, also across a crash (the next
 * writer finishes or removes what a dead one left). Readers need no lock: they see a whole old
 * file or a whole new one. Errors a user can act on come back as STORAGE_UNAVAILABLE naming the path.
 */
export class LockedDirectory {
  readonly lock: DirectoryLock
  /** `lock.abandonedLocksBroken` when leftovers were last cleaned; -1 before the first time. */
  private leftoversCleanedAt = -1
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    readonly dir: string,
    options: LockedDirectoryOptions,
  ) {
    this.lock = new DirectoryLock(join(dir, options.lockFile), options)
  }

  /** Lets the work already queued finish. */
  async close(): Promise<void> {
    await this.tail
  }

  /**
   * Deletes files all or nothing, also across a crash: each is first renamed to a trash name (if a
   * rename fails, the ones done are renamed back), then a journal listing the trash is written: that
   * is the commit point. Only then are they unlinked. A crash before the journal leaves trash files
   * that no journal names, which the next writer renames back: nothing was deleted. A crash after it
   * leaves the journal, and the next writer finishes the deletion. Returns the names that existed.
   * Call it inside `exclusive`.
   */
  async deleteFiles(names: string[]): Promise<string[]> {
    const moved: Array<{from: string; to: string}> = []
    const putBack = async () => {
      for (const {from, to} of moved.reverse()) await rename(to, from).catch(() => undefined)
    }
    try {
      for (const name of names) {
        const from = join(this.dir, name)
        const to = join(this.dir, trashNameOf(name))
        try {
          await rename(from, to)
          moved.push({from, to})
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(error, from)
        }
      }
    } catch (error) {
      await putBack()
      throw error
    }
    if (moved.length === 0) return []
    const journal = `.batch.${randomBytes(6).toString('hex')}.journal`
    try {
      await this.writeFile(journal, `${JSON.stringify({deletes: moved.map(({to}) => basename(to))})}\n`)
    } catch (error) {
      await putBack()
      throw error
    }
    for (const {to} of moved) await unlink(to).catch(() => undefined)
    await syncDirectory(this.dir)
    await unlink(join(this.dir, journal)).catch(() => undefined)
    return moved.map(({from}) => basename(from))
  }

  /**
   * Runs `work` holding both locks: this process's queue, then the directory's lock file. Leftovers
   * of crashed writes are cleaned up first at the first opportunity, when no writer can be mid-way.
   * Work queued before `close` still runs.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      const release = await this.lock.acquire()
      try {
        // At the first write, and after taking over the lock of a writer that died, whose temporary
        // files may still be there.
        if (this.leftoversCleanedAt !== this.lock.abandonedLocksBroken) await this.cleanLeftovers()
        return await work()
      } finally {
        await release()
      }
    })
    this.tail = result.catch(() => undefined)
    return result
  }

  /** The names in the directory. */
  async names(): Promise<string[]> {
    try {
      return await readdir(this.dir)
    } catch (error) {
      throw describeFsError(error, this.dir)
    }
  }

  /** Runs `work` holding the lock file only if it is free this instant, else not at all: for what is never worth a wait. */
  async ifFree(work: () => Promise<void>): Promise<void> {
    const release = await this.lock.tryAcquire()
    if (!release) return
    try {
      await work()
    } finally {
      await release()
    }
  }

  /** Replaces `name` whole (0600 temporary, fsync, rename, directory fsync). */
  async writeFile(name: string, text: string): Promise<void> {
    try {
      await writeFileAtomic(join(this.dir, name), text)
    } catch (error) {
      throw describeFsError(error, join(this.dir, name))
    }
  }

  /**
   * Writes several files all or nothing. Every file is first written whole beside its target, then a
   * journal listing the renames is written: that is the commit point. A failure before it removes
   * the temporary files (nothing changed); a failure among the renames puts back what was replaced
   * (kept as hard links) and removes what was new; a crash among them leaves the journal, and the
   * next writer finishes the renames. Call it inside `exclusive`.
   */
  async writeFiles(files: Array<{name: string; text: string}>): Promise<void> {
    const steps: Array<{backup?: string; from: string; to: string}> = []
    const discard = async ({backup, from}: {backup?: string; from: string}) => {
      await unlink(join(this.dir, from)).catch(() => undefined)
      if (backup) await unlink(join(this.dir, backup)).catch(() => undefined)
    }
    const journal = `.batch.${randomBytes(6).toString('hex')}.journal`
    try {
      for (const {name, text} of files) {
        try {
          steps.push({from: basename(await writeTemporary(join(this.dir, name), text)), to: name})
        } catch (error) {
          throw describeFsError(error, join(this.dir, name))
        }
      }
      for (const step of steps) {
        const backup = trashNameOf(step.to)
        try {
          await link(join(this.dir, step.to), join(this.dir, backup))
          step.backup = backup
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(error, join(this.dir, step.to))
        }
      }
      await this.writeFile(journal, `${JSON.stringify({renames: steps.map(({from, to}) => ({from, to}))})}\n`)
    } catch (error) {
      for (const step of steps) await discard(step)
      throw error
    }
    const done: typeof steps = []
    try {
      for (const step of steps) {
        await rename(join(this.dir, step.from), join(this.dir, step.to))
        done.push(step)
      }
    } catch (error) {
      // Undecided again before anything is undone, so a crash while undoing is not finished forward.
      await unlink(join(this.dir, journal)).catch(() => undefined)
      for (const {backup, to} of done) {
        await (backup ? rename(join(this.dir, backup), join(this.dir, to)) : unlink(join(this.dir, to))).catch(() => undefined)
      }
      for (const step of steps.filter(step => !done.includes(step))) await discard(step)
      await syncDirectory(this.dir)
      throw describeFsError(error, this.dir)
    }
    await unlink(join(this.dir, journal)).catch(() => undefined)
    for (const {backup} of steps) if (backup) await unlink(join(this.dir, backup)).catch(() => undefined)
    await syncDirectory(this.dir)
  }

  private async cleanLeftovers(): Promise<void> {
    await this.finishJournals(await this.names())
    // What a finished journal deleted is gone; trash that no journal named is a deletion never
    // decided, put back unless its name was taken since (a backup of a file a batch replaced).
    for (const name of (await this.names()).filter(n => LEFTOVER_FILE.test(n))) {
      const original = TRASH_FILE.exec(name)?.[1]
      // The lock is held: no writer can take the name between the look and the rename.
      if (original && !(await exists(join(this.dir, original)))) await rename(join(this.dir, name), join(this.dir, original)).catch(() => undefined)
      else await unlink(join(this.dir, name)).catch(() => undefined)
    }
    this.leftoversCleanedAt = this.lock.abandonedLocksBroken
  }

  /** Finishes the batches whose writer crashed after deciding them: their renames or deletions are done, then the journal goes. */
  private async finishJournals(names: string[]): Promise<void> {
    for (const name of names.filter(n => JOURNAL_FILE.test(n))) {
      let renames: Array<{from: string; to: string}> = []
      let deletes: string[] = []
      try {
        const decided = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as {deletes?: unknown; renames?: unknown}
        if (Array.isArray(decided.renames)) renames = decided.renames as typeof renames
        if (Array.isArray(decided.deletes)) deletes = decided.deletes.filter((trash): trash is string => typeof trash === 'string' && TRASH_FILE.test(trash))
      } catch {
        // Written atomically, so never partial; one that is not ours decides nothing.
      }
      for (const trash of deletes) await unlink(join(this.dir, trash)).catch(() => undefined)
      for (const {from, to} of renames) {
        // Only names `writeFiles` makes: a temporary file, and a plain name in this directory that it becomes.
        if (!LEFTOVER_FILE.test(from) || typeof to !== 'string' || !/^[^./\\][^/\\]*$/.test(to)) continue
        await rename(join(this.dir, from), join(this.dir, to)).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(error, join(this.dir, to))
        })
      }
      await syncDirectory(this.dir)
      await unlink(join(this.dir, name)).catch(() => undefined)
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}

/** A trash name and the name it was given for: `.<name>.<pid>.<random>.deleted`. */
const TRASH_FILE = /^\.([^/\\]+)\.\d+\.[0-9a-f]{12}\.deleted$/

/** A name for a file being deleted, so a batch of deletions can be undone until it is decided. */
function trashNameOf(name: string): string {
  return `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.deleted`
}

/** Runs `work` on every item, at most `limit` at once. */
export async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}
