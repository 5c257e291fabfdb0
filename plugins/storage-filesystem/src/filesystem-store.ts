import {type BigIntStats, statSync} from 'node:fs'
import {chmod, type FileHandle, link, mkdir, open, readdir, readFile, rename, stat, unlink} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'

import {
  applyPatch,
  patchMessageOf,
  type Message,
  type MessagePatch,
  type Missing,
  type RestoreConflict,
  type Session,
  type SessionPatch,
  type SessionSnapshot,
  SessionStore,
  type StorageAdapter,
  type StoredSummary,
  type StoreOptions,
  StorageUnavailableError,
  summaryOf,
  type UnplacedMessage,
} from 'synapse-cli'

import {DirectoryLock} from './directory-lock.js'
import {describeFsError} from './fs-errors.js'
import {
  decodeSession,
  decodeSessionFile,
  encodeSession,
  encodeSessionFile,
  fileNameOf,
  JOURNAL_FILE,
  journalNameOf,
  LEFTOVER_FILE,
  SESSION_FILE,
  type SessionFile,
  syncDirectory,
  trashNameOf,
  writeFileAtomic,
  writeTemporary,
} from './session-file.js'

export interface FilesystemStoreOptions extends StoreOptions {
  /** The session directory; created (0700, with its parents) if missing. */
  dir: string
  /** How long a write waits for another process's lock before STORAGE_BUSY. Default 5000 ms. */
  lockTimeoutMs?: number
  /** When a lock left by a crashed process counts as abandoned. Default 30,000 ms. */
  staleLockMs?: number
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000
export const DEFAULT_STALE_LOCK_MS = 30_000
export const LOCK_FILE = '.lock'
export const INDEX_FILE = '.index.json'
// 2: summaries carry `kept`. An index of another version is rebuilt, so one written by an older
// synapse (which drops the field) never makes a kept session look prunable.
// 3: summaries carry a fork's `parentId` and `parentPosition`, which a version 2 index lost.
const INDEX_VERSION = 3
/** Files opened at once while scanning: enough to overlap I/O, far below any descriptor limit. */
const SCAN_CONCURRENCY = 32

/**
 * What this process knows about one session file. `key` identifies the exact file version the rest
 * was read from (inode, size, modification time in ns): an atomic write always makes a new inode,
 * so a changed file never matches an old key. `messageIds` is known only for files this process read.
 */
interface Known {
  key: string
  messageIds?: Set<string>
  summary: StoredSummary
}

/**
 * Sessions as one JSON file each in a directory (`<id>.json`), for people who want to read, grep,
 * copy or version their history with ordinary tools.
 *
 * Writers (several synapse processes may share a directory) take one directory-wide lock file for
 * the whole of each read-modify-write, and within a process they also queue on a promise chain.
 * Readers take no lock: every file is replaced by an atomic rename, so a reader sees a whole old
 * version or a whole new one.
 *
 * Listing and pruning need every session's updatedAt, count and preview. Parsing every file
 * for that grows with the whole history (long conversations are megabytes), so summaries are cached:
 * in memory, and in `.index.json` for the next process. The cache is never trusted blindly: each use
 * stats every session file (readdir + stat is cheap) and re-reads only files whose inode, size or
 * mtime changed, so a crash, another process, or a person editing a file can only make it re-read.
 */
export class FilesystemStorageAdapter implements StorageAdapter {
  readonly backend = 'filesystem'
  private indexDirty = false
  private indexLoaded = false
  private readonly known = new Map<string, Known>()
  /** `lock.abandonedLocksBroken` when leftovers were last cleaned; -1 before the first time. */
  private leftoversCleanedAt = -1
  private readonly lock: DirectoryLock
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    readonly dir: string,
    options: Omit<FilesystemStoreOptions, 'clock' | 'dir'> = {},
  ) {
    this.lock = new DirectoryLock(join(dir, LOCK_FILE), {
      staleMs: options.staleLockMs ?? DEFAULT_STALE_LOCK_MS,
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    })
  }

