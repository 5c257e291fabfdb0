import {expect} from 'chai'
import Database from 'better-sqlite3'
import {join} from 'node:path'

import {MIGRATIONS} from '../../src/migrations/index.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {migrationsUpToDate, openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

type Column = {name: string; notnull: number; pk: number; type: string}

function shape(path: string): Record<string, string[]> {
  const db = new Database(path, {readonly: true})
  try {
    // The search index's FTS5 tables are checked apart (test/store/search-index.test.ts).
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%\\_fts%' ESCAPE '\\' ORDER BY name")
      .all() as Array<{name: string}>
    const result: Record<string, string[]> = {}
    for (const {name} of tables) {
      const columns = db.pragma(`table_info(${name})`) as Column[]
      result[name] = columns.map(c => `${c.name} ${c.type.toLowerCase()}${c.notnull ? ' NOT NULL' : ''}${c.pk ? ' PK' : ''}`)
    }
    return result
  } finally {
    db.close()
  }
}

function indexes(path: string): string[] {
  const db = new Database(path, {readonly: true})
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name").all() as Array<{name: string}>).map(
      r => r.name,
    )
  } finally {
    db.close()
  }
}

const SESSIONS = [
  'id varchar(26) NOT NULL PK',
  'title text',
  'provider varchar(100)',
  'model varchar(200)',
  'system_prompt text',
  'metadata text',
  'created_at bigint NOT NULL',
  'updated_at bigint NOT NULL',
]
const MESSAGES_V2 = [
  'id varchar(26) NOT NULL PK',
  'session_id varchar(26) NOT NULL',
  'position integer NOT NULL',
  'role varchar(16) NOT NULL',
  'content text NOT NULL',
  'provider varchar(100)',
  'model varchar(200)',
  'input_tokens integer',
  'output_tokens integer',
  'status varchar(16) NOT NULL',
  'metadata text',
  'created_at bigint NOT NULL',
]
const MESSAGES_V3 = [...MESSAGES_V2, 'finish_reason varchar(50)', 'duration_ms integer']
const MESSAGES_V4 = [...MESSAGES_V3, 'reply_to varchar(26)']
const SESSIONS_V5 = [...SESSIONS, 'kept integer NOT NULL']
const SESSIONS_V6 = [...SESSIONS_V5, 'parent_id varchar(26)', 'parent_position integer']
const MESSAGES_V6 = [...MESSAGES_V4, 'cached_input_tokens integer', 'token_source varchar(16)', 'cost_usd double precision', 'cost_source varchar(100)']
/** What the usage migration adds to a row that had none of it. */
const NO_USAGE_COLUMNS = {cached_input_tokens: null, cost_source: null, cost_usd: null, token_source: null}
const MIGRATIONS_TABLE = ['id integer NOT NULL PK', 'timestamp bigint NOT NULL', 'name varchar NOT NULL']

/** What `sql` reads from the database at `path`, through a connection of its own. */
function rowsOf(path: string, sql: string): unknown[] {
  const reader = new Database(path, {readonly: true})
  try {
    return reader.prepare(sql).all()
  } finally {
    reader.close()
  }
}

async function expectAmbiguous(promise: Promise<unknown>): Promise<void> {
  try {
    await promise
  } catch (error) {
    expect((error as {code?: string}).code).to.equal('AMBIGUOUS_SESSION_TITLE')
    return
  }
  expect.fail('expected an ambiguous title')
}

