import {expect} from 'chai'
import Database from 'better-sqlite3'
import {join} from 'node:path'

import {MIGRATIONS} from '../../src/migrations/index.js'
import type {SearchOptions} from '../../src/store/search.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {SessionStore as Store} from '../../src/store/store.js'
import {SQLITE_SEARCH_INDEX} from '../../src/store/typeorm/search-sql.js'
import {SqlStorageAdapter} from '../../src/store/typeorm/sql-adapter.js'
import {SQLITE_DIALECT} from '../../src/store/typeorm/sql-dialect.js'
import {SqliteExecutor} from '../../src/store/typeorm/sql-executor.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {recordingExecutor, storeRetriedExchanges} from '../../src/testing/search-plans.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

const SEARCH_MIGRATION = 'AddSearchIndex1795300000020'
const TRIGGERS = [
  'messages_fts_delete',
  'messages_fts_insert',
  'messages_fts_update',
  'sessions_fts_delete',
  'sessions_fts_insert',
  'sessions_fts_update',
].sort()
const TABLES = ['messages_fts', 'sessions_fts']

/** The search index's tables (virtual and shadow) and triggers in a SQLite file. */
function searchObjects(path: string): {tables: string[]; triggers: string[]} {
  const db = new Database(path, {readonly: true})
  try {
    const names = (type: string) =>
      (db.prepare("SELECT name FROM sqlite_master WHERE type = ? AND name LIKE '%\\_fts%' ESCAPE '\\' ORDER BY name").all(type) as Array<{name: string}>).map(
        row => row.name,
      )
    return {tables: names('table').filter(name => TABLES.includes(name)), triggers: names('trigger')}
  } finally {
    db.close()
  }
}

function withFile<T>(path: string, work: (db: Database.Database) => T): T {
  const db = new Database(path)
  try {
    return work(db)
  } finally {
    db.close()
  }
}

const searchCheck = async (store: SessionStore) => (await store.maintenance!.check()).checks.find(c => c.name === 'search index')
const found = async (store: SessionStore, query: string) => (await store.search(query)).map(hit => hit.snippet.text)

/** The search migration and every later one, oldest first: what reverting the index takes. */
const FROM_SEARCH = MIGRATIONS.slice(MIGRATIONS.findIndex(m => m.name === SEARCH_MIGRATION)).map(m => m.name)

/** Reverts migrations one at a time down to and including the search index's; what was reverted. */
async function revertSearch(store: SessionStore): Promise<string[]> {
  const reverted: string[] = []
  for (let step = 0; step < FROM_SEARCH.length; step++) reverted.push(...(await store.maintenance!.revert()))
  return reverted
}

