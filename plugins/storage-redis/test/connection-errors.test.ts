import {expect} from 'chai'
import {createServer} from 'node:net'
import {SynapseError} from 'synapse-cli'
import {listen, raceConnectTimeouts} from 'synapse-cli/testing'

import {RedisStorageAdapter} from '../src/redis-adapter.js'
import {SERVER_URL} from './helpers.js'
import {startThrowawayRedis} from './throwaway-redis.js'

const PASSWORD = 'Sw0rdfish-s3cret'

async function openError(url: string): Promise<SynapseError> {
  try {
    const adapter = await RedisStorageAdapter.open({url})
    await adapter.close()
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(SynapseError)
    const synapseError = error as SynapseError
    expect(JSON.stringify(synapseError.toJSON())).not.to.contain(PASSWORD)
    expect(synapseError.message).not.to.contain('\n')
    return synapseError
  }
  expect.fail(`opened ${url}`)
}

describe('Redis connection errors', () => {
  const {host} = new URL(SERVER_URL)

  it('a closed port: STORAGE_UNAVAILABLE, connection refused', async () => {
    const server = createServer()
    const port = await listen(server)
    await new Promise(resolve => server.close(resolve))
    const error = await openError(`redis://ada:${PASSWORD}@127.0.0.1:${port}/0`)
    expect(error.code).to.equal('STORAGE_UNAVAILABLE')
    expect(error.message).to.equal(`Cannot connect to Redis at redis://ada:***@127.0.0.1:${port}/0: connection refused.`)
    expect(error.suggestions[0]).to.equal('Check that redis-server is running and listens on that host and port.')
  })

  it('a login the server refuses: STORAGE_UNAVAILABLE, the password nowhere', async () => {
    const error = await openError(`redis://synapse-no-such-user:${PASSWORD}@${host}/0`)
    expect(error.code).to.equal('STORAGE_UNAVAILABLE')
    expect(error.message).to.equal(
      `Redis at redis://synapse-no-such-user:***@${host}/0 refused the login: WRONGPASS invalid username-password pair or user is disabled.`,
    )
  })

  it('a database the server does not have: STORAGE_UNAVAILABLE, naming the limit', async () => {
    const error = await openError(`redis://${host}/9999`)
    expect(error.code).to.equal('STORAGE_UNAVAILABLE')
    expect(error.message).to.equal(`Redis at redis://${host}/9999 has no such database: ERR DB index is out of range.`)
    expect(error.suggestions).to.deep.equal(['Use a database number below the server’s "databases" setting (0 to 15 by default).'])
  })

  it("a server that never answers: STORAGE_UNAVAILABLE after the URL's connect_timeout", async () => {
    const {gaveUp, port} = await raceConnectTimeouts((port, seconds) => openError(`redis://127.0.0.1:${port}/0?connect_timeout=${seconds}`))
    expect(gaveUp.map(({timeoutS}) => timeoutS)).to.deep.equal([1, 2])
    for (const {result: error, timeoutS} of gaveUp) {
      expect(error.code).to.equal('STORAGE_UNAVAILABLE')
      expect(error.message).to.equal(
        `Cannot connect to Redis at redis://127.0.0.1:${port}/0?connect_timeout=${timeoutS}: no answer in time (Connection timeout).`,
      )
    }
  })

  it('a server that hangs up: STORAGE_UNAVAILABLE, connection lost', async () => {
    const server = createServer(socket => socket.destroy())
    const port = await listen(server)
    try {
      const error = await openError(`redis://127.0.0.1:${port}/0`)
      expect(error.code).to.equal('STORAGE_UNAVAILABLE')
      expect(error.message).to.match(new RegExp(`^Lost the connection to Redis at redis://127\\.0\\.0\\.1:${port}/0: `))
    } finally {
      await new Promise(resolve => server.close(resolve))
    }
  })

  it('a server that goes away under an open store: STORAGE_UNAVAILABLE, connection lost', async () => {
    const server = await startThrowawayRedis()
    const adapter = await RedisStorageAdapter.open({url: server.url})
    try {
      expect(await adapter.countSessions()).to.equal(0)
      await server.stop()
      const error = await adapter.countSessions().then(
        () => expect.fail('counted on a stopped server'),
        (error_: unknown) => error_ as SynapseError,
      )
      expect(error, String(error)).to.be.instanceOf(SynapseError)
      expect(error.code).to.equal('STORAGE_UNAVAILABLE')
      expect(error.message).to.match(new RegExp(`^Lost the connection to Redis at ${server.url.replaceAll('/', '\\/')}: `))
    } finally {
      await adapter.close().catch(() => {})
      await server.stop()
    }
  })
})
