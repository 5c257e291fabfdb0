import {expect} from 'chai'

import {SERVER_URL, uniqueSchema, withClient} from './helpers.js'

// Every test here needs the server: when it cannot be reached the whole run fails, loudly, once.
before(async () => {
  await withClient(client => client.query('SELECT 1')).catch((error: unknown) => {
    throw new Error(`The PostgreSQL test server at ${SERVER_URL} cannot be reached (${String(error)}); start it or set SYNAPSE_TEST_POSTGRES_URL.`)
  })
})

describe('PostgreSQL test server', () => {
  it('answers, and lets the tests create and drop schemas', async () => {
    const schema = uniqueSchema('server')
    const found = await withClient(async client => {
      await client.query(`CREATE SCHEMA "${schema}"`)
      await client.query(`DROP SCHEMA "${schema}"`)
      return (await client.query('SELECT current_database() AS database')).rows[0].database
    })
    expect(found).to.equal(new URL(SERVER_URL).pathname.slice(1))
  })
})
