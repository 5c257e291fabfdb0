import {expect} from 'chai'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {lstatSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import pg from 'pg'

import {MemorySessionStore} from '../../src/store/memory-store.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {SynapseError} from '../../src/core/errors.js'
import {openFilesystemStore} from '../../plugins/storage-filesystem/src/filesystem-store.js'
import {openPostgresStore} from '../../plugins/storage-postgres/src/postgres-store.js'
import {openRedisStore} from '../../plugins/storage-redis/src/redis-adapter.js'
import {Prefixes} from '../../plugins/storage-redis/test/helpers.js'
import {ManualClock} from '../../src/testing/session-store-suite.js'
import {parseExport, serialize} from '../../src/transfer/format.js'
import {collectSnapshots, importSnapshots} from '../../src/transfer/transfer.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapse, synapseCommandLine, testRuntime} from '../helpers/spawn.js'

/** The machine's PostgreSQL server (trust auth); .ci/run starts it when it is down. */
const POSTGRES = process.env.SYNAPSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({connectionString: POSTGRES})
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
}

/** A SQLite file holding seedVariety's sessions; returns its path. */
async function seededSqliteFile(path: string): Promise<string> {
  const clock = new ManualClock()
  const store = await openSqliteStore({clock: clock.now, path})
  await seedVariety(store, clock)
  await store.close()
  return path
}

/** Sessions with every field a session and a message can carry, statuses and unicode included. */
async function seedVariety(store: SessionStore, clock: ManualClock): Promise<string[]> {
  const a = await store.create({
    metadata: {cwd: '/home/ada', tenant: 'acme', traits: ['terse', {depth: 2}]},
    model: 'gpt-fake',
    provider: 'openai',
    systemPrompt: 'Be brief.\nVery.',
    title: 'Ünïcödé 🤖',
  })
  await store.append(a.id, [
    {content: 'First question\nwith two lines', role: 'user'},
    {
      cachedInputTokens: 4,
      content: 'An answer',
      costSource: '@pydantic/genai-prices 0.1.8, 2026-09-23',
      costUsd: 0.000_012_5,
      durationMs: 812,
      finishReason: 'stop',
      inputTokens: 11,
      metadata: {raw: {id: 'chatcmpl-1'}},
      model: 'gpt-fake',
      outputTokens: 3,
      provider: 'openai',
      role: 'assistant',
      tokenSource: 'provider',
    },
    {content: 'A failed one', metadata: {error: {code: 'PROVIDER_ERROR', message: 'HTTP 503'}}, role: 'user', status: 'error'},
    {
      content: 'Cut sh',
      durationMs: 40,
      inputTokens: 20,
      model: 'gpt-fake',
      outputTokens: 2,
      provider: 'openai',
      role: 'assistant',
      status: 'interrupted',
      tokenSource: 'estimate',
    },
  ])
  clock.advance(60_000)
  const b = await store.create()
  clock.advance(60_000)
  const c = await store.create({title: 'tabs\tand "quotes"'})
  await store.append(c.id, [{content: '', role: 'user'}])
  return [a.id, b.id, c.id]
}

