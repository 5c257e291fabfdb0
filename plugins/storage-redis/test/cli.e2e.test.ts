import {expect} from 'chai'
import {createServer} from 'node:net'

import {FakeOpenAIServer, listen, makeSandbox, type Sandbox, synapse} from 'synapse-cli/testing'
import {openRedisStore} from '../src/redis-adapter.js'
import {Prefixes} from './helpers.js'

/** The built CLI with DATABASE_URL=redis://…: chats, listings and retention as a user runs them. */
describe('synapse on Redis (end to end)', function () {
  this.timeout(60_000)
  const prefixes = new Prefixes()
  let sandbox: Sandbox
  let server: FakeOpenAIServer
  let url: string

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
    url = prefixes.url('cli')
    sandbox = makeSandbox({DATABASE_URL: url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url, SYNAPSE_AUTO_CLEANUP: 'false'})
  })
  afterEach(async () => {
    await server.close()
    sandbox.cleanup()
  })
  after(() => prefixes.dropAll())

  it('chats, continues, lists and prunes, with every turn stored whole', async () => {
    server.reply(['Keys', ' and values.'], {usage: {inputTokens: 5, outputTokens: 3}})
    expect(await synapse(sandbox, ['What is Redis?'])).to.deep.include({code: 0, stderr: '', stdout: 'Keys and values.\n'})
    server.reply(['In memory.'])
    expect(await synapse(sandbox, ['-c', 'Where?'])).to.deep.include({code: 0, stderr: '', stdout: 'In memory.\n'})
    // The second request carried the first turn as context.
    expect(server.chatRequests.at(-1)!.chat!.messages.map(m => m.content)).to.deep.equal(['What is Redis?', 'Keys and values.', 'Where?'])

    const store = await openRedisStore({url})
    let chatted: string
    try {
      const [session] = await store.list()
      chatted = session.id
      const messages = await store.messages(session.id)
      expect(messages.map(m => [m.position, m.role, m.content, m.status])).to.deep.equal([
        [0, 'user', 'What is Redis?', 'complete'],
        [1, 'assistant', 'Keys and values.', 'complete'],
        [2, 'user', 'Where?', 'complete'],
        [3, 'assistant', 'In memory.', 'complete'],
      ])
      expect(messages[1]).to.deep.include({inputTokens: 5, outputTokens: 3, replyTo: messages[0].id})
      expect(messages[3].replyTo).to.equal(messages[2].id)
    } finally {
      await store.close()
    }

    expect(await synapse(sandbox, ['sessions', 'new', '--title', 'second'])).to.deep.include({code: 0, stderr: ''})
    const listed = await synapse(sandbox, ['sessions', 'list', '--json'])
    expect(
      JSON.parse(listed.stdout).map((s: {id: string; messageCount: number; title: null | string}) => [s.id === chatted, s.title, s.messageCount]),
    ).to.deep.equal([
      [false, 'second', 0],
      [true, null, 4],
    ])
    const pruned = await synapse(sandbox, ['sessions', 'prune', '--max-sessions', '1', '--force', '--json'])
    expect(pruned.code, pruned.stderr).to.equal(0)
    expect(JSON.parse(pruned.stdout).deleted.map((s: {id: string}) => s.id)).to.deep.equal([chatted])
    expect((await synapse(sandbox, ['sessions', 'list'])).stdout.split('\n').filter(Boolean)).to.have.length(1)
  })

  it('a server that is down: exit 1, one line with the remedy, the password masked', async () => {
    const closed = createServer()
    const port = await listen(closed)
    await new Promise(resolve => closed.close(resolve))
    const down = `redis://ada:hunter2@127.0.0.1:${port}/0`
    const result = await synapse(sandbox, ['sessions', 'list'], {env: {DATABASE_URL: down}})
    expect(result.code).to.equal(1)
    expect(result.stdout).to.equal('')
    expect(result.stderr).not.to.contain('hunter2')
    expect(result.stderr.split('\n')[0]).to.equal(`Error: Cannot connect to Redis at redis://ada:***@127.0.0.1:${port}/0: connection refused.`)
    expect(result.stderr).to.contain('Check that redis-server is running and listens on that host and port.')
  })
})
