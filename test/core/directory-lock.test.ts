import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, watch, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {DirectoryLock, type DirectoryLockOptions, UNNAMED_LOCK_GRACE_MS} from '../../src/core/directory-lock.js'
import {SynapseError} from '../../src/core/errors.js'
import {LockedDirectory} from '../../src/core/locked-directory.js'
import {finished, startWorker} from '../../src/testing/synapse-process.js'

const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url))

/** The pid of a process that has exited: nothing runs under it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'])
  await new Promise(resolve => child.on('close', resolve))
  return child.pid!
}

const spawnWorker = (script: string, args: string[]) => startWorker(join(FIXTURES, script), args)

async function busy(promise: Promise<unknown>): Promise<SynapseError> {
  try {
    await promise
  } catch (error) {
    expect(error instanceof SynapseError, String(error)).to.equal(true)
    expect((error as SynapseError).code).to.equal('STORAGE_BUSY')
    return error as SynapseError
  }
  expect.fail('took a lock another holder has')
}

describe('DirectoryLock', () => {
  let dir: string
  let path: string
  const lockOf = (options: Partial<DirectoryLockOptions> = {}) =>
    new DirectoryLock(path, {staleMs: 30_000, timeoutMs: 5000, what: 'The session directory', ...options})
  const writeLock = (holder: {acquiredAt: number; hostname: string; pid: number}) =>
    writeFileSync(path, JSON.stringify({...holder, token: 'feedfacefeedface'}), {mode: 0o600})

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synapse-lock-'))
    path = join(dir, '.lock')
  })
  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  it('names its holder from the moment it exists: a private candidate, hard-linked into place and removed', async () => {
    const before = Date.now()
    const release = await lockOf().acquire()
    const holder = JSON.parse(readFileSync(path, 'utf8'))
    expect(holder).to.deep.include({hostname: hostname(), pid: process.pid})
    expect(holder.token).to.match(/^[0-9a-f]{16}$/)
    expect(holder.acquiredAt).to.be.within(before, Date.now())
    // Only the lock is left, no longer linked to its candidate, and private.
    expect(readdirSync(dir)).to.deep.equal(['.lock'])
    expect(statSync(path).nlink).to.equal(1)
    expect(statSync(path).mode & 0o777).to.equal(0o600)
    expect(await lockOf().tryAcquire()).to.equal(undefined)
    await release()
    expect(readdirSync(dir)).to.deep.equal([])
    const again = await lockOf().tryAcquire()
    expect(again).to.be.a('function')
    await again!()
  })

  it('releases only its own lock: one broken as abandoned and taken by another holder stays', async () => {
    const release = await lockOf().acquire()
    writeLock({acquiredAt: Date.now(), hostname: hostname(), pid: process.pid})
    await release()
    expect(JSON.parse(readFileSync(path, 'utf8')).token).to.equal('feedfacefeedface')
  })

  it('recovers a lock left by a process that is gone', async () => {
    writeLock({acquiredAt: Date.now(), hostname: hostname(), pid: await deadPid()})
    // Taken over at once: a lock that would otherwise wait out the stale limit (far beyond this test's timeout) gets it.
    const lock = lockOf({staleMs: 10 * 60_000, timeoutMs: 10 * 60_000})
    const release = await lock.acquire()
    expect(lock.abandonedLocksBroken).to.equal(1)
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).to.equal(process.pid)
    await release()
    expect(existsSync(path)).to.equal(false)
  })

  it('recovers a lock older than the stale limit, even if its pid runs (reused) or is on another host', async () => {
    const lock = lockOf()
    for (const holder of [
      {acquiredAt: Date.now() - 31_000, hostname: hostname(), pid: process.pid},
      {acquiredAt: Date.now() - 31_000, hostname: 'elsewhere.example', pid: 1},
    ]) {
      writeLock(holder)
      await (await lock.acquire())()
    }
    // A lock file cut short before its holder wrote it: only its age counts.
    writeFileSync(path, '')
    const old = (Date.now() - 31_000) / 1000
    utimesSync(path, old, old)
    await (await lock.acquire())()
    expect(lock.abandonedLocksBroken).to.equal(3)
    expect(existsSync(path)).to.equal(false)
  })

  it('takes over an empty lock an older version left after a short grace, not after the stale limit', async () => {
    const impatient = lockOf({timeoutMs: 300})
    // Fresh: an older version may be between creating and writing it.
    writeFileSync(path, '')
    await busy(impatient.acquire())
    const graceAgo = (Date.now() - UNNAMED_LOCK_GRACE_MS - 500) / 1000
    utimesSync(path, graceAgo, graceAgo)
    // Past the grace it is taken over at once: a lock that would otherwise wait out the stale limit
    // (far beyond this test's timeout) gets it.
    const release = await lockOf({staleMs: 10 * 60_000, timeoutMs: 10 * 60_000}).acquire()
    await release()
    expect(existsSync(path)).to.equal(false)
  })

  it('gives STORAGE_BUSY after the configured timeout while a live process holds the lock, and leaves it alone', async () => {
    const impatient = lockOf({timeoutMs: 200})
    for (const holder of [
      {acquiredAt: Date.now(), hostname: hostname(), pid: process.pid},
      // On another host the pid cannot be checked: only age makes such a lock stale.
      {acquiredAt: Date.now(), hostname: 'elsewhere.example', pid: await deadPid()},
    ]) {
      writeLock(holder)
      const started = Date.now()
      const error = await busy(impatient.acquire())
      // acquire gives up only once its own clock (this one) says the timeout has passed.
      expect(Date.now() - started, 'waited the whole timeout').to.be.at.least(200)
      expect(error.message).to.equal(`The session directory is locked by synapse process ${holder.pid} on ${holder.hostname}; gave up after 0.2 s.`)
      expect(error.message).not.to.contain('\n')
      expect(error.suggestions).to.deep.equal([`Try again; if no synapse is running, delete the lock file ${path}.`])
      expect(JSON.parse(readFileSync(path, 'utf8'))).to.deep.include({pid: holder.pid})
    }
    rmSync(path)
    await (await impatient.acquire())()
  })

  it('waits for a live holder, trying again, and takes the lock once the holder lets go', async () => {
    writeLock({acquiredAt: Date.now(), hostname: hostname(), pid: process.pid})
    // Each try writes a candidate file of its own: the directory shows every attempt.
    const candidates = new Set<string>()
    let tried!: () => void
    const triedThrice = new Promise<string>(resolve => (tried = () => resolve('tried three times')))
    const watcher = watch(dir, (_event, name) => {
      if (name?.endsWith('.candidate') && candidates.add(name).size === 3) tried()
    })
    try {
      const waiting = lockOf({timeoutMs: 10 * 60_000}).acquire()
      const settled = waiting.then(
        () => 'took it',
        (error: unknown) => `failed: ${error}`,
      )
      expect(await Promise.race([triedThrice, settled]), 'still waiting while the holder holds it').to.equal('tried three times')
      rmSync(path)
      const release = await waiting
      expect(JSON.parse(readFileSync(path, 'utf8')))
        .to.deep.include({pid: process.pid})
        .and.not.include({token: 'feedfacefeedface'})
      await release()
    } finally {
      watcher.close()
    }
  })

  it('takes over at once from a writer SIGKILLed at any step of taking the lock or writing', async function () {
    this.timeout(60_000)
    writeFileSync(join(dir, 'data.txt'), 'before')
    for (const step of ['before-link', 'after-link', 'mid-write']) {
      const worker = spawnWorker('lock-pause-worker.ts', [dir, 'data.txt', step])
      const done = finished(worker)
      const said = await new Promise<string>(resolve => worker.stdout!.once('data', chunk => resolve(String(chunk))))
      expect(said, step).to.equal('paused\n')
      worker.kill('SIGKILL')
      expect((await done).signal).to.equal('SIGKILL')
      const left = readdirSync(dir).filter(name => name.startsWith('.lock'))
      if (step === 'before-link') {
        // The lock never appeared: only the dead worker's candidate is left.
        expect(left).to.have.length(1)
        expect(left[0]).to.match(new RegExp(`^\\.lock\\.${worker.pid}\\.[0-9a-f]{16}\\.candidate$`))
      } else {
        // The lock names the dead worker from the moment it exists.
        expect(JSON.parse(readFileSync(path, 'utf8'))).to.deep.include({hostname: hostname(), pid: worker.pid})
      }

      // Taken over at once: a writer that would otherwise wait out the stale limit (far beyond this test's timeout) gets through.
      const directory = new LockedDirectory(dir, {lockFile: '.lock', staleMs: 10 * 60_000, timeoutMs: 10 * 60_000})
      await directory.exclusive(() => directory.writeFile('data.txt', `after ${step}`))
      // Lock, candidate and temporary file of the dead worker are gone; its write never landed.
      expect(readdirSync(dir), step).to.deep.equal(['data.txt'])
      expect(readFileSync(join(dir, 'data.txt'), 'utf8'), step).to.equal(`after ${step}`)
    }
  })
})
