import {randomBytes} from 'node:crypto'
import {type FileHandle, link, open, readdir, stat, unlink} from 'node:fs/promises'
import {hostname} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {SynapseError} from './errors.js'

import {describeFsError} from './fs-errors.js'

export interface DirectoryLockOptions {
  /** How long `acquire` waits for another holder before STORAGE_BUSY. */
  timeoutMs: number
  /** A lock this old is abandoned whoever holds it: no operation under it takes that long. */
  staleMs: number
  /** What is locked, as a busy error names it; default "The directory". */
  what?: string
}

/** What a holder writes into the lock file, so that others can tell whether it is still alive. */
interface Holder {
  acquiredAt: number
  hostname: string
  pid: number
  token: string
}

/** The lock file as found: its raw text (empty or not ours if an older version left it), and when it was made. */
interface Found {
  holder?: Holder
  ino: number
  mtimeMs: number
  raw: string
}

export type Release = () => Promise<void>

/**
 * How old an empty or unreadable lock file must be before it counts as abandoned. This version never
 * shows such a file (see `tryCreate`); older versions created the lock first and wrote its holder a
 * moment later, and a writer killed in between left it empty. That moment is microseconds, so a lock
 * still empty after this grace belongs to no one alive, and waiting the full `staleMs` would only
 * fail every write meanwhile.
 */
export const UNNAMED_LOCK_GRACE_MS = 2000

/** `.lock.<pid>.<token>.candidate`: a lock being prepared; the pid says whether its maker still runs. */
const CANDIDATE = /^(.+)\.(\d+)\.[0-9a-f]{16}\.candidate$/

/**
 * A directory-wide lock file that always names its holder. The holder record is written to a
 * private candidate file first and then hard-linked to `path`: link() fails with EEXIST if `path`
 * exists, which is the mutual exclusion, and the file appears with its whole content in one step,
 * so no crash can leave a lock that does not say whose it is. A holder that crashed leaves the file
 * behind, so a lock counts as abandoned when its process is gone (same host, pid not running, known
 * at once) or when it is older than `staleMs` (another host, or a pid since reused).
 *
 * Breaking an abandoned lock is itself guarded by a second O_EXCL file: without it two waiters could
 * both judge the same lock stale, and the slower one would delete the lock the faster one had just
 * taken. Under the breaker, the lock is re-read and only removed if it is still the one judged stale.
 */
export class DirectoryLock {
  /** How many abandoned locks this process has broken: each one means a writer died mid-way. */
  abandonedLocksBroken = 0
  private readonly breakerPath: string
  /** `abandonedLocksBroken` when candidates of dead processes were last swept; -1 before the first time. */
  private candidatesSweptAt = -1

  constructor(
    readonly path: string,
    private readonly options: DirectoryLockOptions,
  ) {
    this.breakerPath = `${path}.break`
  }

  /** Waits (short, growing pauses) until the lock is ours; STORAGE_BUSY after `timeoutMs`. */
  async acquire(): Promise<Release> {
    const started = Date.now()
    let pause = 2
    for (;;) {
      const release = await this.tryCreate()
      if (release) {
        if (this.candidatesSweptAt !== this.abandonedLocksBroken) await this.sweepCandidates()
        return release
      }
      if (await this.breakIfAbandoned()) continue
      const left = started + this.options.timeoutMs - Date.now()
      if (left <= 0) throw await this.busyError()
      // Jitter keeps two waiters from retrying in lockstep.
      await sleep(Math.min(left, pause + Math.random() * pause))
      pause = Math.min(pause * 2, 50)
    }
  }

  /** The lock if it is free right now, else undefined; never waits and never breaks a lock. */
  async tryAcquire(): Promise<Release | undefined> {
    return this.tryCreate()
  }

