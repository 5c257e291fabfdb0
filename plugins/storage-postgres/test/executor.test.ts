import {expect} from 'chai'
import type {SessionStore} from 'synapse-cli'
import {DataSource, postgresDialect, type SqlDialect} from 'synapse-cli/typeorm'
import pg from 'pg'

import {PostgresExecutor, decodeText, encodeText} from '../src/postgres-executor.js'
import {idsCompareBytewise, openPostgresStore} from '../src/postgres-store.js'
import {postgresTarget} from '../src/target.js'
import {Schemas, urlOf, withClient} from './helpers.js'

describe('PostgreSQL executor', () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  it('numbers placeholders and compares ids byte by byte unless their collation already does', () => {
    const dialect = postgresDialect({idsInByteOrder: false})
    expect([1, 2, 3].map(n => dialect.placeholder(n))).to.deep.equal(['$1', '$2', '$3'])
    expect(dialect.byteOrder).to.equal(' COLLATE "C"')
    expect(dialect.lockRow).to.equal(' FOR UPDATE')
    expect(postgresDialect({idsInByteOrder: true}).byteOrder).to.equal('')
  })

  it('escapes NUL and its own escape characters reversibly', () => {
    const samples = ['plain', 'a\u0000b', '\u0000\u0000', '\uE000', '\uE001', '\uE001\uE000\u0000', 'x\uE001\uE001y']
    for (const text of samples) {
      expect(encodeText(text)).not.to.contain('\u0000')
      expect(decodeText(encodeText(text))).to.equal(text)
    }
    expect(encodeText('a\u0000b\uE000c\uE001')).to.equal('a\uE000b\uE001\uE000c\uE001\uE001')
    // A preview cut between an escape and its character loses only that character.
    expect(decodeText('ab\uE001')).to.equal('ab')
  })

  describe('on a store', () => {
    let store: SessionStore
    let schema: string
    beforeEach(async () => {
      schema = schemas.fresh('executor')
      store = await openPostgresStore({url: urlOf(schema)})
    })
    afterEach(() => store.close())

    it('compares ids without COLLATE "C" on the test database, whose collation is byte order already', () => {
      expect((store as unknown as {adapter: {dialect: SqlDialect}}).adapter.dialect.byteOrder).to.equal('')
    })

    it('keeps NUL and private-use characters in every text field, and previews them', async () => {
      const odd = `nul\u0000 e000\uE000 e001\uE001 end`
      const session = await store.create({model: 'm\u0000', systemPrompt: odd, title: odd})
      const [message] = await store.append(session.id, [{content: odd, metadata: {raw: odd}, role: 'user'}])
      expect(await store.get(session.id)).to.deep.include({model: 'm\u0000', systemPrompt: odd, title: odd})
      expect((await store.messages(session.id))[0]).to.deep.include({content: odd, metadata: {raw: odd}})
      expect((await store.list())[0].preview).to.equal(odd)
      expect((await store.updateMessage(session.id, message.id, {content: `${odd}!`})).content).to.equal(`${odd}!`)
      // What other readers of the table see.
      const stored = await withClient(async client => (await client.query(`SELECT content FROM "${schema}".messages`)).rows[0].content)
      expect(stored).to.equal('nul\uE000 e000\uE001\uE000 e001\uE001\uE001 end!')
    })
  })

  describe('id collation', () => {
    let dataSource: DataSource
    let schema: string
    before(async () => {
      schema = schemas.fresh('collation_probe')
      await (await openPostgresStore({url: urlOf(schema)})).close()
      // One connection, so that a session setting applies to every query.
      dataSource = new DataSource({driver: pg, poolSize: 1, type: 'postgres', url: postgresTarget(urlOf(schema)).connectionUrl})
      await dataSource.initialize()
    })
    after(() => dataSource.destroy())

    async function collate(collation: string): Promise<void> {
      await withClient(client => client.query(`ALTER TABLE "${schema}".sessions ALTER COLUMN id TYPE varchar(26) COLLATE "${collation}"`))
    }

    it('takes the database default (C.UTF-8 on the test server) and C, POSIX, C.utf8 as byte order; ICU collations not', async () => {
      const database = await withClient(
        async client => (await client.query('SELECT datcollate FROM pg_database WHERE datname = current_database()')).rows[0].datcollate,
      )
      expect(database).to.equal('C.UTF-8')
      expect(await idsCompareBytewise(dataSource, schema)).to.equal(true)
      const verdicts: Record<string, boolean> = {}
      for (const collation of ['C', 'POSIX', 'C.utf8', 'ucs_basic', 'en-x-icu', 'da-x-icu', 'und-x-icu']) {
        await collate(collation)
        verdicts[collation] = await idsCompareBytewise(dataSource, schema)
      }
      expect(verdicts).to.deep.equal({C: true, 'C.utf8': true, POSIX: true, 'da-x-icu': false, 'en-x-icu': false, 'und-x-icu': false, ucs_basic: true})
      expect(await idsCompareBytewise(dataSource, 'synapse_test_no_such_schema')).to.equal(false)
    })

    it('leaves COLLATE "C" out where ids are in byte order (C.UTF-8), so the primary key serves prefix look-ups', async () => {
      await collate('default')
      const executor = new PostgresExecutor(dataSource)
      let dialect = postgresDialect({idsInByteOrder: false})
      const plan = async () =>
        (
          await executor.all(
            `EXPLAIN SELECT id FROM "${schema}".sessions s WHERE s.id${dialect.byteOrder} >= $1 AND s.id${dialect.byteOrder} < $2 ORDER BY s.id${dialect.byteOrder} LIMIT 6`,
            ['01JC', '01JC['],
          )
        )
          .map(row => String(row['QUERY PLAN']))
          .join('\n')
      await withClient(client => client.query(`ANALYZE "${schema}".sessions`))
      await dataSource.query('SET enable_seqscan = off')
      // The primary key is read whole and filtered: no range on it.
      expect(await plan()).not.to.contain('Index Cond')
      dialect = postgresDialect({idsInByteOrder: true})
      const elided = await plan()
      expect(elided).to.contain(`Index Only Scan using "${await primaryKeyName(schema)}"`)
      expect(elided).to.contain("Index Cond: ((id >= '01JC'::text) AND (id < '01JC['::text))")
    })
  })
})

async function primaryKeyName(schema: string): Promise<string> {
  return withClient(
    async client =>
      (await client.query(`SELECT conname FROM pg_constraint WHERE conrelid = '"${schema}".sessions'::regclass AND contype = 'p'`)).rows[0].conname,
  )
}