describe('SQLite search index', () => {
  let sandbox: Sandbox
  let path: string
  let store: SessionStore | undefined
  beforeEach(() => {
    sandbox = makeSandbox()
    path = join(sandbox.root, 'sessions.db')
  })
  afterEach(async () => {
    await store?.close()
    store = undefined
    sandbox.cleanup()
  })

  it('is created in a blank database with its triggers, and check finds it in step', async () => {
    store = await openSqliteStore({path})
    expect(FROM_SEARCH[0]).to.equal(SEARCH_MIGRATION)
    expect(searchObjects(path)).to.deep.equal({tables: TABLES, triggers: TRIGGERS})
    expect(await searchCheck(store)).to.deep.equal({detail: '0 messages indexed, in step', name: 'search index', ok: true})
  })

  it('indexes the messages of a database that holds data, reverts cleanly, and migrates again', async () => {
    store = await openSqliteStore({path})
    expect(await revertSearch(store)).to.deep.equal([...FROM_SEARCH].reverse())
    expect(searchObjects(path)).to.deep.equal({tables: [], triggers: []})
    // Written before the index existed, in that schema (the later migrations are reverted too): no trigger saw these.
    withFile(path, db => {
      for (let s = 0; s < 10; s++) {
        const sessionId = `01JC${String(s).padStart(22, '0')}`
        db.prepare('INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)').run(sessionId, `Old title ${s}`, 1000 + s, 2000 + s)
        for (const [m, role, content] of [
          [0, 'user', `pelican question ${s}`],
          [1, 'assistant', `pelican answer ${s}, with words`],
        ] as const) {
          db.prepare('INSERT INTO messages (id, session_id, position, role, content, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
            `01JD${String(s * 10 + m).padStart(22, '0')}`,
            sessionId,
            m,
            role,
            content,
            'complete',
            3000 + m,
          )
        }
      }
    })
    expect(await store.maintenance!.migrate()).to.deep.equal(FROM_SEARCH)
    expect(searchObjects(path)).to.deep.equal({tables: TABLES, triggers: TRIGGERS})
    expect(await store.search('pelican')).to.have.length(20)
    expect(await found(store, 'answer 7')).to.deep.equal(['pelican answer 7, with words'])
    expect(await found(store, 'old title 3')).to.deep.equal(['Old title 3'])
    expect(await searchCheck(store)).to.deep.equal({detail: '20 messages indexed, in step', name: 'search index', ok: true})

    // The columns of the schema before the index (later migrations add others, and go with it).
    const oldColumns = 'id, session_id, position, role, content, status, created_at, input_tokens, output_tokens, model, provider, metadata'
    const rowsBefore = withFile(path, db => db.prepare(`SELECT ${oldColumns} FROM messages ORDER BY id`).all())
    expect(await revertSearch(store)).to.deep.equal([...FROM_SEARCH].reverse())
    expect(searchObjects(path)).to.deep.equal({tables: [], triggers: []})
    // Not even FTS5's shadow tables stay behind, and no row of the messages changed.
    expect(withFile(path, db => db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name LIKE '%fts%'").get())).to.deep.equal({n: 0})
    expect(withFile(path, db => db.prepare(`SELECT ${oldColumns} FROM messages ORDER BY id`).all())).to.deep.equal(rowsBefore)
    expect((await store.maintenance!.check()).ok).to.equal(false)

    expect(await store.maintenance!.migrate()).to.deep.equal(FROM_SEARCH)
    expect(await found(store, 'question 4')).to.deep.equal(['pelican question 4'])
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('check reports a message the index missed (a trigger dropped), and reindex puts the trigger and the entry back', async () => {
    store = await openSqliteStore({path})
    const session = await store.create()
    await store.append(session.id, [{content: 'indexed albatross', role: 'user'}])
    withFile(path, db => db.exec('DROP TRIGGER messages_fts_insert'))
    const [missed] = await store.append(session.id, [{content: 'unindexed albatross', role: 'user'}])
    expect(await found(store, 'albatross')).to.deep.equal(['indexed albatross'])

    const check = await searchCheck(store)
    expect(check?.ok).to.equal(false)
    expect(check?.detail).to.equal(
      `out of step: triggers missing: messages_fts_insert; 1 message not indexed (e.g. ${missed.id}); the index differs from the message contents. Rebuild it with "synapse db reindex".`,
    )
    expect(await store.maintenance!.reindex()).to.deep.equal({detail: '2 messages indexed, in step', name: 'search index', ok: true})
    expect(searchObjects(path).triggers).to.deep.equal(TRIGGERS)
    expect((await found(store, 'albatross')).sort()).to.deep.equal(['indexed albatross', 'unindexed albatross'])
    await store.append(session.id, [{content: 'later albatross', role: 'user'}])
    expect(await store.search('albatross')).to.have.length(3)
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('check reports an index whose entries differ from the messages, and reindex rebuilds it', async () => {
    store = await openSqliteStore({path})
    const session = await store.create()
    await store.append(session.id, [
      {content: 'the cormorant dives', role: 'user'},
      {content: 'the gannet dives', role: 'assistant'},
    ])
    // One entry taken out of the index behind its back, and one message changed without its trigger.
    withFile(path, db => {
      db.exec("INSERT INTO messages_fts (messages_fts, rowid, content) SELECT 'delete', rowid, content FROM messages WHERE content LIKE '%cormorant%'")
      db.exec('DROP TRIGGER messages_fts_update')
      db.exec("UPDATE messages SET content = 'the shag dives' WHERE content LIKE '%gannet%'")
    })
    expect(await found(store, 'cormorant')).to.deep.equal([])
    const check = await searchCheck(store)
    expect(check?.ok).to.equal(false)
    expect(check?.detail).to.contain('triggers missing: messages_fts_update').and.to.contain('1 message not indexed')
    expect(check?.detail).to.contain('the index differs from the message contents')

    await store.maintenance!.reindex()
    expect(await searchCheck(store)).to.deep.equal({detail: '2 messages indexed, in step', name: 'search index', ok: true})
    expect(await found(store, 'cormorant')).to.deep.equal(['the cormorant dives'])
    expect(await found(store, 'shag')).to.deep.equal(['the shag dives'])
    expect(await found(store, 'gannet')).to.deep.equal([])
  })

  it('after a migration rebuilds the messages table (triggers gone, rows renumbered), repair rebuilds the index', async () => {
    store = await openSqliteStore({path})
    const session = await store.create()
    await store.append(session.id, [
      {content: 'first puffin', role: 'user'},
      {content: 'second guillemot', role: 'assistant'},
      {content: 'third razorbill', role: 'user'},
    ])
    await store.close()
    store = undefined
    // What TypeORM does to change a column on SQLite: copy into a new table, drop the old one, rename.
    withFile(path, db => {
      const {sql} = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages'").get() as {sql: string}
      const {sql: index} = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'idx_messages_session_position'").get() as {sql: string}
      db.pragma('foreign_keys = OFF')
      db.exec(sql.replace('CREATE TABLE "messages"', 'CREATE TABLE "temporary_messages"'))
      db.exec(`INSERT INTO temporary_messages SELECT * FROM messages ORDER BY position DESC;
               DROP TABLE messages;
               ALTER TABLE temporary_messages RENAME TO messages;`)
      db.exec(index)
      expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'messages_fts%'").get()).to.deep.equal({n: 0})
    })
    const db = new Database(path)
    try {
      const run = async (sql: string) => {
        const statement = db.prepare(sql)
        return statement.reader ? statement.all() : statement.run()
      }
      // Rows now stand at other rowids: the old index would point at the wrong messages.
      expect(db.prepare("SELECT rowid FROM messages WHERE content = 'third razorbill'").get()).to.deep.equal({rowid: 1})
      expect(await SQLITE_SEARCH_INDEX.repair(run)).to.equal(true)
      expect(await SQLITE_SEARCH_INDEX.repair(run)).to.equal(false)
      expect((await SQLITE_SEARCH_INDEX.check(run)).ok).to.equal(true)
    } finally {
      db.close()
    }
    store = await openSqliteStore({path})
    expect(await found(store, 'guillemot')).to.deep.equal(['second guillemot'])
    expect(await found(store, 'razorbill')).to.deep.equal(['third razorbill'])
  })

  it('holds what a retry or an undo took out: check finds it in step, reindex keeps it, searches leave it out unless asked', async () => {
    store = await openSqliteStore({path})
    const session = await store.create()
    const [question] = await store.append(session.id, [{content: 'the skua question', role: 'user', status: 'pending'}])
    const first = await store.appendReply(session.id, question.id, {content: 'skua reply one', role: 'assistant'})
    await store.appendReply(session.id, question.id, {content: 'skua reply two', role: 'assistant'}, {replaces: {reply: first.id}})
    await store.append(session.id, [{content: 'skua undone', role: 'user'}])
    await store.undo(session.id)
    const expectFound = async () => {
      expect((await found(store!, 'skua')).sort()).to.deep.equal(['skua reply two', 'the skua question'])
      const all = await store!.search('skua', {includeReplaced: true})
      expect(
        all
          .filter(hit => hit.replaced)
          .map(hit => hit.snippet.text)
          .sort(),
      ).to.deep.equal(['skua reply one', 'skua undone'])
    }
    await expectFound()
    expect(await searchCheck(store)).to.deep.equal({detail: '4 messages indexed, in step', name: 'search index', ok: true})
    expect(await store.maintenance!.reindex()).to.deep.equal({detail: '4 messages indexed, in step', name: 'search index', ok: true})
    await expectFound()
  })

  it('reads message hits through the FTS5 index and messages by key, previews included, with or without what was taken out', async () => {
    store = await openSqliteStore({path})
    await storeRetriedExchanges(store, 'tern', 30)
    await store.close()
    store = undefined
    const db = new Database(path)
    const executor = recordingExecutor(new SqliteExecutor(db))
    const searching = new Store(new SqlStorageAdapter({backend: 'sqlite', dialect: SQLITE_DIALECT, executor, onClose: () => void db.close()}))
    try {
      const cases: SearchOptions[] = [{}, {limit: 5}, {includeReplaced: true}, {role: 'assistant'}, {includeReplaced: true, role: 'assistant'}]
      for (const options of cases) {
        executor.queries.length = 0
        expect(await searching.search('tern', options), JSON.stringify(options)).to.have.length(options.limit ?? 20)
        const statements = executor.queries.filter(q => q.sql.includes('messages_fts'))
        expect(statements, JSON.stringify(options)).to.have.length.of.at.least(1)
        for (const {params, sql} of statements) {
          const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{detail: string}>).map(row => row.detail)
          const why = `${JSON.stringify(options)}:\n${plan.join('\n')}`
          expect(
            plan.some(line => /^SCAN messages_fts VIRTUAL TABLE INDEX \d+:M/.test(line)),
            why,
          ).to.equal(true)
          expect(plan, why).to.include('SEARCH m USING INTEGER PRIMARY KEY (rowid=?)')
          // No message is read but through a key: the question of a reply is looked up by its id,
          // each hit's session's preview (its first question) by the session and position.
          expect(
            plan.filter(line => /^SCAN (m|q|pv|messages)\b/.test(line)),
            why,
          ).to.deep.equal([])
          expect(plan, why).to.include('SEARCH q USING INDEX sqlite_autoindex_messages_1 (id=?)')
          expect(plan, why).to.include('SEARCH pv USING INDEX idx_messages_session_position (session_id=?)')
        }
      }
      // Without includeReplaced, the narrowed statement's 50 best candidates (2 x 20 + 10) are all
      // replies taken out: it finds nothing current, and the page is read again without the narrowing.
      executor.queries.length = 0
      await searching.search('tern')
      const reads = executor.queries.filter(q => q.sql.includes('messages_fts MATCH'))
      expect(reads.map(q => q.sql.includes('hit_candidates'))).to.deep.equal([true, false])
    } finally {
      await searching.close()
    }
  })
})
