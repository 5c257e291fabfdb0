import {expect} from 'chai'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {LockedDirectory} from '../../src/core/locked-directory.js'
import {finished, startWorker} from '../../src/testing/synapse-process.js'

const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url))

/** A worker, with its stdout gathered: what it says is what happened. */
function spawnWorker(script: string, args: string[]) {
  const child = startWorker(join(FIXTURES, script), args)
  let stdout = ''
  child.stdout!.on('data', chunk => (stdout += chunk))
  return {child, done: finished(child).then(end => ({...end, stdout}))}
}

/** Runs a fault worker until it says it paused, then SIGKILLs it there. */
async function killWhenPaused(script: string, args: string[]): Promise<void> {
  const {child, done} = spawnWorker(script, args)
  await new Promise(resolve => child.stdout!.once('data', resolve))
  child.kill('SIGKILL')
  expect((await done).signal).to.equal('SIGKILL')
}

describe('LockedDirectory', () => {
  let dir: string
  const open = () => new LockedDirectory(dir, {lockFile: '.lock', staleMs: 30_000, timeoutMs: 5000})
  /** Every file and its text: what a reader of the directory sees. */
  const files = () =>
    Object.fromEntries(
      readdirSync(dir)
        .sort()
        .map(name => [name, readFileSync(join(dir, name), 'utf8')]),
    )

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synapse-locked-'))
    writeFileSync(join(dir, 'a.txt'), 'old a')
    writeFileSync(join(dir, 'b.txt'), 'old b')
  })
  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  it('writes several files all or nothing, leaving no journal, backup or temporary file', async () => {
    const directory = open()
    await directory.exclusive(() =>
      directory.writeFiles([
        {name: 'a.txt', text: 'new a'},
        {name: 'c.txt', text: 'new c'},
      ]),
    )
    expect(files()).to.deep.equal({'a.txt': 'new a', 'b.txt': 'old b', 'c.txt': 'new c'})
  })

  it('deletes files all or nothing and reports the ones that existed', async () => {
    const directory = open()
    expect(await directory.exclusive(() => directory.deleteFiles(['a.txt', 'missing.txt']))).to.deep.equal(['a.txt'])
    expect(files()).to.deep.equal({'b.txt': 'old b'})
  })

  it('puts everything back when a rename fails part-way: the directory is as it was', async function () {
    this.timeout(30_000)
    const before = files()
    const {done} = spawnWorker('batch-fault-worker.ts', [dir, 'eio'])
    expect(await done).to.deep.equal({code: 0, signal: null, stderr: '', stdout: `STORAGE_UNAVAILABLE: Cannot use ${dir} (EIO).\n`})
    expect(files()).to.deep.equal(before)
  })

  it('finishes a batch whose writer was SIGKILLed among the renames, from its journal, at the next write', async function () {
    this.timeout(30_000)
    await killWhenPaused('batch-fault-worker.ts', [dir, 'pause'])
    // Decided (the journal exists) and half done: a.txt renamed, c.txt still a temporary file.
    const journals = readdirSync(dir).filter(name => /^\.batch\.[0-9a-f]{12}\.journal$/.test(name))
    expect(journals).to.have.length(1)
    const {renames} = JSON.parse(readFileSync(join(dir, journals[0]), 'utf8')) as {renames: Array<{from: string; to: string}>}
    expect(renames.map(r => r.to)).to.deep.equal(['a.txt', 'c.txt'])
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).to.equal('new a')

    const directory = open()
    await directory.exclusive(() => directory.writeFile('d.txt', 'the next write'))
    expect(files()).to.deep.equal({'a.txt': 'new a', 'b.txt': 'old b', 'c.txt': 'new c', 'd.txt': 'the next write'})
  })

  it('deletes nothing when a deletion is SIGKILLed among its renames to trash: the next write puts the files back', async function () {
    this.timeout(30_000)
    await killWhenPaused('delete-fault-worker.ts', [dir, 'renaming'])
    // Undecided and half done: a.txt already trash, b.txt still in place.
    expect(readdirSync(dir).filter(name => name.endsWith('.deleted'))).to.have.length(1)
    expect(readdirSync(dir)).to.include('b.txt').and.not.include('a.txt')

    const directory = open()
    await directory.exclusive(() => directory.writeFile('d.txt', 'the next write'))
    expect(files()).to.deep.equal({'a.txt': 'old a', 'b.txt': 'old b', 'd.txt': 'the next write'})
  })

  it('finishes a deletion SIGKILLed after its journal was written, at the next write', async function () {
    this.timeout(30_000)
    await killWhenPaused('delete-fault-worker.ts', [dir, 'decided'])
    expect(readdirSync(dir).filter(name => name.endsWith('.deleted'))).to.have.length(2)

    const directory = open()
    await directory.exclusive(() => directory.writeFile('d.txt', 'the next write'))
    expect(files()).to.deep.equal({'d.txt': 'the next write'})
  })

  it('queues this process’s writers: work runs one at a time, in order, and work queued before close still runs', async () => {
    const directory = open()
    const order: number[] = []
    let running = 0
    const work = (n: number) =>
      directory.exclusive(async () => {
        running++
        expect(running).to.equal(1)
        await new Promise(resolve => setTimeout(resolve, 5))
        order.push(n)
        running--
      })
    const queued = [work(1), work(2), work(3)]
    await directory.close()
    expect(order).to.deep.equal([1, 2, 3])
    await Promise.all(queued)
    expect(readdirSync(dir).filter(name => name.startsWith('.'))).to.deep.equal([])
  })
})
