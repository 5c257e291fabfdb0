import {expect} from 'chai'
import {sessionStoreConformance} from 'synapse-cli/testing'

import {openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf, withClient} from './helpers.js'

/**
 * PostgreSQL orders text by collation. The test database's (C.UTF-8) happens to be byte order; most
 * are not. Under Danish ICU rules "AA" sorts after "Z" and "[" before every letter, so id ranges,
 * neighbours and ORDER BY id would all go wrong without the store's byte-order comparisons.
 */
const COLLATION = 'da-x-icu'

async function openWithIdCollation(schema: string, clock?: () => Date) {
  const url = urlOf(schema)
  await (await openPostgresStore({url})).close()
  await withClient(async client => {
    await client.query(`ALTER TABLE "${schema}".messages DROP CONSTRAINT fk_messages_session`)
    await client.query(`ALTER TABLE "${schema}".sessions ALTER COLUMN id TYPE varchar(26) COLLATE "${COLLATION}"`)
    await client.query(`ALTER TABLE "${schema}".messages ALTER COLUMN session_id TYPE varchar(26) COLLATE "${COLLATION}"`)
    await client.query(
      `ALTER TABLE "${schema}".messages ADD CONSTRAINT fk_messages_session FOREIGN KEY (session_id) REFERENCES "${schema}".sessions (id) ON DELETE CASCADE`,
    )
  })
  return openPostgresStore({clock, url})
}

describe(`PostgreSQL store with ids collated "${COLLATION}"`, () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  it('is a collation that does not order ids byte by byte', async () => {
    const sorted = await withClient(async client => {
      const {rows} = await client.query(`SELECT x FROM (VALUES ('01JCAA'), ('01JCZZ'), ('01JC[')) v(x) ORDER BY x COLLATE "${COLLATION}"`)
      return rows.map(row => row.x)
    })
    expect(sorted).to.deep.equal(['01JC[', '01JCZZ', '01JCAA'])
  })

  it('resolves prefixes, short ids and ties in byte order', async () => {
    const store = await openWithIdCollation(schemas.fresh('collation'))
    try {
      const ids = ['01JCAA00000000000000000000', '01JCAA00000000000000000001', '01JCZZ00000000000000000000']
      for (const id of ids) await store.create({id})
      expect((await store.get('01jcaa00000000000000000001')).id).to.equal(ids[1])
      expect((await store.get('01JCZ')).id).to.equal(ids[2])
      expect(Object.fromEntries((await store.list()).map(s => [s.id, s.shortId]))).to.deep.equal({
        [ids[0]]: '01JCAA00000000000000000000',
        [ids[1]]: '01JCAA00000000000000000001',
        [ids[2]]: '01JCZZ00',
      })
    } finally {
      await store.close()
    }
  })

  sessionStoreConformance({createStore: ({clock}) => openWithIdCollation(schemas.fresh('collation'), clock), name: `postgres, ids collated ${COLLATION}`})
})