describe('migrations', () => {
  let sandbox: Sandbox
  let path: string
  let store: SessionStore | undefined
  beforeEach(() => {
    sandbox = makeSandbox()
    path = join(sandbox.root, 'sessions.db')
  })
  afterEach(async () => {
    await store?.close()
    sandbox.cleanup()
  })

  it('builds the latest schema from a blank database, and it matches the entities', async () => {
    store = await openSqliteStore({path})
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V6, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
    expect(indexes(path)).to.deep.equal(['idx_messages_session_position', 'idx_sessions_title', 'idx_sessions_updated_at'])
    const report = await store.maintenance!.check()
    expect(report.checks.map(c => [c.name, c.ok, c.detail])).to.deep.equal([
      ['integrity', true, 'ok'],
      ['foreign keys', true, 'no orphaned rows'],
      ['migrations', true, 'all applied'],
      ['schema', true, 'matches this version'],
      ['search index', true, '0 messages indexed, in step'],
    ])
    expect((await store.maintenance!.migrations()).every(m => m.applied)).to.equal(true)
  })

  it('goes all the way down one step at a time, and up again', async () => {
    store = await openSqliteStore({path})
    const maintenance = store.maintenance!
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[7].name])
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
    expect(indexes(path)).to.deep.equal(['idx_messages_session_position', 'idx_sessions_title', 'idx_sessions_updated_at'])
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[6].name])
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V5})
    expect(indexes(path)).to.deep.equal(['idx_messages_session_position', 'idx_sessions_updated_at'])
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[5].name])
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V5})
    expect(indexes(path)).to.deep.equal(['idx_messages_session_position', 'idx_sessions_updated_at'])
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[4].name])
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS})
    expect(indexes(path)).to.deep.equal(['idx_messages_session_position', 'idx_sessions_updated_at'])
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[3].name])
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V3, migrations: MIGRATIONS_TABLE, sessions: SESSIONS})
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[2].name])
    expect(shape(path).messages).to.deep.equal(MESSAGES_V2)
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[1].name])
    expect(shape(path)).to.deep.equal({migrations: MIGRATIONS_TABLE, sessions: SESSIONS})
    expect(await maintenance.revert()).to.deep.equal([MIGRATIONS[0].name])
    expect(shape(path)).to.deep.equal({migrations: MIGRATIONS_TABLE})
    expect(indexes(path)).to.deep.equal([])
    expect(await maintenance.revert()).to.deep.equal([])
    expect((await maintenance.migrations()).map(m => m.applied)).to.deep.equal(MIGRATIONS.map(() => false))

    expect(await maintenance.migrate()).to.deep.equal(MIGRATIONS.map(m => m.name))
    expect(shape(path)).to.deep.equal({messages: MESSAGES_V6, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
    expect(await maintenance.revert({all: true})).to.deep.equal(MIGRATIONS.map(m => m.name).reverse())
    expect(await maintenance.migrate()).to.have.length(MIGRATIONS.length)
    expect((await maintenance.check()).ok).to.equal(true)
  })

  it('upgrades a database that holds data without losing a row, and cascades still work', async () => {
    store = await openSqliteStore({path})
    // Back to before finish details, reply_to, kept, the search index, forks and usage.
    for (let step = 0; step < 6; step++) await store.maintenance!.revert()
    await store.close()

    // Data written by an earlier schema version (before finish details, reply_to and kept), as an older synapse would have written it.
    const db = new Database(path)
    const insertSession = db.prepare('INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)')
    const insertMessage = db.prepare(
      'INSERT INTO messages (id, session_id, position, role, content, status, input_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    for (let s = 0; s < 20; s++) {
      const sessionId = `01JC${String(s).padStart(22, '0')}`
      insertSession.run(sessionId, `old ${s}`, 1000 + s, 2000 + s)
      for (let m = 0; m < 25; m++)
        insertMessage.run(`01JD${String(s * 100 + m).padStart(22, '0')}`, sessionId, m, m % 2 ? 'assistant' : 'user', `s${s} m${m}`, 'complete', m, 3000 + m)
    }
    const before = db.prepare('SELECT * FROM messages ORDER BY id').all() as Array<Record<string, unknown>>
    const sessionsBefore = db.prepare('SELECT * FROM sessions ORDER BY id').all() as Array<Record<string, unknown>>
    db.close()

    store = await openSqliteStore({path})
    const after = new Database(path, {readonly: true})
    const rows = after.prepare('SELECT * FROM messages ORDER BY id').all() as Array<Record<string, unknown>>
    const sessionRows = after.prepare('SELECT * FROM sessions ORDER BY id').all()
    after.close()
    // No session of an older synapse was kept, or is a fork.
    expect(sessionRows).to.deep.equal(sessionsBefore.map(row => ({...row, kept: 0, parent_id: null, parent_position: null})))
    expect(rows.length).to.equal(500)
    // Each old reply is recorded as answering the question stored right before it.
    const byPosition = new Map(before.map(row => [`${String(row.session_id)}:${String(row.position)}`, row.id]))
    expect(rows).to.deep.equal(
      before.map(row => ({
        ...row,
        ...NO_USAGE_COLUMNS,
        duration_ms: null,
        finish_reason: null,
        // Counts stored before the usage migration were the provider's: no other kind was stored.
        token_source: 'provider',
        reply_to: row.role === 'assistant' ? byPosition.get(`${String(row.session_id)}:${Number(row.position) - 1}`) : null,
      })),
    )
    expect(await store.count()).to.equal(20)
    // The search index fills from the rows there were before it.
    expect((await store.search('s7 m24')).map(hit => hit.snippet.text)).to.deep.equal(['s7 m24'])
    const first = `01JC${'0'.repeat(22)}`
    expect((await store.messages(first)).map(m => m.content).slice(0, 2)).to.deep.equal(['s0 m0', 's0 m1'])
    await store.delete([first])
    const check = new Database(path, {readonly: true})
    expect((check.prepare('SELECT COUNT(*) AS n FROM messages').get() as {n: number}).n).to.equal(475)
    check.close()
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('adds "kept" to sessions that hold messages, and takes it away again, without losing a row', async () => {
    store = await openSqliteStore({path})
    // Usage, forks, the search index, kept.
    for (let step = 0; step < 4; step++) await store.maintenance!.revert()
    await store.close()
    const db = new Database(path)
    for (let s = 0; s < 5; s++) {
      const sessionId = `01JC${String(s).padStart(22, '0')}`
      db.prepare('INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)').run(sessionId, `old ${s}`, 1000 + s, 2000 + s)
      for (let m = 0; m < 4; m++) {
        db.prepare('INSERT INTO messages (id, session_id, position, role, content, status, created_at, finish_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
          `01JD${String(s * 100 + m).padStart(22, '0')}`,
          sessionId,
          m,
          'user',
          `s${s} m${m}`,
          'complete',
          3000 + m,
          'stop',
        )
      }
    }
    const sessionsBefore = db.prepare('SELECT * FROM sessions ORDER BY id').all() as Array<Record<string, unknown>>
    const messagesBefore = db.prepare('SELECT * FROM messages ORDER BY id').all()
    db.close()
    const rows = (sql: string) => rowsOf(path, sql)

    store = await openSqliteStore({path})
    expect(rows('SELECT * FROM sessions ORDER BY id')).to.deep.equal(sessionsBefore.map(row => ({...row, kept: 0, parent_id: null, parent_position: null})))
    expect(rows('SELECT * FROM messages ORDER BY id')).to.deep.equal(messagesBefore.map(row => ({...(row as object), ...NO_USAGE_COLUMNS})))
    expect((await store.list({limit: 10})).every(s => s.kept === false && s.messageCount === 4)).to.equal(true)
    await store.update(`01JC${'0'.repeat(22)}`, {kept: true})
    // Dropping the column rebuilds the sessions table in SQLite: no message may go with it by cascade.
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[7].name])
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[6].name])
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[5].name])
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[4].name])
    expect(rows('SELECT * FROM sessions ORDER BY id')).to.deep.equal(sessionsBefore)
    expect(rows('SELECT * FROM messages ORDER BY id')).to.deep.equal(messagesBefore)
    expect((await store.maintenance!.check()).ok).to.equal(false)
    await store.maintenance!.migrate()
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('adds the usage columns to messages that hold data, and takes them away again, without losing a row', async () => {
    store = await openSqliteStore({path})
    const session = await store.create({title: 'before usage'})
    const [question] = await store.append(session.id, [{content: 'q', role: 'user', status: 'pending'}])
    await store.appendReply(session.id, question.id, {content: 'a', inputTokens: 5, outputTokens: 2, role: 'assistant'})
    await store.append(session.id, [{content: 'no counts', role: 'assistant'}])
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[7].name])
    const read = (sql: string) => {
      const reader = new Database(path, {readonly: true})
      try {
        return reader.prepare(sql).all() as Array<Record<string, unknown>>
      } finally {
        reader.close()
      }
    }
    const before = read('SELECT * FROM messages ORDER BY position')
    expect(Object.keys(before[0])).to.not.include('cost_usd')

    expect(await store.maintenance!.migrate()).to.deep.equal([MIGRATIONS[7].name])
    expect(read('SELECT * FROM messages ORDER BY position')).to.deep.equal(
      before.map(row => ({...row, ...NO_USAGE_COLUMNS, token_source: row.input_tokens === null ? null : 'provider'})),
    )
    const messages = await store.messages(session.id)
    expect(messages.map(m => [m.content, m.tokenSource, m.costUsd])).to.deep.equal([
      ['q', null, null],
      ['a', 'provider', null],
      ['no counts', null, null],
    ])
    await store.updateMessage(session.id, messages[1].id, {cachedInputTokens: 1, costSource: 'config', costUsd: 0.001})
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[7].name])
    expect(read('SELECT * FROM messages ORDER BY position')).to.deep.equal(before)
    expect((await store.maintenance!.check()).ok).to.equal(false)
    await store.maintenance!.migrate()
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('adds the parent of forks and the title index to sessions that hold data, and takes them away again, without losing a row', async () => {
    store = await openSqliteStore({path})
    // The usage migration came later: it goes first, and comes back with this one.
    await store.maintenance!.revert()
    await store.maintenance!.revert()
    await store.close()
    const db = new Database(path)
    for (let s = 0; s < 5; s++) {
      const sessionId = `01JC${String(s).padStart(22, '0')}`
      db.prepare('INSERT INTO sessions (id, title, created_at, updated_at, kept) VALUES (?, ?, ?, ?, ?)').run(
        sessionId,
        ['old 0', 'old 1', 'old 1', 'old 3', null][s],
        1000 + s,
        2000 + s,
        s % 2,
      )
      for (let m = 0; m < 4; m++) {
        db.prepare('INSERT INTO messages (id, session_id, position, role, content, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          `01JD${String(s * 100 + m).padStart(22, '0')}`,
          sessionId,
          m,
          m % 2 ? 'assistant' : 'user',
          `s${s} m${m}`,
          'complete',
          3000 + m,
        )
      }
    }
    const sessionsBefore = db.prepare('SELECT * FROM sessions ORDER BY id').all() as Array<Record<string, unknown>>
    const messagesBefore = db.prepare('SELECT * FROM messages ORDER BY id').all()
    db.close()
    const rows = (sql: string) => rowsOf(path, sql)

    store = await openSqliteStore({path})
    expect(rows('SELECT * FROM sessions ORDER BY id')).to.deep.equal(sessionsBefore.map(row => ({...row, parent_id: null, parent_position: null})))
    expect(rows('SELECT * FROM messages ORDER BY id')).to.deep.equal(messagesBefore.map(row => ({...(row as object), ...NO_USAGE_COLUMNS})))
    expect((await store.maintenance!.check()).ok).to.equal(true)
    // Titles of sessions stored before the index are found through it.
    const plan = rows(
      "EXPLAIN QUERY PLAN SELECT s.id FROM sessions s WHERE substr(s.title, 1, 100) = substr(CAST('old 1' AS TEXT), 1, 100) AND s.title = 'old 1'",
    ) as Array<{detail: string}>
    expect(plan.map(r => r.detail).join(' ')).to.contain('idx_sessions_title')
    expect((await store.get('old 0')).id).to.equal(`01JC${'0'.repeat(22)}`)
    await expectAmbiguous(store.get('old 1'))
    const fork = await store.fork(`01JC${'0'.repeat(22)}`, {at: 1})
    expect(fork).to.deep.include({parentId: `01JC${'0'.repeat(22)}`, parentPosition: 1, title: 'old 0 (fork)'})
    await store.delete([fork.id])

    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[7].name])
    expect(await store.maintenance!.revert()).to.deep.equal([MIGRATIONS[6].name])
    expect(rows('SELECT * FROM sessions ORDER BY id')).to.deep.equal(sessionsBefore)
    expect(rows('SELECT * FROM messages ORDER BY id')).to.deep.equal(messagesBefore)
    expect(indexes(path)).to.deep.equal(['idx_messages_session_position', 'idx_sessions_updated_at'])
    await store.maintenance!.migrate()
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('refuses a database migrated by a newer synapse', async () => {
    store = await openSqliteStore({path})
    await store.close()
    store = undefined
    const db = new Database(path)
    db.prepare('INSERT INTO migrations (timestamp, name) VALUES (?, ?)').run(1_999_999_999_999, 'FromTheFuture1999999999999')
    db.close()
    try {
      store = await openSqliteStore({path})
      expect.fail('opened a database from a newer version')
    } catch (error) {
      expect((error as Error).message).to.equal('The session database was migrated by a newer synapse (FromTheFuture1999999999999).')
    }
  })

  it("knows cheaply when nothing is to migrate (migrationsUpToDate), and only then skips TypeORM's check", async () => {
    const upToDate = () => {
      const db = new Database(path)
      try {
        return migrationsUpToDate(db)
      } finally {
        db.close()
      }
    }
    expect(upToDate(), 'a blank file').to.equal(false)
    store = await openSqliteStore({path})
    expect(upToDate(), 'just migrated').to.equal(true)
    await store.maintenance!.revert()
    expect(upToDate(), 'one reverted').to.equal(false)
    await store.close()
    store = await openSqliteStore({path})
    expect(shape(path).sessions, 'reopened: the pending migration ran').to.deep.equal(SESSIONS_V6)
    await store.close()
    store = undefined
    const db = new Database(path)
    db.prepare('INSERT INTO migrations (timestamp, name) VALUES (?, ?)').run(1_999_999_999_999, 'FromTheFuture1999999999999')
    db.close()
    expect(upToDate(), 'one unknown').to.equal(false)
  })
})