  private async breakIfAbandoned(): Promise<boolean> {
    const found = await this.read()
    if (!found) return true
    if (!this.isAbandoned(found)) return false
    let breaker: FileHandle
    try {
      breaker = await open(this.breakerPath, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw describeFsError(error, this.breakerPath)
      // A breaker that crashed mid-break would block everyone; it is abandoned after the grace (it
      // is held for the few microseconds of a re-read and an unlink).
      const breakerAge = await ageOf(this.breakerPath)
      if (breakerAge !== undefined && breakerAge > UNNAMED_LOCK_GRACE_MS) await unlinkIfPresent(this.breakerPath)
      return false
    }
    try {
      await breaker.close()
      const again = await this.read()
      if (again && again.raw === found.raw && again.ino === found.ino) {
        await unlinkIfPresent(this.path)
        this.abandonedLocksBroken++
      }
      return true
    } finally {
      await unlinkIfPresent(this.breakerPath)
    }
  }

  private async busyError(): Promise<SynapseError> {
    const found = await this.read()
    const who = found?.holder ? `synapse process ${found.holder.pid} on ${found.holder.hostname}` : 'another synapse process'
    return new SynapseError('STORAGE_BUSY', `${this.options.what ?? 'The directory'} is locked by ${who}; gave up after ${this.options.timeoutMs / 1000} s.`, {
      suggestions: [`Try again; if no synapse is running, delete the lock file ${this.path}.`],
    })
  }

  private isAbandoned(found: Found): boolean {
    if (!found.holder) return Date.now() - found.mtimeMs > Math.min(UNNAMED_LOCK_GRACE_MS, this.options.staleMs)
    if (Date.now() - found.holder.acquiredAt > this.options.staleMs) return true
    return found.holder.hostname === hostname() && !isRunning(found.holder.pid)
  }

  private async read(): Promise<Found | undefined> {
    try {
      const handle = await open(this.path, 'r')
      try {
        const {ino, mtimeMs} = await handle.stat()
        const raw = await handle.readFile('utf8')
        return {holder: parseHolder(raw), ino, mtimeMs, raw}
      } finally {
        await handle.close()
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw describeFsError(error, this.path)
    }
  }

  /**
   * Removes the candidates of processes that died between writing one and linking it (a kill at that
   * moment). Swept at a process's first lock and after each abandoned lock it broke, when such
   * leftovers are likely; one of a live process is left alone.
   */
  private async sweepCandidates(): Promise<void> {
    this.candidatesSweptAt = this.abandonedLocksBroken
    const dir = dirname(this.path)
    const lockName = basename(this.path)
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      return
    }
    for (const name of names) {
      const match = CANDIDATE.exec(name)
      if (!match || match[1] !== lockName) continue
      const pid = Number(match[2])
      if (pid === process.pid || isRunning(pid)) continue
      await unlink(join(dir, name)).catch(() => undefined)
    }
  }

  private async tryCreate(): Promise<Release | undefined> {
    const holder: Holder = {acquiredAt: Date.now(), hostname: hostname(), pid: process.pid, token: randomBytes(8).toString('hex')}
    const text = `${JSON.stringify(holder)}\n`
    const candidate = `${this.path}.${process.pid}.${holder.token}.candidate`
    // Deletes the lock only while it is still ours: if it was broken as abandoned and taken by
    // another process, that process's lock stays.
    const release = async () => {
      const found = await this.read()
      if (found?.raw === text) await unlinkIfPresent(this.path)
    }
    try {
      await writeWhole(candidate, text)
      try {
        await link(candidate, this.path)
        return release
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EEXIST') return undefined
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')
          return (await this.tryCreateWithoutLinks(text)) ? release : undefined
        throw error
      }
    } catch (error) {
      // ENOSPC and the like: no lock was taken, and the error names the disk, not a bug.
      throw describeFsError(error, this.path)
    } finally {
      await unlink(candidate).catch(() => undefined)
    }
  }

  /**
   * For file systems without hard links (FAT, some network mounts): create with O_EXCL, then write.
   * A kill in between leaves an empty lock, which others take over after UNNAMED_LOCK_GRACE_MS.
   */
  private async tryCreateWithoutLinks(text: string): Promise<boolean> {
    let handle: FileHandle
    try {
      handle = await open(this.path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw error
    }
    try {
      await handle.writeFile(text, 'utf8')
      await handle.close()
      return true
    } catch (error) {
      await handle.close().catch(() => undefined)
      await unlink(this.path).catch(() => undefined)
      throw error
    }
  }
}

/** Writes a new private file whole, or removes it and throws. */
async function writeWhole(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(text, 'utf8')
  } finally {
    await handle.close()
  }
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Holder>
    if (Number.isInteger(value.pid) && typeof value.hostname === 'string' && Number.isFinite(value.acquiredAt) && typeof value.token === 'string') {
      return value as Holder
    }
  } catch {
    // Empty (left by an older version, or by a file system without links) or not ours: only its age counts.
  }
  return undefined
}

/** Signal 0 tests for existence; EPERM means it exists but belongs to someone else. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function ageOf(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs
  } catch {
    return undefined
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeFsError(error, path)
  }
}
