import {type BigIntStats, statSync} from 'node:fs'
import {chmod, type FileHandle, mkdir, open, stat} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'

import {
  decodeSnapshot,
  describeFsError,
  eachLimited,
  encodeSnapshot,
  FORMAT_VERSION,
  LockedDirectory,
  type SessionSnapshot,
  SessionStore,
  SnapshotStorageAdapter,
  StorageUnavailableError,
  type StoredSummary,
  type StoreOptions,
  summaryOf,
} from 'synapse-cli'

import {decodeSessionFile, encodeSessionFile, fileNameOf, SESSION_FILE} from './session-file.js'

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
// 4: the preview is the first question still in the conversation; a version 3 index may hold one an edit replaced.
// 5: the preview is cut at 100 code points, as every backend cuts it, not 100 UTF-16 units.
const INDEX_VERSION = 5
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
export class FilesystemStorageAdapter extends SnapshotStorageAdapter {
  readonly backend = 'filesystem'
  private readonly files: LockedDirectory
  private indexDirty = false
  private indexLoaded = false
  private readonly known = new Map<string, Known>()

  constructor(
    readonly dir: string,
    options: Omit<FilesystemStoreOptions, 'clock' | 'dir'> = {},
  ) {
    super()
    this.files = new LockedDirectory(dir, {
      lockFile: LOCK_FILE,
      staleMs: options.staleLockMs ?? DEFAULT_STALE_LOCK_MS,
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      what: 'The session directory',
    })
  }

  /** Lets writes already queued finish. */
  async close(): Promise<void> {
    await this.files.close()
  }

  async summaries(): Promise<StoredSummary[]> {
    return this.scan()
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

  protected exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.files.exclusive(work)
  }

  protected async has(sessionId: string): Promise<boolean> {
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
        const {session} = decodeSnapshot({...(entry.session as object), messages: []}, FORMAT_VERSION, () => new Error('damaged'))
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
  protected async messageIdsOf(sessionId: string): Promise<Set<string>> {
    const known = this.known.get(sessionId)
    if (known?.messageIds) return known.messageIds
    const file = await this.read(sessionId)
    return new Set(file?.messages.map(m => m.id))
  }

  private pathOf(sessionId: string): string {
    return join(this.dir, fileNameOf(sessionId))
  }

  /**
   * Reads a session file: open, fstat, read, all on one descriptor, so the key recorded matches the
   * content read even if the file is replaced meanwhile. Undefined if there is no such file.
   */
  protected async read(sessionId: string): Promise<SessionSnapshot | undefined> {
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

  private remember(file: SessionSnapshot, key: string): void {
    this.known.set(file.session.id, {
      key,
      messageIds: new Set(file.messages.map(m => m.id)),
      summary: summaryOf(file.session, file.messages),
    })
    this.indexDirty = true
  }

  /** Saves the summary cache if it changed, and only if the directory lock is free this instant: it is never worth a wait. */
  private async saveIndex(): Promise<void> {
    if (!this.indexDirty) return
    await this.files.ifFree(async () => {
      const sessions: Record<string, unknown> = {}
      for (const [id, {key, summary}] of this.known) {
        const {messages: _, ...session} = encodeSnapshot({messages: [], session: summary})
        sessions[id] = {key, messageCount: summary.messageCount, preview: summary.preview, session}
      }
      this.indexDirty = false
      // A cache that cannot be saved costs the next process a re-read, nothing more.
      await this.files.writeFile(INDEX_FILE, `${JSON.stringify({version: INDEX_VERSION, sessions})}\n`).catch(() => (this.indexDirty = true))
    })
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
      if (!(await this.read(id))) present.delete(id)
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
  protected async sessionIds(): Promise<string[]> {
    const ids: string[] = []
    for (const name of await this.files.names()) {
      const match = SESSION_FILE.exec(name)
      if (match) ids.push(match[1])
    }
    return ids.sort()
  }

  protected async remove(sessionIds: string[]): Promise<string[]> {
    const gone = await this.files.deleteFiles(sessionIds.map(id => fileNameOf(id)))
    for (const id of sessionIds) if (this.known.delete(id)) this.indexDirty = true
    return gone.map(name => basename(name, '.json'))
  }

  /** Writes session files, several all or nothing (LockedDirectory.writeFiles), and caches what was written. */
  protected async write(files: SessionSnapshot[]): Promise<void> {
    const named = files.map(file => ({name: fileNameOf(file.session.id), text: encodeSessionFile(file)}))
    try {
      await (named.length === 1 ? this.files.writeFile(named[0].name, named[0].text) : this.files.writeFiles(named))
    } catch (error) {
      for (const file of files) this.known.delete(file.session.id)
      throw error
    }
    for (const file of files) {
      try {
        this.remember(file, keyOf(await stat(this.pathOf(file.session.id), {bigint: true})))
      } catch {
        // Written, but not cached: the next scan reads it.
        this.known.delete(file.session.id)
      }
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

function keyOf(info: {ino: bigint; mtimeNs: bigint; size: bigint}): string {
  return `${info.ino}:${info.size}:${info.mtimeNs}`
}

/** A history file is its owner's alone, whatever umask made it; the owner's own bits are left alone. */
async function tighten(path: string, mode: number): Promise<void> {
  await chmod(path, mode & 0o700).catch(() => undefined)
}
