import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import type {SynapseError} from 'synapse-cli'

import {openPostgresStore} from '../src/postgres-store.js'
import {SERVER_URL, Schemas, urlOf, withClient} from './helpers.js'

/** The test server's URL for the schema, logging in as `role`. */
function urlAs(role: string, schema: string): string {
  const url = new URL(urlOf(schema))
  url.username = role
  return url.toString()
}

describe('PostgreSQL permissions (README)', () => {
  const schemas = new Schemas()
  const role = `synapse_test_role_${randomBytes(4).toString('hex')}`
  let schema: string

  before(async () => {
    schema = schemas.fresh('permissions')
    await (await openPostgresStore({url: urlOf(schema)})).close()
    await withClient(client => client.query(`CREATE ROLE ${role} LOGIN`))
  })
  after(async () => {
    await schemas.dropAll()
    await withClient(async client => {
      await client.query(`DROP OWNED BY ${role}`)
      await client.query(`DROP ROLE ${role}`)
    })
  })

  it('a user without rights on the tables gets STORAGE_UNAVAILABLE naming what was denied', async () => {
    // information_schema hides tables a user has no rights on, so synapse takes the schema for blank
    // and tries to migrate it.
    await withClient(client => client.query(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`))
    try {
      await openPostgresStore({url: urlAs(role, schema)})
      expect.fail('opened without rights')
    } catch (error) {
      expect((error as SynapseError).code).to.equal('STORAGE_UNAVAILABLE')
      const host = new URL(SERVER_URL).host
      expect((error as SynapseError).message).to.equal(
        `PostgreSQL at postgres://${role}@${host}/test?schema=${schema} denied access: permission denied for schema ${schema}.`,
      )
    }
  })

  it('USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on its tables are enough for every store command', async () => {
    await withClient(client => client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO ${role}`))
    const store = await openPostgresStore({url: urlAs(role, schema)})
    try {
      const session = await store.create({title: 'limited'})
      const [reply] = await store
        .append(session.id, [
          {content: 'q', role: 'user'},
          {content: 'a', role: 'assistant', status: 'interrupted'},
        ])
        .then(m => m.slice(1))
      await store.updateMessage(session.id, reply.id, {status: 'complete'})
      await store.update(session.id, {title: 'renamed'})
      expect((await store.list())[0]).to.deep.include({messageCount: 2, title: 'renamed'})
      expect(await store.clear(session.id)).to.equal(2)
      await store.restore({messages: [], session: {...session, id: '01JP0000000000000000000000', updatedAt: new Date(Date.now() + 60_000)}})
      expect((await store.prune({maxSessions: 1})).deleted.map(s => s.id)).to.deep.equal([session.id])
      expect(await store.delete(['01JP0000000000000000000000'])).to.equal(1)
      expect((await store.maintenance!.check()).ok).to.equal(true)
      // Changing the schema is the owner's business.
      try {
        await store.maintenance!.revert()
        expect.fail('reverted without owning the tables')
      } catch (error) {
        expect((error as SynapseError).code).to.equal('STORAGE_UNAVAILABLE')
        expect((error as SynapseError).message).to.match(/denied access: must be owner of (table|index) /)
      }
    } finally {
      await store.close()
    }
  })
})
