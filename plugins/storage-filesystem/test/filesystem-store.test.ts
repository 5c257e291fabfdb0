import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {newId, type SessionStore, SynapseError} from 'synapse-cli'
import {finished, ManualClock, sessionRecord, startWorker} from 'synapse-cli/testing'

import {filesystemBackend} from '../src/backend.js'
import {INDEX_FILE, LOCK_FILE, openFilesystemStore} from '../src/filesystem-store.js'
import storageHook from '../src/hooks/storage.js'
import {directoryOf} from '../src/url.js'

const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url))

function mode(path: string): number {
  return statSync(path).mode & 0o777
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<SynapseError> {
  try {
    await promise
  } catch (error) {
    expect(error instanceof SynapseError, String(error)).to.equal(true)
    expect((error as SynapseError).code, (error as Error).message).to.equal(code)
    return error as SynapseError
  }
  expect.fail(`expected a ${code} error, but the call succeeded`)
}

const spawnWorker = (script: string, args: string[]) => startWorker(join(FIXTURES, script), args)

function writeLock(dir: string, holder: {acquiredAt: number; hostname: string; pid: number}): void {
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({...holder, token: 'feedfacefeedface'}), {mode: 0o600})
}

describe('filesystem store: files', () => {
  let root: string
  let dir: string
  let store: SessionStore
  let clock: ManualClock

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'synapse-fs-'))
    dir = join(root, 'data', 'sessions')
    clock = new ManualClock()
    store = await openFilesystemStore({clock: clock.now, dir})
  })

  afterEach(async () => {
    await store.close()
    rmSync(root, {force: true, recursive: true})
  })

  describe('modes', () => {
    it('creates the directory and its missing parents 0700, session and index files 0600', async () => {
      expect(mode(join(root, 'data'))).to.equal(0o700)
      expect(mode(dir)).to.equal(0o700)
      const session = await store.create()
      await store.append(session.id, [{content: 'secret', role: 'user'}])
      await store.list()
      expect(mode(join(dir, `${session.id}.json`))).to.equal(0o600)
      expect(mode(join(dir, INDEX_FILE))).to.equal(0o600)
      expect(readdirSync(dir).sort()).to.deep.equal([INDEX_FILE, `${session.id}.json`])
    })

    it('tightens a session file that others could read, on reading it or listing', async () => {
      const a = await store.create()
      const b = await store.create()
      chmodSync(join(dir, `${a.id}.json`), 0o644)
      chmodSync(join(dir, `${b.id}.json`), 0o666)
      await store.get(a.id)
      expect(mode(join(dir, `${a.id}.json`))).to.equal(0o600)
      expect(mode(join(dir, `${b.id}.json`))).to.equal(0o666)
      const reopened = await openFilesystemStore({dir})
      expect(await reopened.count()).to.equal(2)
      await reopened.list()
      expect(mode(join(dir, `${b.id}.json`))).to.equal(0o600)
      await reopened.close()
    })

    it('refuses a directory path that is a file, saying so', async () => {
      const blocker = join(root, 'blocker')
      writeFileSync(blocker, '')
      const error = await expectCode(openFilesystemStore({dir: blocker}), 'STORAGE_UNAVAILABLE')
      expect(error.message).to.equal(`Cannot create the session directory ${blocker} (a file is in the way).`)
      await expectCode(openFilesystemStore({dir: join(blocker, 'sub')}), 'STORAGE_UNAVAILABLE')
    })
  })

  describe('format', () => {
    it('writes readable, pretty-printed JSON of the documented shape, ISO timestamps in it', async () => {
      const session = await store.create({
        id: '01JC0000000000000000000000',
        metadata: {tenant: 'acme'},
        model: 'm',
        provider: 'p',
        systemPrompt: 'Be brief.',
        title: 'Ünïcödé',
      })
      clock.advance(1500)
      const [question, answer] = await store.append(session.id, [
        {content: 'Hello?', role: 'user'},
        {
          content: 'Hi.',
          durationMs: 12,
          finishReason: 'stop',
          inputTokens: 3,
          metadata: {raw: [1]},
          model: 'm',
          outputTokens: 2,
          provider: 'p',
          role: 'assistant',
        },
      ])
      const text = readFileSync(join(dir, '01JC0000000000000000000000.json'), 'utf8')
      // The record codec's form, that of an export: the format version first, then the keys in byte order.
      expect(text.startsWith('{\n  "version": 4,\n  "createdAt": "2026-01-01T00:00:00.000Z",\n  "id": "01JC0000000000000000000000",\n')).to.equal(true)
      expect(text.endsWith('\n}\n')).to.equal(true)
      const common = {
        cachedInputTokens: null,
        costSource: null,
        costUsd: null,
        durationMs: null,
        finishReason: null,
        inputTokens: null,
        metadata: {},
        model: null,
        outputTokens: null,
        provider: null,
        hiddenAt: null,
        replyTo: null,
        status: 'complete',
        supersededBy: null,
        tokenSource: null,
      }
      expect(JSON.parse(text)).to.deep.equal({
        messages: [
          {...common, content: 'Hello?', createdAt: '2026-01-01T00:00:01.500Z', id: question.id, position: 0, role: 'user'},
          {
            ...common,
            content: 'Hi.',
            createdAt: '2026-01-01T00:00:01.500Z',
            durationMs: 12,
            finishReason: 'stop',
            id: answer.id,
            inputTokens: 3,
            metadata: {raw: [1]},
            model: 'm',
            outputTokens: 2,
            position: 1,
            provider: 'p',
            role: 'assistant',
          },
        ],
        createdAt: '2026-01-01T00:00:00.000Z',
        id: '01JC0000000000000000000000',
        kept: false,
        metadata: {tenant: 'acme'},
        model: 'm',
        parentId: null,
        parentPosition: null,
        provider: 'p',
        systemPrompt: 'Be brief.',
        title: 'Ünïcödé',
        updatedAt: '2026-01-01T00:00:01.500Z',
        version: 4,
      })
      // Dates in the API, whatever the file holds.
      expect((await store.messages(session.id))[1].createdAt).to.deep.equal(new Date('2026-01-01T00:00:01.500Z'))
    })

    it('reads a file a person wrote by hand, with the optional fields left out', async () => {
      writeFileSync(
        join(dir, '01JD0000000000000000000000.json'),
        JSON.stringify({
          messages: [{content: 'Hand-written', createdAt: '2025-05-05T05:05:05Z', id: '01JD0000000000000000000001', position: 0, role: 'user'}],
          session: {createdAt: '2025-05-05T05:05:05Z', id: '01JD0000000000000000000000', updatedAt: '2025-05-05T05:05:05Z'},
          version: 1,
        }),
      )
      expect(await store.get('01JD')).to.deep.equal(sessionRecord({createdAt: new Date('2025-05-05T05:05:05Z'), id: '01JD0000000000000000000000'}))
      expect((await store.list())[0]).to.deep.include({messageCount: 1, preview: 'Hand-written'})
      const [next] = await store.append('01JD0000000000000000000000', [{content: 'more', role: 'assistant'}])
      expect(next.position).to.equal(1)
    })

    it('names a damaged file and what is wrong with it, and leaves it alone', async () => {
      const path = join(dir, '01JE0000000000000000000000.json')
      writeFileSync(path, '{"version": 1, "session": ')
      const error = await expectCode(store.get('01JE0000000000000000000000'), 'STORAGE_UNAVAILABLE')
      expect(error.message).to.match(/^The session file .*01JE0000000000000000000000\.json cannot be read: it is not valid JSON \(.+\)\.$/)
      expect(error.suggestions).to.deep.equal(['Correct the file by hand, or move it out of the session directory (it holds one session).'])
      await expectCode(store.append('01JE0000000000000000000000', [{content: 'x', role: 'user'}]), 'STORAGE_UNAVAILABLE')
      expect(readFileSync(path, 'utf8')).to.equal('{"version": 1, "session": ')

      writeFileSync(
        path,
        JSON.stringify({
          messages: [],
          session: {createdAt: '2025-01-01T00:00:00Z', id: '01JF0000000000000000000000', updatedAt: '2025-01-01T00:00:00Z'},
          version: 1,
        }),
      )
      const renamed = await expectCode(store.messages('01JE0000000000000000000000'), 'STORAGE_UNAVAILABLE')
      expect(renamed.message).to.contain('it holds session 01JF0000000000000000000000, but its name says 01JE0000000000000000000000')
      writeFileSync(path, JSON.stringify({messages: [], session: {}, version: 5}))
      const newer = await expectCode(store.messages('01JE0000000000000000000000'), 'STORAGE_UNAVAILABLE')
      expect(newer.message).to.contain('its format version is 5, and this synapse reads versions 1 to 4')
    })
  })

  describe('ids that could escape the directory', () => {
    const hostile = [
      '../x',
      '/etc/passwd',
      'a\u0000b',
      '..%2F',
      '..%2F..%2Fetc%2Fpasswd',
      `../${'0'.repeat(26)}`,
      '01JC000000000000000000000/',
      '01jc0000000000000000000000',
    ]

    it('are not found, for every method that takes an id, and touch no file', async () => {
      writeFileSync(join(root, 'x.json'), 'outside')
      for (const id of hostile) {
        await expectCode(store.get(id), 'SESSION_NOT_FOUND')
        await expectCode(store.messages(id), 'SESSION_NOT_FOUND')
        await expectCode(store.append(id, [{content: 'x', role: 'user'}]), 'SESSION_NOT_FOUND')
        await expectCode(store.update(id, {title: 'x'}), 'SESSION_NOT_FOUND')
        await expectCode(store.clear(id), 'SESSION_NOT_FOUND')
        await expectCode(store.updateMessage(id, '01JC0000000000000000000000', {status: 'error'}), 'SESSION_NOT_FOUND')
      }
      expect(await store.delete(hostile)).to.equal(0)
      expect(readFileSync(join(root, 'x.json'), 'utf8')).to.equal('outside')
      expect(readdirSync(root).sort()).to.deep.equal(['data', 'x.json'])
      expect(readdirSync(dir)).to.deep.equal([])
      // A message id names no file, but it is refused as firmly inside a real session.
      const real = await store.create()
      for (const id of hostile) await expectCode(store.updateMessage(real.id, id, {status: 'error'}), 'MESSAGE_NOT_FOUND')
      expect(readFileSync(join(root, 'x.json'), 'utf8')).to.equal('outside')
      expect(readdirSync(root).sort()).to.deep.equal(['data', 'x.json'])
    })

    it('are invalid input where the caller chooses the id: create and restore', async () => {
      for (const id of hostile) {
        const created = await expectCode(store.create({id}), 'INVALID_INPUT')
        expect(created.message).to.equal(`The session id ${JSON.stringify(id)} is not a ULID (26 characters of Crockford base32, upper case).`)
        await expectCode(store.restore({messages: [], session: sessionRecord({id})}), 'INVALID_INPUT')
      }
      expect(readdirSync(root)).to.deep.equal(['data'])
      expect(readdirSync(dir)).to.deep.equal([])
    })
  })

  describe('atomic writes', () => {
    it('ignores the temporary and trash files a crash left; the next write removes the temporary and puts back trash no journal decided', async () => {
      const session = await store.create({title: 'kept'})
      const path = join(dir, `${session.id}.json`)
      const before = readFileSync(path, 'utf8')
      const temporary = join(dir, `.${session.id}.json.4242.0123456789ab.tmp`)
      const trash = join(dir, `.01JG0000000000000000000000.json.4242.ba9876543210.deleted`)
      writeFileSync(temporary, before.slice(0, 40), {mode: 0o600})
      const trashed = before.replaceAll(session.id, '01JG0000000000000000000000')
      writeFileSync(trash, trashed, {mode: 0o600})

      const reopened = await openFilesystemStore({dir})
      expect(await reopened.count()).to.equal(1)
      expect((await reopened.list()).map(s => [s.id, s.title])).to.deep.equal([[session.id, 'kept']])
      await expectCode(reopened.get('01JG0000000000000000000000'), 'SESSION_NOT_FOUND')
      expect(existsSync(temporary)).to.equal(true)

      await reopened.append(session.id, [{content: 'after the crash', role: 'user'}])
      expect(existsSync(temporary)).to.equal(false)
      expect(existsSync(trash)).to.equal(false)
      // A deletion cut short before its journal was written deleted nothing.
      expect(readdirSync(dir).sort()).to.deep.equal([INDEX_FILE, '01JG0000000000000000000000.json', `${session.id}.json`])
      expect(readFileSync(join(dir, '01JG0000000000000000000000.json'), 'utf8')).to.equal(trashed)
      expect((await reopened.get('01JG0000000000000000000000')).title).to.equal('kept')
      expect((await reopened.messages(session.id)).map(m => m.content)).to.deep.equal(['after the crash'])
      await reopened.close()
    })

    it('never shows a partial file, to readers while writing or after the writer is killed mid-write', async function () {
      this.timeout(60_000)
      const session = await store.create({title: 'crash'})
      const path = join(dir, `${session.id}.json`)
      const worker = spawnWorker('crash-worker.ts', [dir, session.id])
      const done = finished(worker)
      await new Promise<void>(resolve => worker.stdout!.once('data', () => resolve()))
      // Read the file as fast as possible while the worker rewrites it, until the reads have seen it
      // rewritten five times under them; every read must parse whole.
      const versionsSeen = new Set<number>()
      while (versionsSeen.size < 5) {
        if (worker.exitCode !== null) expect.fail(`the writer stopped: ${(await done).stderr}`)
        const file = JSON.parse(readFileSync(path, 'utf8')) as {messages: Array<{position: number}>}
        expect(file.messages.map(m => m.position)).to.deep.equal(file.messages.map((_, i) => i))
        versionsSeen.add(file.messages.length)
        await new Promise(resolve => setImmediate(resolve))
      }
      worker.kill('SIGKILL')
      expect((await done).signal).to.equal('SIGKILL')

      // Whatever the kill interrupted, the file is whole, and its last message is whole too.
      const messages = await store.messages(session.id)
      expect(messages.length).to.be.greaterThan(1)
      expect(messages.map(m => m.position)).to.deep.equal(messages.map((_, i) => i))
      expect(messages.map(m => m.content)).to.deep.equal(messages.map((_, i) => `${i}:${'y'.repeat(256 * 1024)}`))
      // The killed writer's lock (if it held one) names a dead process: the next write takes over
      // at once (a store that never waits for a lock gets it), and clears the killed writer's
      // temporary file.
      const unwaiting = await openFilesystemStore({dir, lockTimeoutMs: 0})
      const [next] = await unwaiting.append(session.id, [{content: 'after', role: 'user'}])
      await unwaiting.close()
      expect(next.position).to.equal(messages.length)
      expect(readdirSync(dir).filter(name => name.endsWith('.tmp'))).to.deep.equal([])
      expect(existsSync(join(dir, LOCK_FILE))).to.equal(false)
    })
  })

  describe('a batch of sessions (restoreAll)', () => {
    const NEW_ID = '01JR0000000000000000000000'

    async function seed(): Promise<string> {
      const a = await store.create({title: 'a'})
      await store.append(a.id, [{content: 'kept', role: 'user'}])
      await store.create({title: 'b'})
      return a.id
    }

    /** Every session file and its bytes: what a reader of the directory sees. */
    function sessionFiles(): Record<string, string> {
      const files: Record<string, string> = {}
      for (const name of readdirSync(dir).sort()) if (name !== INDEX_FILE) files[name] = readFileSync(join(dir, name), 'utf8')
      return files
    }

    it('puts everything back when a rename fails part-way: the directory is as it was', async function () {
      this.timeout(30_000)
      const a = await seed()
      const before = sessionFiles()
      const worker = spawnWorker('batch-fault-worker.ts', [dir, a, NEW_ID, 'eio'])
      const done = finished(worker)
      let said = ''
      worker.stdout!.on('data', chunk => (said += chunk))
      expect(await done).to.deep.equal({code: 0, signal: null, stderr: ''})
      expect(said).to.equal(`STORAGE_UNAVAILABLE: Cannot use ${dir} (EIO).\n`)
      expect(sessionFiles()).to.deep.equal(before)
      await expectCode(store.get(NEW_ID), 'SESSION_NOT_FOUND')
    })

    it('finishes a batch whose writer was SIGKILLed among the renames, at the next write', async function () {
      this.timeout(30_000)
      const a = await seed()
      const worker = spawnWorker('batch-fault-worker.ts', [dir, a, NEW_ID, 'pause'])
      const done = finished(worker)
      expect(await new Promise<string>(resolve => worker.stdout!.once('data', chunk => resolve(String(chunk))))).to.equal('paused\n')
      worker.kill('SIGKILL')
      expect((await done).signal).to.equal('SIGKILL')
      expect(readdirSync(dir).filter(name => name.endsWith('.journal'))).to.have.length(1)

      const reopened = await openFilesystemStore({dir})
      await reopened.create({title: 'the next write'})
      await reopened.close()
      expect((await store.get(a)).title).to.equal('edited')
      expect((await store.messages(a)).map(m => m.content)).to.deep.equal(['edited kept'])
      expect((await store.get(NEW_ID)).title).to.equal('new')
      expect(readdirSync(dir).filter(name => name.startsWith('.') && name !== INDEX_FILE)).to.deep.equal([])
    })
  })

  describe('locking', () => {
    // The lock itself (holders, stale and abandoned locks, kills at each step) is tested with the code, in test/core/directory-lock.test.ts.
    it('gives STORAGE_BUSY after lockTimeoutMs while a live process holds the lock, naming the session directory, and writes nothing', async () => {
      const session = await store.create({title: 'before'})
      const impatient = await openFilesystemStore({dir, lockTimeoutMs: 200})
      writeLock(dir, {acquiredAt: Date.now(), hostname: hostname(), pid: process.pid})
      const error = await expectCode(impatient.update(session.id, {title: 'after'}), 'STORAGE_BUSY')
      expect(error.message).to.equal(`The session directory is locked by synapse process ${process.pid} on ${hostname()}; gave up after 0.2 s.`)
      expect(error.suggestions).to.deep.equal([`Try again; if no synapse is running, delete the lock file ${join(dir, LOCK_FILE)}.`])
      expect((await impatient.get(session.id)).title).to.equal('before')
      rmSync(join(dir, LOCK_FILE))
      expect((await impatient.update(session.id, {title: 'after'})).title).to.equal('after')
      await impatient.close()
    })
    it('finishes writes queued before close, then refuses new ones', async () => {
      const session = await store.create()
      const pending = Array.from({length: 5}, (_, i) => store.append(session.id, [{content: `m${i}`, role: 'user'}]))
      await store.close()
      expect((await Promise.all(pending)).flat().map(m => m.position)).to.deep.equal([0, 1, 2, 3, 4])
      await expectCode(store.append(session.id, [{content: 'late', role: 'user'}]), 'STORAGE_UNAVAILABLE')
      const reopened = await openFilesystemStore({dir})
      expect((await reopened.messages(session.id)).map(m => m.content)).to.deep.equal(['m0', 'm1', 'm2', 'm3', 'm4'])
      await reopened.close()
    })

    it('queues writers of two stores in one process, and of two processes, losing nothing', async function () {
      this.timeout(120_000)
      const session = await store.create({title: 'shared'})
      const perWorker = 60
      const workers = [
        spawnWorker('append-worker.ts', [dir, session.id, String(perWorker), 'a']),
        spawnWorker('append-worker.ts', [dir, session.id, String(perWorker), 'b']),
      ]
      // Listening from the start: a worker may be done before the local appends are.
      const exits = workers.map(worker => finished(worker))
      const other = await openFilesystemStore({dir})
      const local = await Promise.all([
        ...Array.from({length: 10}, (_, i) => store.append(session.id, [{content: `c-${i}`, role: 'user'}])),
        ...Array.from({length: 10}, (_, i) => other.append(session.id, [{content: `d-${i}`, role: 'user'}])),
      ])
      const results = await Promise.all(exits)
      for (const result of results) expect(result).to.deep.equal({code: 0, signal: null, stderr: ''})
      await other.close()

      const messages = await store.messages(session.id)
      const total = 4 * perWorker + 20
      expect(messages.length).to.equal(total)
      expect(messages.map(m => m.position)).to.deep.equal(Array.from({length: total}, (_, i) => i))
      expect(new Set(messages.map(m => m.id)).size).to.equal(total)
      for (const tag of ['a', 'b']) {
        const mine = messages.filter(m => m.content.startsWith(`${tag}-`)).map(m => m.content)
        // Each worker's pairs arrive whole and in its own order.
        expect(mine).to.deep.equal(Array.from({length: perWorker}, (_, i) => [`${tag}-${i}-q`, `${tag}-${i}-a`]).flat())
      }
      for (const tag of ['c', 'd']) {
        expect(messages.filter(m => m.content.startsWith(`${tag}-`)).length).to.equal(10)
      }
      expect(
        local
          .flat()
          .map(m => m.position)
          .sort((x, y) => x - y),
      ).to.deep.equal(messages.filter(m => /^[cd]-/.test(m.content)).map(m => m.position))
      expect(await store.count()).to.equal(1 + 2 * (perWorker / 10))
      expect(existsSync(join(dir, LOCK_FILE))).to.equal(false)
    })
  })

  describe('summary index', () => {
    it('stays right when files change behind its back: edited, deleted, added by hand, or the index damaged', async () => {
      const a = await store.create({title: 'a'})
      clock.advance(1000)
      const b = await store.create({title: 'b'})
      expect((await store.list()).map(s => s.title)).to.deep.equal(['b', 'a'])
      const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as {sessions: Record<string, unknown>; version: number}
      expect(index.version).to.equal(5)
      expect(Object.keys(index.sessions).sort()).to.deep.equal([a.id, b.id].sort())

      // A person edits a's title and makes it the newest, with an editor that writes in place.
      const pathA = join(dir, `${a.id}.json`)
      const edited = readFileSync(pathA, 'utf8')
        .replace('"title": "a"', '"title": "a, edited by hand"')
        .replace('"updatedAt": "2026-01-01T00:00:00.000Z"', '"updatedAt": "2026-02-01T00:00:00.000Z"')
      writeFileSync(pathA, edited)
      const fresh = await openFilesystemStore({dir})
      expect((await fresh.list()).map(s => s.title)).to.deep.equal(['a, edited by hand', 'b'])
      expect((await fresh.latest())!.id).to.equal(a.id)

      rmSync(join(dir, `${b.id}.json`))
      writeFileSync(
        join(dir, '01JH0000000000000000000000.json'),
        JSON.stringify({
          messages: [],
          session: {createdAt: '2025-01-01T00:00:00Z', id: '01JH0000000000000000000000', title: 'copied in', updatedAt: '2025-01-01T00:00:00Z'},
          version: 1,
        }),
      )
      expect((await fresh.list()).map(s => s.title)).to.deep.equal(['a, edited by hand', 'copied in'])
      await fresh.close()

      writeFileSync(join(dir, INDEX_FILE), '{"version": 1, "sessions": {"not": "json')
      const afterDamage = await openFilesystemStore({dir})
      expect((await afterDamage.list()).map(s => s.title)).to.deep.equal(['a, edited by hand', 'copied in'])
      expect(Object.keys((JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as {sessions: object}).sessions).sort()).to.deep.equal(
        [a.id, '01JH0000000000000000000000'].sort(),
      )
      await afterDamage.close()
    })

    it('serves unchanged files from the index without reading them, and re-reads a file once it changes', async () => {
      const a = await store.create({title: 'real title'})
      await store.create({title: 'other'})
      await store.list()
      // Plant a different title in the index: only a store that trusts the index for an unchanged file can show it.
      const indexPath = join(dir, INDEX_FILE)
      const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {sessions: Record<string, {session: {title: string}}>}
      index.sessions[a.id].session.title = 'planted in the index'
      writeFileSync(indexPath, JSON.stringify(index))
      const fresh = await openFilesystemStore({clock: clock.now, dir})
      expect((await fresh.list()).map(s => s.title).sort()).to.deep.equal(['other', 'planted in the index'])
      // get reads the file itself.
      expect((await fresh.get(a.id)).title).to.equal('real title')
      await store.append(a.id, [{content: 'changes the file', role: 'user'}])
      const again = await openFilesystemStore({clock: clock.now, dir})
      expect((await again.list()).find(s => s.id === a.id)).to.deep.include({messageCount: 1, preview: 'changes the file', title: 'real title'})
      await fresh.close()
      await again.close()
    })

    it('rebuilds an index of another version, so that one from an older synapse never hides "kept"', async () => {
      const a = await store.create({kept: true, title: 'kept'})
      await store.list()
      const indexPath = join(dir, INDEX_FILE)
      const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {sessions: Record<string, {session: Record<string, unknown>}>; version: number}
      // What synapse before "kept" wrote for the same unchanged file: version 1, no such field.
      delete index.sessions[a.id].session.kept
      writeFileSync(indexPath, JSON.stringify({...index, version: 1}))
      const fresh = await openFilesystemStore({clock: clock.now, dir})
      expect((await fresh.list())[0]).to.deep.include({id: a.id, kept: true})
      expect((await fresh.prune({maxSessions: 0})).deleted).to.deep.equal([])
      expect(JSON.parse(readFileSync(join(dir, `${a.id}.json`), 'utf8')).kept).to.equal(true)
      await fresh.close()
    })

    it('rebuilds an index from before the preview followed the conversation, so that it never shows an edited-out question', async () => {
      const session = await store.create()
      const [question] = await store.append(session.id, [{content: 'the question before its edit', role: 'user', status: 'pending'}])
      const reply = await store.appendReply(session.id, question.id, {content: 'a', role: 'assistant'})
      const [edited] = await store.append(session.id, [{content: 'the edited question', role: 'user', status: 'pending'}])
      await store.appendReply(session.id, edited.id, {content: 'b', role: 'assistant'}, {replaces: {question: question.id, reply: reply.id}})
      expect((await store.list())[0].preview).to.equal('the edited question')
      const indexPath = join(dir, INDEX_FILE)
      const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {sessions: Record<string, {preview: string}>; version: number}
      // What synapse wrote for the same unchanged file when the preview was the first question ever stored: version 3.
      index.sessions[session.id].preview = 'the question before its edit'
      writeFileSync(indexPath, JSON.stringify({...index, version: 3}))
      const fresh = await openFilesystemStore({clock: clock.now, dir})
      expect((await fresh.list())[0].preview).to.equal('the edited question')
      await fresh.close()
    })

    it('rebuilds an index from before previews were cut at code points, so that every backend previews a session alike', async () => {
      const content = '😀'.repeat(120)
      const session = await store.create()
      await store.append(session.id, [{content, role: 'user'}])
      expect((await store.list())[0].preview).to.equal('😀'.repeat(100))
      const indexPath = join(dir, INDEX_FILE)
      const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {sessions: Record<string, {preview: string}>; version: number}
      // What synapse wrote for the same unchanged file when the preview was 100 UTF-16 units: version 4.
      index.sessions[session.id].preview = content.slice(0, 100)
      writeFileSync(indexPath, JSON.stringify({...index, version: 4}))
      const fresh = await openFilesystemStore({clock: clock.now, dir})
      expect((await fresh.list())[0].preview).to.equal('😀'.repeat(100))
      await fresh.close()
    })

    it("rebuilds an index from before forks, so that it never hides a fork's parent", async () => {
      const parent = await store.create({title: 'parent'})
      const fork = await store.fork(parent.id)
      await store.list()
      const indexPath = join(dir, INDEX_FILE)
      const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {sessions: Record<string, {session: Record<string, unknown>}>; version: number}
      expect(index.sessions[fork.id].session).to.deep.include({parentId: parent.id, parentPosition: null})
      // What synapse before forks wrote for the same unchanged file: version 2, no such fields.
      delete index.sessions[fork.id].session.parentId
      delete index.sessions[fork.id].session.parentPosition
      writeFileSync(indexPath, JSON.stringify({...index, version: 2}))
      const fresh = await openFilesystemStore({clock: clock.now, dir})
      expect((await fresh.list()).find(s => s.id === fork.id)).to.deep.include({parentId: parent.id, parentPosition: null})
      // A session that is no fork says so in its file.
      expect(JSON.parse(readFileSync(join(dir, `${parent.id}.json`), 'utf8'))).to.deep.include({parentId: null, parentPosition: null, version: 4})
      await fresh.close()
    })

    it('finds a message to update in a session this process never read', async () => {
      const sessions = []
      for (let i = 0; i < 5; i++) {
        const session = await store.create({title: `s${i}`})
        await store.append(session.id, [{content: `q${i}`, role: 'user'}])
        sessions.push(session)
        clock.advance(1000)
      }
      const [oldest] = await store.messages(sessions[0].id)
      const fresh = await openFilesystemStore({clock: clock.now, dir})
      expect((await fresh.updateMessage(sessions[0].id, oldest.id, {status: 'error'})).status).to.equal('error')
      expect((await store.messages(sessions[0].id))[0]).to.deep.include({content: 'q0', status: 'error'})
      expect((await fresh.latest())!.id).to.equal(sessions[0].id)
      await fresh.close()
    })
  })
})

