import {randomBytes} from 'node:crypto'
import {open, stat, unlink} from 'node:fs/promises'
import {hostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'

import {SynapseError} from 'synapse-cli'

import {describeFsError} from './fs-errors.js'

export interface DirectoryLockOptions {
  /** How long `acquire` waits for another holder before STORAGE_BUSY. */
  timeoutMs: number
  /** A lock this old is abandoned whoever holds it: no operation of the store takes that long. */
  staleMs: number
}

/** What a holder writes into the lock file, so that others can tell whether it is still alive. */
interface Holder {
  acquiredAt: number
  hostname: string
  pid: number
  token: string
}

/** The lock file as found: its raw text (possibly empty: a holder between create and write), and when it was made. */
interface Found {
  holder?: Holder
  ino: number
  mtimeMs: number
  raw: string
}

export type Release = () => Promise<void>

/**
 * A lock file made with O_EXCL ("wx"), the one primitive that is atomic on every local file system:
 * whoever creates `path` holds the lock until they delete it. A holder that crashed leaves the file
 * behind, so a lock counts as abandoned when its process is gone (same host, pid not running) or when
 * it is older than `staleMs` (another host, or a pid since reused).
 *
 * Breaking an abandoned lock is itself guarded by a second O_EXCL file: without it two waiters could
 * both judge the same lock stale, and the slower one would delete the lock the faster one had just
 * taken. Under the breaker, the lock is re-read and only removed if it is still the one judged stale.
 */
export class DirectoryLock {
  /** How many abandoned locks this process has broken: each one means a writer died mid-way. */
  abandonedLocksBroken = 0
  private readonly breakerPath: string

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
      if (release) return release
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
    let breaker
    try {
      breaker = await open(this.breakerPath, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw describeFsError(error, this.breakerPath)
      // A breaker that crashed mid-break would block everyone; it is abandoned after the same delay.
      const breakerAge = await ageOf(this.breakerPath)
      if (breakerAge !== undefined && breakerAge > this.options.staleMs) await unlinkIfPresent(this.breakerPath)
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
    return new SynapseError('STORAGE_BUSY', `The session directory is locked by ${who}; gave up after ${this.options.timeoutMs / 1000} s.`, {
      suggestions: [`Try again; if no synapse is running, delete the lock file ${this.path}.`],
    })
  }

  private isAbandoned(found: Found): boolean {
    const age = Date.now() - (found.holder?.acquiredAt ?? found.mtimeMs)
    if (age > this.options.staleMs) return true
    return found.holder !== undefined && found.holder.hostname === hostname() && !isRunning(found.holder.pid)
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

  private async tryCreate(): Promise<Release | undefined> {
    const holder: Holder = {acquiredAt: Date.now(), hostname: hostname(), pid: process.pid, token: randomBytes(8).toString('hex')}
    const text = `${JSON.stringify(holder)}\n`
    let handle
    try {
      handle = await open(this.path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined
      throw describeFsError(error, this.path)
    }
    try {
      await handle.writeFile(text, 'utf8')
    } finally {
      await handle.close()
    }
    // Deletes the lock only while it is still ours: if it was broken as abandoned and taken by
    // another process, that process's lock stays.
    return async () => {
      const found = await this.read()
      if (found?.raw === text) await unlinkIfPresent(this.path)
    }
  }
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Holder>
    if (Number.isInteger(value.pid) && typeof value.hostname === 'string' && Number.isFinite(value.acquiredAt) && typeof value.token === 'string') {
      return value as Holder
    }
  } catch {
    // Empty (a holder between creating and writing the file) or not ours: only its age counts.
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
