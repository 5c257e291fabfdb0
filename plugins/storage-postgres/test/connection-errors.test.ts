import {expect} from 'chai'
import {createServer} from 'node:net'
import {SynapseError} from 'synapse-cli'
import {listen, raceConnectTimeouts} from 'synapse-cli/testing'

import {openPostgresStore} from '../src/postgres-store.js'
import {SERVER_URL} from './helpers.js'

const PASSWORD = 'Sw0rdfish-s3cret'

/** The test server's URL with a user, a password and whatever else changed. */
function serverUrl(change: {database?: string; port?: number; search?: string; user?: string}): string {
  const url = new URL(SERVER_URL)
  url.username = change.user ?? (url.username || 'postgres')
  url.password = PASSWORD
  if (change.port !== undefined) url.port = String(change.port)
  if (change.database !== undefined) url.pathname = `/${change.database}`
  if (change.search !== undefined) url.search = change.search
  return url.toString()
}

async function openError(url: string): Promise<SynapseError> {
  try {
    const store = await openPostgresStore({url})
    await store.close()
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(SynapseError)
    const synapseError = error as SynapseError
    expect(synapseError.message).not.to.contain(PASSWORD)
    expect(JSON.stringify(synapseError.toJSON())).not.to.contain(PASSWORD)
    expect(synapseError.message).not.to.contain('\n')
    return synapseError
  }
  expect.fail(`opened ${url}`)
}

describe('PostgreSQL connection errors', () => {
  const host = new URL(SERVER_URL).host

  it('a closed port: STORAGE_UNAVAILABLE, connection refused', async () => {
    const server = createServer()
    const port = await listen(server)
    await new Promise(resolve => server.close(resolve))
    const error = await openError(serverUrl({port}))
    expect(error.code).to.equal('STORAGE_UNAVAILABLE')
    const user = new URL(serverUrl({})).username
    expect(error.message).to.equal(`Cannot connect to PostgreSQL at postgres://${user}:***@127.0.0.1:${port}/test: connection refused.`)
    expect(error.suggestions[0]).to.equal('Check that the server is running and listens on that host and port.')
  })

  it('an unknown database: STORAGE_UNAVAILABLE, naming it', async () => {
    const error = await openError(serverUrl({database: 'synapse_no_such_database'}))
    expect(error.code).to.equal('STORAGE_UNAVAILABLE')
    const user = new URL(serverUrl({})).username
    expect(error.message).to.equal(
      `PostgreSQL at postgres://${user}:***@${host}/synapse_no_such_database has no such database: database "synapse_no_such_database" does not exist.`,
    )
  })

  it('a login the server refuses: STORAGE_UNAVAILABLE', async () => {
    const error = await openError(serverUrl({user: 'synapse_no_such_role'}))
    expect(error.code).to.equal('STORAGE_UNAVAILABLE')
    expect(error.message).to.equal(
      `PostgreSQL at postgres://synapse_no_such_role:***@${host}/test refused the login: role "synapse_no_such_role" does not exist.`,
    )
  })

  it("a server that never answers: STORAGE_UNAVAILABLE after the URL's connect_timeout", async () => {
    const user = new URL(serverUrl({})).username
    const {gaveUp, port} = await raceConnectTimeouts((port, seconds) => openError(serverUrl({port, search: `?connect_timeout=${seconds}`})))
    expect(gaveUp.map(({timeoutS}) => timeoutS)).to.deep.equal([1, 2])
    for (const {result: error, timeoutS} of gaveUp) {
      expect(error.code).to.equal('STORAGE_UNAVAILABLE')
      expect(error.message).to.equal(
        `Cannot connect to PostgreSQL at postgres://${user}:***@127.0.0.1:${port}/test?connect_timeout=${timeoutS}: no answer in time (Connection terminated due to connection timeout).`,
      )
    }
  })

  it('a schema name it cannot use safely: CONFIG_INVALID before connecting', async () => {
    const error = await openError(serverUrl({port: 1, search: '?schema=Robert%27);DROP'}))
    expect(error.code).to.equal('CONFIG_INVALID')
    expect(error.message).to.equal(`"Robert');DROP" is not a schema name synapse accepts.`)
  })
})