describe('filesystem backend', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'synapse-fs-url-'))
  })
  afterEach(() => rmSync(root, {force: true, recursive: true}))

  it('reads file: URLs: absolute, localhost, escaped, and relative to cwd', () => {
    expect(directoryOf('file:///var/lib/synapse/sessions')).to.equal('/var/lib/synapse/sessions')
    expect(directoryOf('file://localhost/srv/sessions')).to.equal('/srv/sessions')
    expect(directoryOf('file:///home/ada/My%20Sessions')).to.equal('/home/ada/My Sessions')
    expect(directoryOf('FILE:///upper')).to.equal('/upper')
    expect(directoryOf('file:/single/slash')).to.equal('/single/slash')
    expect(directoryOf('file:history/sessions', '/work/project')).to.equal('/work/project/history/sessions')
    expect(directoryOf('file:./here', '/work/project')).to.equal('/work/project/here')
  })

  it('refuses file: URLs that name no local directory', () => {
    for (const url of ['file://otherhost/sessions', 'file:///a%2Fb', 'file:', 'postgres://x/y']) {
      expect(() => directoryOf(url), url)
        .to.throw(SynapseError)
        .with.property('code', 'CONFIG_INVALID')
    }
  })

  it('is what the synapse:storage hook answers, and opens a directory relative to cwd', async () => {
    const backends = await storageHook()
    expect(backends).to.deep.equal([filesystemBackend])
    expect(backends[0]).to.deep.include({description: 'One JSON file per session in a directory', name: 'filesystem', schemes: ['file']})
    const clock = new ManualClock()
    const store = await backends[0].open('file:nested/sessions', {busyTimeoutMs: 250, clock: clock.now, cwd: root, migrate: true})
    expect(store.backend).to.equal('filesystem')
    expect(store.maintenance).to.equal(undefined)
    const session = await store.create()
    expect(session.createdAt).to.deep.equal(clock.now())
    expect(readdirSync(join(root, 'nested', 'sessions'))).to.deep.equal([`${session.id}.json`])
    writeLock(join(root, 'nested', 'sessions'), {acquiredAt: Date.now(), hostname: hostname(), pid: process.pid})
    // The lock waited the busy timeout the hook was given (how it waits is the lock's own test).
    const busy = await expectCode(store.update(session.id, {title: 'x'}), 'STORAGE_BUSY')
    expect(busy.message).to.equal(`The session directory is locked by synapse process ${process.pid} on ${hostname()}; gave up after 0.25 s.`)
    await store.close()
  })
})

