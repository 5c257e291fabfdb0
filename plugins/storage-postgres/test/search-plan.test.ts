import {expect} from 'chai'
import pg from 'pg'
import {SessionStore} from 'synapse-cli'
import {recordingExecutor, storeRetriedExchanges} from 'synapse-cli/testing'
import {DataSource, postgresDialect, SqlStorageAdapter} from 'synapse-cli/typeorm'

import {PostgresExecutor} from '../src/postgres-executor.js'
import {idsCompareBytewise, openPostgresStore} from '../src/postgres-store.js'
import {postgresTarget} from '../src/target.js'
import {Schemas, urlOf, withClient} from './helpers.js'

describe('PostgreSQL search plans', () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  it('finds message hits through the GIN index and reads questions and previews by key, with or without what was taken out', async () => {
    const schema = schemas.fresh('search_plan')
    const writer = await openPostgresStore({url: urlOf(schema)})
    try {
      await storeRetriedExchanges(writer, 'tern', 30)
    } finally {
      await writer.close()
    }
    // Other messages, as a history holds far more than any one search finds: the planner weighs
    // an index against the table's size.
    await withClient(async client => {
      await client.query(`INSERT INTO "${schema}".sessions (id, created_at, updated_at, kept, metadata) VALUES ('01JCFILLERFILLERFILLERFILL', 0, 0, 0, NULL)`)
      await client.query(
        `INSERT INTO "${schema}".messages (id, session_id, position, role, content, status, created_at)
           SELECT '01JD' || lpad(n::text, 22, '0'), '01JCFILLERFILLERFILLERFILL', n, 'user', 'filler words number ' || n, 'complete', n
             FROM generate_series(0, 4999) AS n`,
      )
      await client.query(`ANALYZE "${schema}".sessions`)
      await client.query(`ANALYZE "${schema}".messages`)
    })
    // The planner as it is, sequential scans allowed: what it chooses for a history of this size.
    const dataSource = new DataSource({driver: pg, poolSize: 1, type: 'postgres', url: postgresTarget(urlOf(schema)).connectionUrl})
    await dataSource.initialize()
    const executor = recordingExecutor(new PostgresExecutor(dataSource))
    const dialect = postgresDialect({idsInByteOrder: await idsCompareBytewise(dataSource, schema)})
    const store = new SessionStore(new SqlStorageAdapter({backend: 'postgres', dataSource, dialect, executor}))
    try {
      const cases: Array<Parameters<SessionStore['search']>[1]> = [
        {},
        {includeReplaced: true},
        {role: 'assistant'},
        {includeReplaced: true, role: 'assistant', since: new Date(0)},
      ]
      for (const options of cases) {
        executor.queries.length = 0
        expect(await store.search('tern', options), JSON.stringify(options)).to.have.length(20)
        const statements = executor.queries.filter(q => q.sql.includes('m.content'))
        expect(statements, JSON.stringify(options)).to.have.length(1)
        for (const {params, sql} of statements) {
          const plan = (await executor.all(`EXPLAIN ${sql}`, params)).map(row => String(row['QUERY PLAN'])).join('\n')
          const why = `${JSON.stringify(options)}:\n${plan}`
          expect(plan, why).to.contain('Bitmap Index Scan on idx_messages_search')
          // The question of each reply by its key: never an anti-join over every hidden message.
          expect(plan, why).to.match(/Index Scan using \S+ on messages q/)
          // Each hit's session's preview, its first question, by the session and position.
          expect(plan, why).to.match(/Index Scan using idx_messages_session_position on messages pv/)
          expect(plan, why).not.to.match(/Seq Scan on messages/)
        }
      }
    } finally {
      await store.close()
    }
  })
})