  async appendMessages(sessionId: string, messages: UnplacedMessage[], options: {completes?: string; updatedAt: Date}): Promise<Message[] | Missing> {
    return this.rewrite(sessionId, file => {
      const question = options.completes === undefined ? undefined : file.messages.find(m => m.id === options.completes)
      if (options.completes !== undefined && !question) return {missing: 'message'}
      if (messages.length === 0) return []
      let position = file.messages.length === 0 ? 0 : file.messages.at(-1)!.position + 1
      const added = messages.map(m => ({...m, position: position++}))
      // One file written whole: a question's new status and its reply land together or not at all.
      if (question) question.status = 'complete'
      file.messages.push(...added)
      file.session.updatedAt = options.updatedAt
      return added
    })
  }

  async clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined> {
    const cleared = await this.rewrite(sessionId, file => {
      const count = file.messages.length
      file.messages = []
      file.session.updatedAt = updatedAt
      return count
    })
    return typeof cleared === 'number' ? cleared : undefined
  }

  /** Lets writes already queued finish. */
  async close(): Promise<void> {
    await this.tail
  }

  async countSessions(): Promise<number> {
    return (await this.sessionIds()).length
  }

  async deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]> {
    if (targets.length === 0) return []
    return this.exclusive(async () => {
      const due: string[] = []
      for (const {id, updatedAt} of targets) {
        if (updatedAt === undefined) due.push(id)
        else if ((await this.readIfPresent(id))?.session.updatedAt.getTime() === updatedAt.getTime()) due.push(id)
      }
      return this.remove(due)
    })
  }

  async insertSession(session: Session): Promise<boolean> {
    return this.exclusive(async () => {
      if (await this.exists(session.id)) return false
      await this.writeSession({messages: [], session})
      return true
    })
  }

  async readMessages(sessionId: string, options: {last?: number}): Promise<Message[] | undefined> {
    const messages = (await this.readIfPresent(sessionId))?.messages
    if (!messages || options.last === undefined) return messages
    return options.last === 0 ? [] : messages.slice(-options.last)
  }

  async readSession(sessionId: string): Promise<Session | undefined> {
    return (await this.readIfPresent(sessionId))?.session
  }

  async restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined> {
    const batch = new Set(snapshots.map(f => f.session.id))
    return this.exclusive(async () => {
      for (const id of batch) {
        if (!options.replace && (await this.exists(id))) return {id, taken: 'session'}
      }
      const wanted = new Set(snapshots.flatMap(f => f.messages.map(m => m.id)))
      if (wanted.size > 0) {
        // Message ids are unique across the store, so every other session's ids must be known (the
        // batch's own sessions are replaced). This reads the files this process has not read yet: an
        // import pays that once, then only stats.
        const others = (await this.scan()).filter(s => !batch.has(s.id))
        let taken: string | undefined
        await eachLimited(others, SCAN_CONCURRENCY, async ({id}) => {
          const ids = await this.messageIdsOf(id)
          taken ??= [...wanted].find(m => ids.has(m))
        })
        if (taken) return {id: taken, taken: 'message'}
      }
      // Each rename replaces any previous file of its id in one step: a replaced session and its
      // restored one are never both, or neither, there.
      await (snapshots.length === 1 ? this.writeSession(snapshots[0]) : this.writeSessions(snapshots))
      return undefined
    })
  }

  async sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return (await this.sessionIds()).filter(id => id.startsWith(prefix)).slice(0, limit)
  }

  async summaries(): Promise<StoredSummary[]> {
    return this.scan()
  }

  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing> {
    return this.rewrite(sessionId, file => patchMessageOf(file, messageId, patch, updatedAt))
  }

  async updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined> {
    const session = await this.rewrite(sessionId, file => {
      applyPatch(file.session, patch)
      if (updatedAt) file.session.updatedAt = updatedAt
      return file.session
    })
    return 'missing' in session ? undefined : session
  }

  /**
   * Reads a session's file, lets `change` change it, and writes it back whole, holding the locks
   * throughout. `change` may answer Missing (or nothing to write: an empty array), and then nothing is written.
   */
  private rewrite<T>(sessionId: string, change: (file: SessionFile) => Missing | T): Promise<Missing | T> {
    return this.exclusive(async () => {
      const file = await this.readIfPresent(sessionId)
      if (!file) return {missing: 'session'} as Missing
      const result = change(file)
      const unchanged = (typeof result === 'object' && result !== null && 'missing' in result) || (Array.isArray(result) && result.length === 0)
      if (!unchanged) await this.writeSession(file)
      return result
    })
  }

  /** Creates the directory (0700) if needed and checks that it is one. */
  async prepare(): Promise<void> {
    try {
      await mkdir(this.dir, {mode: 0o700, recursive: true})
      if (!(await stat(this.dir)).isDirectory()) throw Object.assign(new Error('not a directory'), {code: 'ENOTDIR'})
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new StorageUnavailableError(
        `Cannot create the session directory ${this.dir} (${code === 'EEXIST' ? 'a file is in the way' : (code ?? String(error))}).`,
        {
          cause: error,
          suggestions: ['Check that the parent directory is writable, or point DATABASE_URL at another directory (file:///absolute/path).'],
        },
      )
    }
  }

  /**
   * Runs `work` holding both locks: this process's queue, then the directory's lock file. Leftovers
   * of crashed writes are removed at the first opportunity, when no writer can be mid-way. Work
   * queued before `close` still runs.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      const release = await this.lock.acquire()
      try {
        // At the first write, and after taking over the lock of a writer that died, whose temporary
        // file may still be there.
        if (this.leftoversCleanedAt !== this.lock.abandonedLocksBroken) await this.cleanLeftovers()
        return await work()
      } finally {
        await release()
      }
    })
    this.tail = result.catch(() => undefined)
    return result
  }

  private async cleanLeftovers(): Promise<void> {
    const names = await this.readdir()
    await this.finishJournals(names)
    await Promise.all(names.filter(name => LEFTOVER_FILE.test(name)).map(name => unlink(join(this.dir, name)).catch(() => undefined)))
    this.leftoversCleanedAt = this.lock.abandonedLocksBroken
  }

  private async exists(sessionId: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sessionId))
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw describeFsError(error, this.pathOf(sessionId))
    }
  }

  private async loadIndex(): Promise<void> {
    this.indexLoaded = true
    let raw: unknown
    try {
      const handle = await open(join(this.dir, INDEX_FILE), 'r')
      try {
        raw = JSON.parse(await handle.readFile('utf8'))
      } finally {
        await handle.close()
      }
    } catch {
      // Missing or unreadable: it is only a cache, rebuilt by this scan.
      return
    }
    const {sessions, version} = raw as {
      sessions?: Record<string, {key?: unknown; messageCount?: unknown; preview?: unknown; session?: unknown}>
      version?: unknown
    }
    if (version !== INDEX_VERSION || typeof sessions !== 'object' || sessions === null) return
    for (const [id, entry] of Object.entries(sessions)) {
      try {
        const session = decodeSession(entry.session, reason => new Error(reason))
        if (session.id !== id || typeof entry.key !== 'string' || !Number.isInteger(entry.messageCount)) continue
        if (entry.preview !== null && typeof entry.preview !== 'string') continue
        if (!this.known.has(id))
          this.known.set(id, {key: entry.key, summary: {...session, messageCount: entry.messageCount as number, preview: entry.preview as null | string}})
      } catch {
        // A damaged entry is re-read from its file.
      }
    }
  }

  /** The message ids of a session, reading its file only if this process has not already. */
  private async messageIdsOf(sessionId: string): Promise<Set<string>> {
    const known = this.known.get(sessionId)
    if (known?.messageIds) return known.messageIds
    const file = await this.readIfPresent(sessionId)
    return new Set(file?.messages.map(m => m.id))
  }

  private pathOf(sessionId: string): string {
    return join(this.dir, fileNameOf(sessionId))
  }

  private async readdir(): Promise<string[]> {
    try {
      return await readdir(this.dir)
    } catch (error) {
      throw describeFsError(error, this.dir)
    }
  }

  /**
   * Reads a session file: open, fstat, read, all on one descriptor, so the key recorded matches the
   * content read even if the file is replaced meanwhile. Undefined if there is no such file.
   */
  private async readIfPresent(sessionId: string): Promise<SessionFile | undefined> {
    const path = this.pathOf(sessionId)
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw describeFsError(error, path)
    }
    try {
      const info = await handle.stat({bigint: true})
      if (Number(info.mode) & 0o077) await handle.chmod(Number(info.mode) & 0o700).catch(() => undefined)
      const file = decodeSessionFile(await handle.readFile('utf8'), path, sessionId)
      this.remember(file, keyOf(info))
      return file
    } catch (error) {
      throw describeFsError(error, path)
    } finally {
      await handle.close()
    }
  }

  private remember(file: SessionFile, key: string): void {
    this.known.set(file.session.id, {
      key,
      messageIds: new Set(file.messages.map(m => m.id)),
      summary: summaryOf(file.session, file.messages),
    })
    this.indexDirty = true
  }

  /**
   * Deletes session files all or nothing, as far as errors go: each is first renamed to a trash
   * name, and if any rename fails the ones done are renamed back. Only then are they unlinked. A
   * crash in between leaves trash files, which the next writer removes: the deletion completes.
   */
  private async remove(sessionIds: string[]): Promise<string[]> {
    const moved: Array<{from: string; to: string}> = []
    try {
      for (const id of sessionIds) {
        const from = this.pathOf(id)
        const to = join(this.dir, trashNameOf(fileNameOf(id)))
        try {
          await rename(from, to)
          moved.push({from, to})
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(error, from)
        }
      }
    } catch (error) {
      for (const {from, to} of moved.reverse()) await rename(to, from).catch(() => undefined)
      throw error
    }
    for (const {to} of moved) await unlink(to).catch(() => undefined)
    for (const id of sessionIds) if (this.known.delete(id)) this.indexDirty = true
    if (moved.length > 0) await syncDirectory(this.dir)
    return moved.map(({from}) => basename(from, '.json'))
  }

  /** Saves the summary cache if it changed, and only if the directory lock is free this instant: it is never worth a wait. */
  private async saveIndex(): Promise<void> {
    if (!this.indexDirty) return
    const release = await this.lock.tryAcquire()
    if (!release) return
    try {
      const sessions: Record<string, unknown> = {}
      for (const [id, {key, summary}] of this.known) {
        sessions[id] = {key, messageCount: summary.messageCount, preview: summary.preview, session: encodeSession(summary)}
      }
      this.indexDirty = false
      await writeFileAtomic(this.dir, INDEX_FILE, `${JSON.stringify({version: INDEX_VERSION, sessions})}\n`)
    } catch {
      // A cache that cannot be saved costs the next process a re-read, nothing more.
      this.indexDirty = true
    } finally {
      await release()
    }
  }

  /**
   * Every session's summary, from the cache where the file is unchanged, else from the file. The
   * stats are synchronous on purpose: a thousand of them take a few milliseconds in a loop, several
   * times that as promises. Only changed files are then read, in parallel.
   */
  private async scan(): Promise<StoredSummary[]> {
    if (!this.indexLoaded) await this.loadIndex()
    const present = new Set<string>()
    const changed: string[] = []
    for (const id of await this.sessionIds()) {
      const path = this.pathOf(id)
      let info: BigIntStats
      try {
        info = statSync(path, {bigint: true})
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw describeFsError(error, path)
      }
      if (Number(info.mode) & 0o077) await tighten(path, Number(info.mode))
      present.add(id)
      if (this.known.get(id)?.key !== keyOf(info)) changed.push(id)
    }
    await eachLimited(changed, SCAN_CONCURRENCY, async id => {
      // Deleted since the stat: no longer a session.
      if (!(await this.readIfPresent(id))) present.delete(id)
    })
    for (const id of this.known.keys()) {
      if (!present.has(id)) {
        this.known.delete(id)
        this.indexDirty = true
      }
    }
    await this.saveIndex()
    return [...present].map(id => this.known.get(id)!.summary)
  }

  /** The ids of the session files in the directory, sorted; temporary, trash, lock and index files are not sessions. */
  private async sessionIds(): Promise<string[]> {
    const ids: string[] = []
    for (const name of await this.readdir()) {
      const match = SESSION_FILE.exec(name)
      if (match) ids.push(match[1])
    }
    return ids.sort()
  }

  private async writeSession(file: SessionFile): Promise<void> {
    const path = this.pathOf(file.session.id)
    await writeFileAtomic(this.dir, fileNameOf(file.session.id), encodeSessionFile(file))
    try {
      this.remember(file, keyOf(await stat(path, {bigint: true})))
    } catch {
      // Written, but not cached: the next scan reads it.
      this.known.delete(file.session.id)
    }
  }
  /**
   * Writes several session files all or nothing. Every file is first written whole beside its
   * target, then a journal listing the renames is written: that is the commit point. A failure before
   * it removes the temporary files (nothing changed); a failure among the renames puts back what was
   * replaced (kept as hard links) and removes what was new; a crash among them leaves the journal,
   * and the next writer finishes the renames (`finishJournals`).
   */
  private async writeSessions(files: SessionFile[]): Promise<void> {
    const steps: Array<{backup?: string; from: string; to: string}> = []
    let journal: string | undefined
    try {
      for (const file of files) {
        const to = fileNameOf(file.session.id)
        steps.push({from: basename(await writeTemporary(this.dir, to, encodeSessionFile(file))), to})
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
      journal = journalNameOf()
      await writeFileAtomic(this.dir, journal, `${JSON.stringify({renames: steps.map(({from, to}) => ({from, to}))})}\n`)
    } catch (error) {
      for (const {backup, from} of steps) {
        await unlink(join(this.dir, from)).catch(() => undefined)
        if (backup) await unlink(join(this.dir, backup)).catch(() => undefined)
      }
      throw error
    }
    const done: typeof steps = []
    try {
      for (const step of steps) {
        await renameInto(this.dir, step.from, step.to)
        done.push(step)
      }
    } catch (error) {
      // Undecided again before anything is undone, so a crash while undoing is not finished forward.
      await unlink(join(this.dir, journal)).catch(() => undefined)
      for (const {backup, to} of done) {
        await (backup ? rename(join(this.dir, backup), join(this.dir, to)) : unlink(join(this.dir, to))).catch(() => undefined)
      }
      for (const {backup, from} of steps.filter(step => !done.includes(step))) {
        await unlink(join(this.dir, from)).catch(() => undefined)
        if (backup) await unlink(join(this.dir, backup)).catch(() => undefined)
      }
      for (const file of files) this.known.delete(file.session.id)
      await syncDirectory(this.dir)
      throw describeFsError(error, this.dir)
    }
    await unlink(join(this.dir, journal)).catch(() => undefined)
    for (const {backup} of steps) if (backup) await unlink(join(this.dir, backup)).catch(() => undefined)
    await syncDirectory(this.dir)
    for (const file of files) {
      try {
        this.remember(file, keyOf(await stat(this.pathOf(file.session.id), {bigint: true})))
      } catch {
        this.known.delete(file.session.id)
      }
    }
  }

  /** Finishes the batches whose writer crashed after deciding them: their renames are done, then the journal goes. */
  private async finishJournals(names: string[]): Promise<void> {
    for (const name of names.filter(n => JOURNAL_FILE.test(n))) {
      let renames: Array<{from: string; to: string}> = []
      try {
        renames = (JSON.parse(await readFile(join(this.dir, name), 'utf8')) as {renames: typeof renames}).renames
      } catch {
        // Written atomically, so never partial; one that is not ours decides nothing.
      }
      for (const {from, to} of renames) {
        // Only names this package makes: a temporary file and the session file it becomes.
        if (!LEFTOVER_FILE.test(from) || !SESSION_FILE.test(to)) continue
        await renameInto(this.dir, from, to).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(error, join(this.dir, to))
        })
      }
      await syncDirectory(this.dir)
      await unlink(join(this.dir, name)).catch(() => undefined)
    }
  }
}