describe('filesystem store: scale', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'synapse-fs-scale-'))
  })
  after(() => rmSync(dir, {force: true, recursive: true}))

  it('lists 1,000 sessions in order, ignoring what is not a session file', async () => {
    const ids: string[] = []
    const start = Date.parse('2025-06-01T00:00:00.000Z')
    for (let i = 0; i < 1000; i++) {
      const id = newId(start + i * 60_000)
      const at = new Date(start + i * 60_000).toISOString()
      const messages = [{content: `question ${i}`, createdAt: at, id: newId(start + i * 60_000), position: 0, role: 'user'}]
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({messages, session: {createdAt: at, id, title: `s${i}`, updatedAt: at}, version: 1}), {mode: 0o600})
      ids.push(id)
    }
    mkdirSync(join(dir, 'not-a-session'))
    writeFileSync(join(dir, 'notes.txt'), 'mine')
    writeFileSync(join(dir, `${ids[0].toLowerCase()}.json`), 'not a canonical name')

    const store = await openFilesystemStore({dir})
    const listed = await store.list({limit: 1000})
    expect(listed.map(s => s.id)).to.deep.equal([...ids].reverse())
    expect(listed.at(-1)).to.deep.include({messageCount: 1, preview: 'question 0', title: 's0'})
    expect((await store.latest())!.id).to.equal(ids.at(-1))
    expect(await store.count()).to.equal(1000)
    expect((await store.list({limit: 2, offset: 998})).map(s => s.title)).to.deep.equal(['s1', 's0'])
    await store.close()
  })
})