describe('export and import', () => {
  let sandbox: Sandbox
  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  it('checks the file as written before --new-ids renames it: a session twice is refused, a bad one named by its id in the file', async () => {
    const clock = new ManualClock()
    const store = new MemorySessionStore({clock: clock.now})
    await seedVariety(store, clock)
    const [snapshot] = await collectSnapshots(store, {all: true})
    const refusal = (batch: (typeof snapshot)[]) =>
      importSnapshots(store, batch, {newIds: true}).then(
        () => 'imported',
        (error: Error) => error.message,
      )
    expect(await refusal([snapshot, snapshot])).to.equal(`Session ${snapshot.session.id} appears twice; nothing was imported.`)
    const disordered = {...snapshot, messages: [{...snapshot.messages[0], position: 5}, ...snapshot.messages.slice(1)]}
    expect(await refusal([disordered])).to.match(new RegExp(`^Messages of session ${snapshot.session.id} must have strictly increasing positions`))
    expect(await store.count()).to.equal(3)
  })

  it('round-trips every field through json and jsonl, byte for byte', async () => {
    const clock = new ManualClock()
    const source = await openSqliteStore({clock: clock.now, path: join(sandbox.root, 'a.db')})
    await seedVariety(source, clock)
    const snapshots = await collectSnapshots(source, {all: true})
    for (const format of ['json', 'jsonl'] as const) {
      const text = serialize(snapshots, format)
      const target = new MemorySessionStore()
      await importSnapshots(target, parseExport(text, 'export'))
      expect(serialize(await collectSnapshots(target, {all: true}), format)).to.equal(text)
      expect(await collectSnapshots(target, {all: true})).to.deep.equal(snapshots)
    }
    await source.close()
  })

  it('refuses taken ids up front, replaces with --replace, copies with --new-ids', async () => {
    const clock = new ManualClock()
    const store = new MemorySessionStore({clock: clock.now})
    const ids = await seedVariety(store, clock)
    const snapshots = await collectSnapshots(store, {all: true})
    try {
      await importSnapshots(store, snapshots)
      expect.fail('imported over existing sessions')
    } catch (error) {
      expect((error as Error).message).to.equal(`3 of the sessions already exist (${[...ids].sort().join(', ')}); nothing was imported.`)
    }
    const edited = snapshots.map(s => ({...s, session: {...s.session, title: 'edited'}}))
    const replaced = await importSnapshots(store, edited, {replace: true})
    expect(replaced.imported.every(s => s.replaced)).to.equal(true)
    expect((await store.list()).map(s => s.title)).to.deep.equal(['edited', 'edited', 'edited'])
    const copies = await importSnapshots(store, snapshots, {newIds: true})
    expect(await store.count()).to.equal(6)
    const copy = copies.imported.find(s => s.title === 'Ünïcödé 🤖')!
    expect(ids).not.to.include(copy.id)
    expect((await store.messages(copy.id)).map(m => [m.position, m.content, m.status])).to.deep.equal([
      [0, 'First question\nwith two lines', 'complete'],
      [1, 'An answer', 'complete'],
      [2, 'A failed one', 'error'],
      [3, 'Cut sh', 'interrupted'],
    ])
  })

  it('--new-ids gives a fork copied with its parent the parent’s copy; a fork copied alone keeps naming the original', async () => {
    const clock = new ManualClock()
    const store = new MemorySessionStore({clock: clock.now})
    const parent = await store.create({title: 'parent'})
    await store.append(parent.id, [
      {content: 'q', role: 'user'},
      {content: 'a', role: 'assistant'},
    ])
    clock.advance(1000)
    const fork = await store.fork(parent.id, {at: 1})
    const both = await collectSnapshots(store, {ids: [parent.id, fork.id]})
    const copies = await importSnapshots(store, both, {newIds: true})
    const copyOf = (title: string) => copies.imported.find(s => s.title === title)!.id
    const forkCopy = await store.get(copyOf('parent (fork)'))
    expect([forkCopy.parentId, forkCopy.parentPosition]).to.deep.equal([copyOf('parent'), 1])

    const alone = await importSnapshots(store, await collectSnapshots(store, {ids: [fork.id]}), {newIds: true})
    expect((await store.get(alone.imported[0].id)).parentId).to.equal(parent.id)
  })

  for (const [label, text, message] of [
    ['an empty file', '', 'f is empty.'],
    ['JSON that is not an export', '{"hello": 1}', 'f is JSON but not a synapse export'],
    ['a newer format version', '{"format": "synapse-sessions", "version": 5, "sessions": []}', 'f has format version 5; this synapse reads versions 1 to 4.'],
    ['a broken line', '{"version": 1, "id": "01JC0000000000000000000000"}\nnot json\n', 'f line 1 has no "messages" list.'],
    [
      'a bad line after good ones',
      `${JSON.stringify({createdAt: '2026-01-01T00:00:00.000Z', id: '01JC0000000000000000000000', messages: [], metadata: {}, updatedAt: '2026-01-01T00:00:00.000Z', version: 1})}\n{oops\n`,
      'f line 2 is not JSON',
    ],
    [
      'a message without a role',
      `${JSON.stringify({createdAt: '2026-01-01T00:00:00.000Z', id: '01JC0000000000000000000000', messages: [{content: 'x', createdAt: '2026-01-01T00:00:00.000Z', id: '01JD0000000000000000000000', position: 0, status: 'complete'}], updatedAt: '2026-01-01T00:00:00.000Z', version: 1})}\n`,
      'f line 1, message 1 has no text "role".',
    ],
    [
      'an invalid date',
      `${JSON.stringify({createdAt: 'yesterday', id: '01JC0000000000000000000000', messages: [], updatedAt: '2026-01-01T00:00:00.000Z', version: 1})}\n`,
      'f line 1 has an invalid date in "createdAt".',
    ],
  ] as const) {
    it(`rejects ${label} with a message saying where`, () => {
      expect(() => parseExport(text, 'f')).to.throw(message)
    })
  }

  it('reads a version 1 file, whose replies did not name their question, pairing each reply with the question before it', () => {
    const message = (id: string, position: number, role: string) => ({
      content: id,
      createdAt: '2026-01-01T00:00:00.000Z',
      durationMs: null,
      finishReason: null,
      id,
      inputTokens: null,
      metadata: {},
      model: null,
      outputTokens: null,
      position,
      provider: null,
      role,
      status: 'complete',
    })
    const q1 = '01JD0000000000000000000001'
    const q2 = '01JD0000000000000000000003'
    const session = {
      createdAt: '2026-01-01T00:00:00.000Z',
      id: '01JC0000000000000000000000',
      messages: [
        message(q1, 0, 'user'),
        message('01JD0000000000000000000002', 1, 'assistant'),
        message(q2, 2, 'user'),
        message('01JD0000000000000000000004', 3, 'assistant'),
      ],
      metadata: {},
      model: null,
      provider: null,
      systemPrompt: null,
      title: null,
      updatedAt: '2026-01-01T00:00:00.000Z',
    }

    const [snapshot] = parseExport(JSON.stringify({format: 'synapse-sessions', sessions: [session], version: 1}), 'f')

    expect(snapshot.messages.map(m => m.replyTo)).to.deep.equal([null, q1, null, q2])
  })

  it("carries a fork's parent through export and import, and reads a version 2 file as no fork", async () => {
    const store = new MemorySessionStore()
    const parent = await store.create({title: 'parent'})
    await store.append(parent.id, [{content: 'q', role: 'user'}])
    const fork = await store.fork(parent.id)
    const snapshot = {messages: await store.messages(fork.id), session: await store.get(fork.id)}
    const text = serialize([snapshot], 'jsonl')
    expect(JSON.parse(text)).to.deep.include({parentId: parent.id, parentPosition: 0, version: 4})
    expect(parseExport(text, 'f')).to.deep.equal([snapshot])
    const {parentId: _, parentPosition: __, ...older} = JSON.parse(text)
    const [read] = parseExport(JSON.stringify({...older, version: 2}), 'f')
    expect(read.session).to.deep.include({parentId: null, parentPosition: null})
    expect(read.messages).to.deep.equal(snapshot.messages)
  })

  it('writes version 4 with each reply naming its question and what replaced what, and reads it back as written', async () => {
    const store = new MemorySessionStore()
    const session = await store.create()
    const [first] = await store.append(session.id, [{content: 'first', role: 'user', status: 'pending'}])
    const [second] = await store.append(session.id, [{content: 'second', role: 'user', status: 'pending'}])
    await store.appendReply(session.id, second.id, {content: 'to second', role: 'assistant'})
    await store.appendReply(session.id, first.id, {content: 'to first', role: 'assistant'})
    await store.append(session.id, [{content: 'never answered', role: 'user', status: 'pending'}])
    const [third] = await store.append(session.id, [{content: 'third', role: 'user', status: 'pending'}])
    const toThird = await store.appendReply(session.id, third.id, {content: 'to third', role: 'assistant'})
    await store.appendReply(session.id, third.id, {content: 'to third, again', role: 'assistant'}, {replaces: {reply: toThird.id}})
    await store.append(session.id, [{content: 'undone', role: 'user'}])
    await store.undo(session.id)
    const snapshot = {messages: await store.messages(session.id), session: await store.get(session.id)}

    const text = serialize([snapshot], 'json')

    expect(JSON.parse(text).version).to.equal(4)
    expect(JSON.parse(text).sessions[0].messages[6]).to.deep.include({
      hiddenAt: snapshot.messages[6].hiddenAt!.toISOString(),
      supersededBy: snapshot.messages[7].id,
    })
    expect(parseExport(text, 'f')).to.deep.equal([snapshot])
    const markdown = serialize([snapshot], 'markdown')
    expect(markdown.match(/^## .*$/gm)!.map(line => line.replace(/ · \d{4}-.*$/, ''))).to.deep.equal([
      '## user',
      '## user',
      '## assistant',
      '## assistant · reply to message 1',
      '## user · unanswered',
      '## user',
      '## assistant · replaced by message 8',
      '## assistant · reply to message 6',
      '## user · undone',
    ])
  })

  it('rejects a path-escaping session id before writing anything', async () => {
    const store = new MemorySessionStore()
    const evil = {createdAt: '2026-01-01T00:00:00.000Z', id: '../../etc/passwd', messages: [], updatedAt: '2026-01-01T00:00:00.000Z', version: 1}
    const good = {...evil, id: '01JC0000000000000000000000'}
    const snapshots = parseExport(`${JSON.stringify(good)}\n${JSON.stringify(evil)}\n`, 'f')
    try {
      await importSnapshots(store, snapshots)
      expect.fail('imported a bad id')
    } catch (error) {
      expect((error as Error).message).to.equal(
        'The session id "../../etc/passwd" is not a ULID (26 characters of Crockford base32, upper case); nothing was imported.',
      )
    }
    expect(await store.count()).to.equal(0)
  })

  describe('a rejected import changes nothing, on every backend', function () {
    this.timeout(60_000)
    const postgresSchema = `synapse_test_rejected_${process.pid}_${Date.now()}`
    const redisPrefixes = new Prefixes()
    after(async () => {
      await dropSchema(postgresSchema)
      await redisPrefixes.dropAll()
    })

    const at = '2026-03-01T00:00:00.000Z'
    const messageOf = (id: string, position: number, extra: Record<string, unknown> = {}) => ({
      content: `m${position}`,
      createdAt: at,
      durationMs: null,
      finishReason: null,
      id,
      inputTokens: null,
      metadata: {},
      model: null,
      outputTokens: null,
      position,
      provider: null,
      role: 'user',
      status: 'complete',
      ...extra,
    })
    const sessionOf = (id: string, messages: unknown[]) => ({
      createdAt: at,
      id,
      messages,
      metadata: {},
      model: null,
      provider: null,
      systemPrompt: null,
      title: id.slice(-4),
      updatedAt: at,
    })
    const jsonl = (...sessions: unknown[]) => sessions.map(session => `${JSON.stringify({version: 1, ...(session as object)})}\n`).join('')
    // Written first in every bad file: an import that writes as it goes would leave it behind.
    const good = sessionOf('01JQGGGGGGGGGGGGGGGGGGGG00', [messageOf('01JQMESSAGEG00000000000000', 0)])

    for (const [backend, open] of [
      ['SQLite', (root: string, clock: ManualClock) => openSqliteStore({clock: clock.now, path: join(root, 'target.db')})],
      ['PostgreSQL', (_root: string, clock: ManualClock) => openPostgresStore({clock: clock.now, url: `${POSTGRES}?schema=${postgresSchema}`})],
      ['the filesystem backend', (root: string, clock: ManualClock) => openFilesystemStore({clock: clock.now, dir: join(root, 'target-dir')})],
      ['Redis', (_root: string, clock: ManualClock) => openRedisStore({clock: clock.now, url: redisPrefixes.url('rejected')})],
    ] as const) {
      it(`on ${backend}: shared or taken message ids, numbers out of range`, async () => {
        const clock = new ManualClock()
        const store: SessionStore = await open(sandbox.root, clock)
        const [seeded] = await seedVariety(store, clock)
        const takenId = (await store.messages(seeded))[0].id
        const exportAll = async () => serialize(await collectSnapshots(store, {all: true}), 'json')
        const before = await exportAll()
        const bad = '01JQBADBADBADBADBADBADBAD0'
        for (const [label, file, reason] of [
          [
            'two sessions sharing a message id',
            jsonl(good, sessionOf(bad, [messageOf('01JQMESSAGEG00000000000000', 0)])),
            `Message id 01JQMESSAGEG00000000000000 appears in sessions ${good.id} and ${bad}; a message id names one message; nothing was imported.`,
          ],
          [
            'a message id another session holds',
            jsonl(good, sessionOf(bad, [messageOf(takenId, 0)])),
            `A message with the id ${takenId} already exists; nothing was imported.`,
          ],
          [
            'position 3e9',
            jsonl(good, sessionOf(bad, [messageOf('01JQBADMESSAGE000000000000', 3e9)])),
            'Message 01JQBADMESSAGE000000000000 has position 3000000000; positions go from 0 to 1,000,000,000; nothing was imported.',
          ],
          [
            'inputTokens 1e12',
            jsonl(good, sessionOf(bad, [messageOf('01JQBADMESSAGE000000000000', 0, {inputTokens: 1e12})])),
            'Message 01JQBADMESSAGE000000000000 has inputTokens 1000000000000; it must be a whole number from 0 to 2,147,483,647, or null; nothing was imported.',
          ],
          [
            'durationMs 2^31',
            jsonl(good, sessionOf(bad, [messageOf('01JQBADMESSAGE000000000000', 0, {durationMs: 2 ** 31})])),
            'Message 01JQBADMESSAGE000000000000 has durationMs 2147483648; it must be a whole number from 0 to 2,147,483,647, or null; nothing was imported.',
          ],
          [
            'position 1e300',
            jsonl(good, sessionOf(bad, [messageOf('01JQBADMESSAGE000000000000', 1e300)])),
            'Message 01JQBADMESSAGE000000000000 has position 1e+300; positions go from 0 to 1,000,000,000; nothing was imported.',
          ],
        ] as const) {
          try {
            await importSnapshots(store, parseExport(file, 'f'))
            expect.fail(`imported ${label}`)
          } catch (error) {
            expect((error as Error).message, label).to.equal(reason)
            expect((error as SynapseError).code, label).to.equal('INVALID_INPUT')
          }
          expect(await exportAll(), label).to.equal(before)
        }
        // Later turns still work, and the good session alone imports.
        expect((await store.append(seeded, [{content: 'a later turn', role: 'user'}]))[0].position).to.equal(4)
        expect((await importSnapshots(store, parseExport(jsonl(good), 'f'))).imported.map(s => s.id)).to.deep.equal([good.id])
        await store.close()
      })
    }

    it('through the CLI: exit 1, the reason, and an export identical before and after', async () => {
      const db = await seededSqliteFile(join(sandbox.root, 'cli.db'))
      const env = {DATABASE_URL: db, SYNAPSE_AUTO_CLEANUP: 'false'}
      const before = await synapse(sandbox, ['sessions', 'export', '--all'], {env})
      const file = join(sandbox.root, 'bad.jsonl')
      writeFileSync(file, jsonl(good, sessionOf('01JQBADBADBADBADBADBADBAD0', [messageOf('01JQBADMESSAGE000000000000', 1e300)])))
      const result = await synapse(sandbox, ['sessions', 'import', file], {env})
      expect(result.code, result.stderr).to.equal(1)
      expect(result.stderr).to.equal(
        'Error: Message 01JQBADMESSAGE000000000000 has position 1e+300; positions go from 0 to 1,000,000,000; nothing was imported.\n  → Correct the file; if its ids clash with sessions already stored, --new-ids imports copies with fresh ids.\n',
      )
      const after = await synapse(sandbox, ['sessions', 'export', '--all'], {env})
      expect(after.stdout).to.equal(before.stdout)
    })
  })

  describe('through the CLI', function () {
    this.timeout(30_000)

    it('exports from one database and imports into another: identical, then refuses a second import', async () => {
      const first = await seededSqliteFile(join(sandbox.root, 'first.db'))
      const out = join(sandbox.root, 'all.jsonl')
      const exported = await synapse(sandbox, ['sessions', 'export', '--all', '--output', out], {env: {DATABASE_URL: first, SYNAPSE_AUTO_CLEANUP: 'false'}})
      expect(exported.code, exported.stderr).to.equal(0)
      expect(exported.stderr).to.equal(`Exported 3 sessions to ${out}\n`)
      expect(statSync(out).mode & 0o777).to.equal(0o600)

      const second = join(sandbox.root, 'second.db')
      const imported = await synapse(sandbox, ['sessions', 'import', out], {env: {DATABASE_URL: second, SYNAPSE_AUTO_CLEANUP: 'false'}})
      expect(imported.stdout).to.equal('Imported 3 sessions (5 messages).\n')
      const again = await synapse(sandbox, ['sessions', 'export', '--all'], {env: {DATABASE_URL: second, SYNAPSE_AUTO_CLEANUP: 'false'}})
      expect(again.stdout).to.equal(readFileSync(out, 'utf8'))

      const twice = await synapse(sandbox, ['sessions', 'import', out], {env: {DATABASE_URL: second, SYNAPSE_AUTO_CLEANUP: 'false'}})
      expect(twice.code).to.equal(1)
      expect(twice.stderr).to.match(
        /^Error: 3 of the sessions already exist \(.*\); nothing was imported\.\n {2}→ Add --replace to overwrite them, or --new-ids to import copies beside them\.\n$/,
      )
    })

    const postgresSchema = `synapse_test_transfer_${process.pid}_${Date.now()}`
    const redisPrefixes = new Prefixes()
    after(async () => {
      await dropSchema(postgresSchema)
      await redisPrefixes.dropAll()
    })

    for (const [backend, url] of [
      ['the filesystem backend', (root: string) => `file://${join(root, 'sessions-dir')}`],
      ['PostgreSQL', () => `${POSTGRES}?schema=${postgresSchema}`],
      ['Redis', () => redisPrefixes.url('transfer')],
    ] as const) {
      it(`moves every session from SQLite into ${backend} and back out, byte for byte`, async () => {
        const clock = new ManualClock()
        const sqlite = join(sandbox.root, 'source.db')
        const seeded = await openSqliteStore({clock: clock.now, path: sqlite})
        await seedVariety(seeded, clock)
        await seeded.close()
        const env = {SYNAPSE_AUTO_CLEANUP: 'false'}
        const exported = await synapse(sandbox, ['sessions', 'export', '--all', '--format', 'json'], {env: {...env, DATABASE_URL: sqlite}})
        const target = url(sandbox.root)
        const imported = await synapse(sandbox, ['sessions', 'import', '-'], {env: {...env, DATABASE_URL: target}, input: exported.stdout})
        // Sessions from 2026-01-01 are past retention_days: the import keeps them, and says what cleanup would do.
        expect(imported.stderr).to.equal(
          'synapse: the store is now past its retention limits: "synapse sessions prune" would delete 3 sessions older than 90 days (retention_days) (all of them just imported) — set [session] retention_days (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
        )
        expect(imported.stdout).to.equal('Imported 3 sessions (5 messages).\n')
        const again = await synapse(sandbox, ['sessions', 'export', '--all', '--format', 'json'], {env: {...env, DATABASE_URL: target}})
        expect(again.stdout).to.equal(exported.stdout)
      })
    }

    it('reads an export from stdin, writes Markdown for people, and needs ids or --all', async () => {
      const db = join(sandbox.root, 'db.db')
      const env = {DATABASE_URL: db, SYNAPSE_AUTO_CLEANUP: 'false'}
      const doc = JSON.stringify({
        format: 'synapse-sessions',
        sessions: [
          {
            createdAt: '2026-02-01T10:00:00.000Z',
            id: '01JC0000000000000000000000',
            messages: [
              {
                content: 'Hi *there*',
                createdAt: '2026-02-01T10:00:01.000Z',
                durationMs: null,
                finishReason: null,
                id: '01JD0000000000000000000000',
                inputTokens: null,
                metadata: {},
                model: null,
                outputTokens: null,
                position: 0,
                provider: null,
                role: 'user',
                status: 'complete',
              },
            ],
            metadata: {},
            model: 'm',
            provider: 'p',
            systemPrompt: null,
            title: 'Greeting',
            updatedAt: '2026-02-01T10:00:01.000Z',
          },
        ],
        version: 1,
      })
      const fromStdin = await synapse(sandbox, ['sessions', 'import', '-', '--json'], {env, input: doc})
      expect(JSON.parse(fromStdin.stdout)).to.deep.equal({imported: [{id: '01JC0000000000000000000000', messages: 1, replaced: false, title: 'Greeting'}]})
      const md = await synapse(sandbox, ['sessions', 'export', '01jc', '--format', 'markdown'], {env})
      expect(md.stdout).to.equal(
        '# Greeting\n\nid `01JC0000000000000000000000` · model p/m · created 2026-02-01T10:00:00.000Z · updated 2026-02-01T10:00:01.000Z\n\n## user · 2026-02-01T10:00:01.000Z\n\nHi *there*\n',
      )
      const withPipe = await synapse(sandbox, ['sessions', 'export', '--all', '--format', 'jsonl'], {env, input: 'stray piped text\n'})
      expect(withPipe.code, withPipe.stderr).to.equal(0)
      expect(withPipe.stdout.split('\n')[0]).to.match(/^\{"version":4,"createdAt":"2026-02-01T10:00:00.000Z","id":"01JC0000000000000000000000"/)
      const none = await synapse(sandbox, ['sessions', 'export'], {env})
      expect(none.code).to.equal(2)
      expect(none.stderr.split('\n')[0]).to.equal('Error: Name the sessions to export, or add --all.')
    })

    it('writes --output into a FIFO as into a pipe, leaving it a FIFO; output that cannot be written is one error line, exit 1', async () => {
      const env = {DATABASE_URL: await seededSqliteFile(join(sandbox.root, 'stream.db')), SYNAPSE_AUTO_CLEANUP: 'false'}
      const expected = (await synapse(sandbox, ['sessions', 'export', '--all'], {env})).stdout
      const fifo = join(sandbox.root, 'export.fifo')
      execFileSync('mkfifo', [fifo])
      const reader = spawn('cat', [fifo])
      let received = ''
      reader.stdout.setEncoding('utf8').on('data', (chunk: string) => (received += chunk))
      const read = new Promise(resolve => reader.on('close', resolve))
      const written = await synapse(sandbox, ['sessions', 'export', '--all', '--output', fifo], {env})
      expect(written.code, written.stderr).to.equal(0)
      await read
      expect(received).to.equal(expected)
      expect(lstatSync(fifo).isFIFO()).to.equal(true)

      // Node's stdout emits the failed write, Deno's throws it (also from oclif's --json output, after the command): one report.
      for (const args of [
        ['sessions', 'export', '--all'],
        ['sessions', 'list', '--json'],
      ]) {
        const full = spawnSync('sh', ['-c', `exec ${synapseCommandLine(args)} > /dev/full`], {
          encoding: 'utf8',
          env: {...sandbox.env, ...testRuntime().env, ...env},
        })
        expect([args, full.status, full.stderr]).to.deep.equal([
          args,
          1,
          'Error: Cannot write the output: no space is left on the disk.\n  → Send it somewhere with room (a file on another disk, a pipe).\n',
        ])
      }
    })

    it('writes --output through a symbolic link into the file it leads to, as > would, leaving the link a link', async () => {
      const env = {DATABASE_URL: await seededSqliteFile(join(sandbox.root, 'linked.db')), SYNAPSE_AUTO_CLEANUP: 'false'}
      const expected = (await synapse(sandbox, ['sessions', 'export', '--all'], {env})).stdout
      // What /dev/stdout is when stdout is redirected to a file: a link to it.
      const file = join(sandbox.root, 'redirected.jsonl')
      writeFileSync(file, '')
      const link = join(sandbox.root, 'stdout')
      symlinkSync(file, link)
      const written = await synapse(sandbox, ['sessions', 'export', '--all', '--output', link], {env})
      expect([written.code, written.stderr]).to.deep.equal([0, `Exported 3 sessions to ${file}\n`])
      expect(lstatSync(link).isSymbolicLink()).to.equal(true)
      expect(readFileSync(file, 'utf8')).to.equal(expected)
      expect(statSync(file).mode & 0o777).to.equal(0o600)
    })

    it('a bad file imports nothing and says where it is wrong, exit 1', async () => {
      const db = join(sandbox.root, 'db.db')
      const file = join(sandbox.root, 'bad.jsonl')
      writeFileSync(
        file,
        `${JSON.stringify({createdAt: '2026-01-01T00:00:00.000Z', id: '01JC0000000000000000000000', messages: [], metadata: {}, updatedAt: '2026-01-01T00:00:00.000Z', version: 1})}\n{broken\n`,
      )
      const result = await synapse(sandbox, ['sessions', 'import', file], {env: {DATABASE_URL: db}})
      expect(result.code).to.equal(1)
      expect(result.stderr.split('\n')[0]).to.match(new RegExp(`^Error: ${file.replaceAll('/', '\\/')} line 2 is not JSON`))
      const store = await openSqliteStore({path: db})
      expect(await store.count()).to.equal(0)
      await store.close()
    })
  })
})