/**
 * Opens the session directory at `dir` (created 0700 if missing). Nothing is read until asked:
 * opening costs one mkdir.
 */
export async function openFilesystemStore(options: FilesystemStoreOptions): Promise<SessionStore> {
  return new SessionStore(await openFilesystemAdapter(options), {clock: options.clock})
}

/** The storage adapter under `openFilesystemStore`. */
export async function openFilesystemAdapter(options: Omit<FilesystemStoreOptions, 'clock'>): Promise<FilesystemStorageAdapter> {
  const {dir, ...rest} = options
  const adapter = new FilesystemStorageAdapter(resolve(dir), rest)
  await adapter.prepare()
  return adapter
}

/** Renames `dir/from` to `dir/to`, raw errors (ENOENT: already done). */
async function renameInto(dir: string, from: string, to: string): Promise<void> {
  await rename(join(dir, from), join(dir, to))
}

function keyOf(info: {ino: bigint; mtimeNs: bigint; size: bigint}): string {
  return `${info.ino}:${info.size}:${info.mtimeNs}`
}

/** A history file is its owner's alone, whatever umask made it; the owner's own bits are left alone. */
async function tighten(path: string, mode: number): Promise<void> {
  await chmod(path, mode & 0o700).catch(() => undefined)
}

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}