describe('filesystem store: a full disk', () => {
  let root: string
  let disk: string
  let filler: string

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'synapse-fs-full-'))
    disk = join(root, 'disk')
    mkdirSync(disk)
    // A real file system of 64 KiB, so ENOSPC comes from the kernel. Needs root (as the dev
    // machines and CI run); elsewhere this fails saying so rather than passing untested.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', disk], {encoding: 'utf8'})
    expect(mounted.status, `cannot mount a small tmpfs (run as root): ${mounted.stderr}`).to.equal(0)
    filler = join(disk, 'filler')
  })

  after(() => {
    spawnSync('umount', [disk])
    rmSync(root, {force: true, recursive: true})
  })

  /** Writes `filler` until the disk refuses, then frees `spare` bytes of it. */
  function fillDisk(spare: number): void {
    const fd = openSync(filler, 'w')
    try {
      const chunk = Buffer.alloc(4096, 1)
      for (;;) writeSync(fd, chunk)
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).to.equal('ENOSPC')
    } finally {
      closeSync(fd)
    }
    truncateSync(filler, Math.max(0, statSync(filler).size - spare))
  }

  it('releases the lock and says the disk is full, whether the lock or the session could not be written; the next write succeeds at once', async () => {
    const dir = join(disk, 'sessions')
    // Never waits for a lock: a lock left behind by a failed write would fail the next one with STORAGE_BUSY.
    const store = await openFilesystemStore({dir, lockTimeoutMs: 0})
    const session = await store.create({title: 'on a small disk'})
    const path = join(dir, `${session.id}.json`)
    const before = readFileSync(path, 'utf8')
    const long = 'z'.repeat(20 * 1024)

    // No room even for the lock's owner record.
    fillDisk(0)
    const atLock = await expectCode(store.append(session.id, [{content: long, role: 'user'}]), 'STORAGE_UNAVAILABLE')
    expect(atLock.message).to.equal(`The disk holding ${join(dir, LOCK_FILE)} is full (ENOSPC).`)
    expect(atLock.suggestions).to.deep.equal(['Free some space, or prune old sessions with "synapse sessions prune".'])
    expect(readdirSync(dir).filter(name => name !== INDEX_FILE)).to.deep.equal([`${session.id}.json`])

    // Room for the lock, not for the session file.
    fillDisk(8192)
    const atSession = await expectCode(store.append(session.id, [{content: long, role: 'user'}]), 'STORAGE_UNAVAILABLE')
    expect(atSession.message).to.equal(`The disk holding ${path} is full (ENOSPC).`)
    expect(readdirSync(dir).filter(name => name !== INDEX_FILE)).to.deep.equal([`${session.id}.json`])
    expect(readFileSync(path, 'utf8')).to.equal(before)

    rmSync(filler)
    const [message] = await store.append(session.id, [{content: long, role: 'user'}])
    expect(message.position).to.equal(0)
    expect(existsSync(join(dir, LOCK_FILE))).to.equal(false)
    await store.close()
  })
})
