import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {MIGRATIONS} from 'synapse-cli/typeorm'
import {type SessionStore, SynapseError} from 'synapse-cli'

import {openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf, withClient} from './helpers.js'

/** Every table of a schema with its columns, as "name type [NOT NULL] [PK] [= default]", from information_schema. */
async function shape(schema: string): Promise<Record<string, string[]>> {
  return withClient(async client => {
    const columns = await client.query(
      `SELECT table_name, column_name, udt_name, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    )
    const keys = await client.query(
      `SELECT k.table_name, k.column_name FROM information_schema.table_constraints t
         JOIN information_schema.key_column_usage k ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name
        WHERE t.table_schema = $1 AND t.constraint_type = 'PRIMARY KEY'`,
      [schema],
    )
    const primary = new Set(keys.rows.map(row => `${row.table_name}.${row.column_name}`))
    const tables: Record<string, string[]> = {}
    for (const row of columns.rows) {
      const type = row.length === null ? row.udt_name : `${row.udt_name}(${row.length})`
      const fallback = row.column_default && !String(row.column_default).startsWith('nextval(') ? ` = ${row.column_default}` : ''
      const pk = primary.has(`${row.table_name}.${row.column_name}`) ? ' PK' : ''
      ;(tables[row.table_name] ??= []).push(`${row.column_name} ${type}${row.is_nullable === 'NO' ? ' NOT NULL' : ''}${pk}${fallback}`)
    }
    return tables
  })
}

/** Indexes named by the migrations, and the foreign keys with their delete rule. */
async function constraints(schema: string): Promise<{foreignKeys: string[]; indexes: string[]}> {
  return withClient(async client => {
    const indexes = await client.query("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'idx_%' ORDER BY indexname", [schema])
    const foreignKeys = await client.query(
      `SELECT r.constraint_name, r.delete_rule FROM information_schema.referential_constraints r WHERE r.constraint_schema = $1 ORDER BY r.constraint_name`,
      [schema],
    )
    return {
      foreignKeys: foreignKeys.rows.map(row => `${row.constraint_name} ON DELETE ${row.delete_rule}`),
      indexes: indexes.rows.map(row => String(row.indexdef).replaceAll(`${schema}.`, '')),
    }
  })
}

const SESSIONS = [
  'id varchar(26) NOT NULL PK',
  'title text',
  'provider varchar(100)',
  'model varchar(200)',
  'system_prompt text',
  'metadata text',
  'created_at int8 NOT NULL',
  'updated_at int8 NOT NULL',
]
const MESSAGES_V2 = [
  'id varchar(26) NOT NULL PK',
  'session_id varchar(26) NOT NULL',
  'position int4 NOT NULL',
  'role varchar(16) NOT NULL',
  'content text NOT NULL',
  'provider varchar(100)',
  'model varchar(200)',
  'input_tokens int4',
  'output_tokens int4',
  "status varchar(16) NOT NULL = 'complete'::character varying",
  'metadata text',
  'created_at int8 NOT NULL',
]
const MESSAGES_V3 = [...MESSAGES_V2, 'finish_reason varchar(50)', 'duration_ms int4']
const MESSAGES_V4 = [...MESSAGES_V3, 'reply_to varchar(26)']
const SESSIONS_V5 = [...SESSIONS, 'kept int4 NOT NULL = 0']
const SESSIONS_V6 = [...SESSIONS_V5, 'parent_id varchar(26)', 'parent_position int4']
const MESSAGES_V6 = [...MESSAGES_V4, 'cached_input_tokens int4', 'token_source varchar(16)', 'cost_usd float8', 'cost_source varchar(100)']
const MIGRATIONS_TABLE = ['id int4 NOT NULL PK', 'timestamp int8 NOT NULL', 'name varchar NOT NULL']
const INDEXES_V5 = [
  'CREATE UNIQUE INDEX idx_messages_session_position ON messages USING btree (session_id, "position")',
  'CREATE INDEX idx_sessions_updated_at ON sessions USING btree (updated_at)',
]
/** The search index's expression, as PostgreSQL prints it back. */
const searchVector = (column: string) =>
  `to_tsvector('simple'::regconfig, regexp_replace("left"(COALESCE(${column}, ''::text), 200000), '[[:punct:][:space:]]+'::text, ' '::text, 'g'::text))`
const INDEXES_V6 = [
  `CREATE INDEX idx_messages_search ON messages USING gin (${searchVector('content')})`,
  INDEXES_V5[0],
  `CREATE INDEX idx_sessions_search ON sessions USING gin (${searchVector('title')})`,
  INDEXES_V5[1],
]
const INDEXES = [...INDEXES_V6.slice(0, 3), 'CREATE INDEX idx_sessions_title ON sessions USING btree (substr(title, 1, 100))', INDEXES_V5[1]]
const names = MIGRATIONS.map(m => m.name)

function runWorker(args: string[]): Promise<{code: null | number; stderr: string; stdout: string}> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'plugins/storage-postgres/test/fixtures/migrate-worker.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('close', code => resolve({code, stderr, stdout}))
  })
}

describe('PostgreSQL migrations', () => {
  const schemas = new Schemas()
  let schema: string
  let store: SessionStore | undefined
  beforeEach(() => {
    schema = schemas.fresh('migrations')
  })
  afterEach(async () => {
    await store?.close()
    store = undefined
  })
  after(() => schemas.dropAll())

  it('builds the latest schema in a blank schema, and it matches the entities', async () => {
    store = await openPostgresStore({url: urlOf(schema)})
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V6, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: ['fk_messages_session ON DELETE CASCADE'], indexes: INDEXES})
    const report = await store.maintenance!.check()
    const version = await withClient(async client => (await client.query("SELECT current_setting('server_version') AS v")).rows[0].v)
    expect(report.checks.map(c => [c.name, c.ok, c.detail])).to.deep.equal([
      ['connection', true, `PostgreSQL ${version}, database test, schema ${schema}`],
      ['migrations', true, 'all applied'],
      ['schema', true, 'matches this version'],
      ['search index', true, '0 messages indexed (GIN, kept by PostgreSQL)'],
      ['foreign keys', true, 'no orphaned rows'],
    ])
    expect(report.ok).to.equal(true)
    expect((await store.maintenance!.migrations()).map(m => [m.name, m.applied])).to.deep.equal(names.map(name => [name, true]))
  })

  it('opened without migrating, reports every migration pending and creates nothing', async () => {
    store = await openPostgresStore({migrate: false, url: urlOf(schema)})
    expect((await store.maintenance!.migrations()).map(m => m.applied)).to.deep.equal(names.map(() => false))
    const report = await store.maintenance!.check()
    expect(report.ok).to.equal(false)
    expect(report.checks.map(c => [c.name, c.ok, c.detail]).slice(1)).to.deep.equal([['migrations', false, `pending: ${names.join(', ')}`]])
    expect(
      await withClient(async client => (await client.query('SELECT COUNT(*)::int AS n FROM pg_namespace WHERE nspname = $1', [schema])).rows[0].n),
    ).to.equal(0)
  })

  it('goes all the way down one step at a time, and up again', async () => {
    store = await openPostgresStore({url: urlOf(schema)})
    const maintenance = store.maintenance!
    expect(await maintenance.revert()).to.deep.equal([names[7]])
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: ['fk_messages_session ON DELETE CASCADE'], indexes: INDEXES})
    expect(await maintenance.revert()).to.deep.equal([names[6]])
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V5})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: ['fk_messages_session ON DELETE CASCADE'], indexes: INDEXES_V6})
    expect(await maintenance.revert()).to.deep.equal([names[5]])
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V5})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: ['fk_messages_session ON DELETE CASCADE'], indexes: INDEXES_V5})
    expect(await maintenance.revert()).to.deep.equal([names[4]])
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V4, migrations: MIGRATIONS_TABLE, sessions: SESSIONS})
    expect(await maintenance.revert()).to.deep.equal([names[3]])
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V3, migrations: MIGRATIONS_TABLE, sessions: SESSIONS})
    expect(await maintenance.revert()).to.deep.equal([names[2]])
    expect((await shape(schema)).messages).to.deep.equal(MESSAGES_V2)
    expect(await maintenance.revert()).to.deep.equal([names[1]])
    expect(await shape(schema)).to.deep.equal({migrations: MIGRATIONS_TABLE, sessions: SESSIONS})
    expect(await maintenance.revert()).to.deep.equal([names[0]])
    expect(await shape(schema)).to.deep.equal({migrations: MIGRATIONS_TABLE})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: [], indexes: []})
    expect(await maintenance.revert()).to.deep.equal([])
    expect((await maintenance.migrations()).map(m => m.applied)).to.deep.equal(names.map(() => false))

    expect(await maintenance.migrate()).to.deep.equal(names)
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V6, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: ['fk_messages_session ON DELETE CASCADE'], indexes: INDEXES})
    expect(await maintenance.revert({all: true})).to.deep.equal([...names].reverse())
    expect(await shape(schema)).to.deep.equal({migrations: MIGRATIONS_TABLE})
    expect(await maintenance.migrate()).to.deep.equal(names)
    expect((await maintenance.check()).ok).to.equal(true)
  })

  it('upgrades a schema that holds data without losing a row, and cascades still work', async () => {
    store = await openPostgresStore({url: urlOf(schema)})
    expect(await store.maintenance!.revert()).to.deep.equal([names[7]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[6]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[5]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[4]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[3]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[2]])
    await store.close()

    // Data written by an earlier schema version (before finish details, reply_to, kept and forks), as an older synapse would have written it.
    const before = await withClient(async client => {
      await client.query(`SET search_path = "${schema}"`)
      for (let s = 0; s < 20; s++) {
        const sessionId = `01JC${String(s).padStart(22, '0')}`
        await client.query('INSERT INTO sessions (id, title, created_at, updated_at) VALUES ($1, $2, $3, $4)', [sessionId, `old ${s}`, 1000 + s, 2000 + s])
        for (let m = 0; m < 25; m++) {
          await client.query(
            'INSERT INTO messages (id, session_id, position, role, content, status, input_tokens, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
            [`01JD${String(s * 100 + m).padStart(22, '0')}`, sessionId, m, m % 2 ? 'assistant' : 'user', `s${s} m${m}`, 'complete', m, 3000 + m],
          )
        }
      }
      return (await client.query('SELECT * FROM messages ORDER BY id')).rows
    })
    expect(before.length).to.equal(500)

    store = await openPostgresStore({url: urlOf(schema)})
    const after = await withClient(async client => (await client.query(`SELECT * FROM "${schema}".messages ORDER BY id`)).rows)
    // Each old reply is recorded as answering the question stored right before it.
    const byPosition = new Map(before.map(row => [`${String(row.session_id)}:${String(row.position)}`, row.id]))
    expect(after).to.deep.equal(
      before.map(row => ({
        ...row,
        cached_input_tokens: null,
        cost_source: null,
        cost_usd: null,
        duration_ms: null,
        finish_reason: null,
        // Counts stored before the usage migration were the provider's: no other kind was stored.
        token_source: 'provider',
        reply_to: row.role === 'assistant' ? byPosition.get(`${String(row.session_id)}:${Number(row.position) - 1}`) : null,
      })),
    )
    expect(await store.count()).to.equal(20)
    const first = `01JC${'0'.repeat(22)}`
    expect((await store.messages(first)).map(m => m.content).slice(0, 2)).to.deep.equal(['s0 m0', 's0 m1'])
    expect((await store.list({limit: 1}))[0]).to.deep.include({messageCount: 25, preview: 's19 m0', title: 'old 19'})
    await store.delete([first])
    const remaining = await withClient(async client => (await client.query(`SELECT COUNT(*)::int AS n FROM "${schema}".messages`)).rows[0].n)
    expect(remaining).to.equal(475)
    expect((await store.maintenance!.check()).ok).to.equal(true)
    const sessions = await withClient(async client => (await client.query(`SELECT kept, COUNT(*)::int AS n FROM "${schema}".sessions GROUP BY kept`)).rows)
    expect(sessions).to.deep.equal([{kept: 0, n: 19}])
    // The search index fills from the rows there were before it.
    expect((await store.search('s7 m24')).map(hit => hit.snippet.text)).to.deep.equal(['s7 m24'])
    await store.update(`01JC${'1'.padStart(22, '0')}`, {kept: true})
    const reply = (await store.messages(`01JC${'1'.padStart(22, '0')}`))[1]
    await store.updateMessage(reply.sessionId, reply.id, {cachedInputTokens: 1, costSource: 'config', costUsd: 0.000125, tokenSource: 'estimate'})
    expect((await store.messages(reply.sessionId))[1]).to.deep.include({cachedInputTokens: 1, costSource: 'config', costUsd: 0.000125, tokenSource: 'estimate'})
    const forks = await withClient(
      async client => (await client.query(`SELECT COUNT(*)::int AS n FROM "${schema}".sessions WHERE parent_id IS NULL AND parent_position IS NULL`)).rows[0].n,
    )
    expect(forks).to.equal(19)
    // Sessions stored before the title index are found by title, through it.
    expect((await store.get('old 7')).id).to.equal(`01JC${'7'.padStart(22, '0')}`)
    const plan = await withClient(async client => {
      await client.query(`SET search_path = "${schema}"`)
      await client.query('SET enable_seqscan = off')
      const sql = "EXPLAIN SELECT s.id FROM sessions s WHERE substr(s.title, 1, 100) = substr(CAST('old 7' AS TEXT), 1, 100) AND s.title = 'old 7'"
      return (await client.query(sql)).rows.map(row => String(row['QUERY PLAN'])).join('\n')
    })
    expect(plan).to.contain('idx_sessions_title')
    const fork = await store.fork(`01JC${'7'.padStart(22, '0')}`, {at: 3})
    expect(fork).to.deep.include({parentId: `01JC${'7'.padStart(22, '0')}`, parentPosition: 3, title: 'old 7 (fork)'})
    await store.delete([fork.id])
    expect(await store.maintenance!.revert()).to.deep.equal([names[7]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[6]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[5]])
    expect(await store.maintenance!.revert()).to.deep.equal([names[4]])
    const kept = await withClient(async client => (await client.query(`SELECT COUNT(*)::int AS n FROM "${schema}".messages`)).rows[0].n)
    expect(kept).to.equal(475)
  })

  it('check reports a schema that drifted from the entities, and orphaned rows', async () => {
    store = await openPostgresStore({url: urlOf(schema)})
    const session = await store.create()
    await store.append(session.id, [{content: 'x', role: 'user'}])
    await withClient(async client => {
      await client.query(`DROP INDEX "${schema}".idx_sessions_updated_at`)
      await client.query(`ALTER TABLE "${schema}".messages DROP CONSTRAINT fk_messages_session`)
      await client.query(`DELETE FROM "${schema}".sessions`)
    })
    const report = await store.maintenance!.check()
    expect(report.ok).to.equal(false)
    const checks = Object.fromEntries(report.checks.map(c => [c.name, c]))
    expect(checks.schema.ok).to.equal(false)
    expect(checks.schema.detail).to.match(/^differs: /)
    expect(checks.schema.detail).to.contain('idx_sessions_updated_at').and.to.contain('fk_messages_session')
    expect(checks['foreign keys']).to.deep.equal({detail: '1 rows point at missing parents', name: 'foreign keys', ok: false})
  })

  it('check reports a search index gone, and reindex makes it again', async () => {
    store = await openPostgresStore({url: urlOf(schema)})
    const session = await store.create({title: 'Lapwing'})
    await store.append(session.id, [{content: 'a lapwing calls', role: 'user'}])
    await withClient(client => client.query(`DROP INDEX "${schema}".idx_messages_search`))
    const broken = (await store.maintenance!.check()).checks.find(c => c.name === 'search index')
    expect(broken).to.deep.equal({detail: 'missing: idx_messages_search. Rebuild it with "synapse db reindex".', name: 'search index', ok: false})
    expect(await store.maintenance!.reindex()).to.deep.equal({detail: '1 message indexed (GIN, kept by PostgreSQL)', name: 'search index', ok: true})
    expect(await constraints(schema)).to.deep.equal({foreignKeys: ['fk_messages_session ON DELETE CASCADE'], indexes: INDEXES})
    expect((await store.search('lapwing')).map(hit => hit.snippet.text)).to.deep.equal(['Lapwing', 'a lapwing calls'])
    expect((await store.maintenance!.check()).ok).to.equal(true)
  })

  it('does not back up, and says what does', async () => {
    store = await openPostgresStore({url: urlOf(schema)})
    try {
      await store.maintenance!.backup('/tmp/never-written.db')
      expect.fail('backed up')
    } catch (error) {
      expect((error as SynapseError).code).to.equal('STORAGE_UNAVAILABLE')
      expect((error as SynapseError).message).to.equal(`synapse does not back up a PostgreSQL database itself (${urlOf(schema)}).`)
      expect((error as SynapseError).suggestions).to.deep.equal([
        `Use pg_dump, which takes a consistent snapshot while others write: pg_dump --format=custom --schema=${schema} --file=synapse.dump "<url>"`,
        'Restore it with pg_restore --dbname="<url>" synapse.dump',
      ])
    }
  })

  it('says to migrate when a store opened without migrating finds no tables', async () => {
    store = await openPostgresStore({migrate: false, url: urlOf(schema)})
    try {
      await store.count()
      expect.fail('counted sessions in no table')
    } catch (error) {
      expect((error as SynapseError).code).to.equal('STORAGE_UNAVAILABLE')
      expect((error as SynapseError).message).to.equal(`The session tables are missing at ${urlOf(schema)}: relation "sessions" does not exist.`)
      expect((error as SynapseError).suggestions).to.deep.equal(['Run "synapse db migrate".'])
    }
  })

  it('refuses a schema migrated by a newer synapse', async () => {
    await (await openPostgresStore({url: urlOf(schema)})).close()
    await withClient(client =>
      client.query(`INSERT INTO "${schema}".migrations (timestamp, name) VALUES ($1, $2)`, [1_999_999_999_999, 'FromTheFuture1999999999999']),
    )
    try {
      store = await openPostgresStore({url: urlOf(schema)})
      expect.fail('opened a schema from a newer version')
    } catch (error) {
      expect(error).to.be.instanceOf(SynapseError)
      expect((error as SynapseError).code).to.equal('MIGRATION_FAILED')
      expect((error as SynapseError).message).to.equal('The session database was migrated by a newer synapse (FromTheFuture1999999999999).')
    }
  })

  it('three processes opening one fresh schema at once migrate it exactly once', async function () {
    this.timeout(60_000)
    // The workers connect first, then all migrate at the same instant.
    const startAt = String(Date.now() + 2500)
    const results = await Promise.all([0, 1, 2].map(() => runWorker([urlOf(schema), startAt])))
    for (const result of results) {
      expect(result.stderr).to.equal('')
      expect(result.code).to.equal(0)
    }
    const applied = results.map(result => JSON.parse(result.stdout) as {applied: string[]; pending: number})
    expect(applied.map(a => a.pending)).to.deep.equal([0, 0, 0])
    expect(applied.map(a => a.applied).sort((a, b) => b.length - a.length)).to.deep.equal([names, [], []])
    const rows = await withClient(async client => (await client.query(`SELECT name FROM "${schema}".migrations ORDER BY id`)).rows)
    expect(rows.map(row => row.name)).to.deep.equal(names)
    expect(await shape(schema)).to.deep.equal({messages: MESSAGES_V6, migrations: MIGRATIONS_TABLE, sessions: SESSIONS_V6})
  })
})
