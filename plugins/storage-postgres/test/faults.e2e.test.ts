import {expect} from 'chai'
import pg from 'pg'

import {FakeOpenAIServer, makeSandbox, type Sandbox, synapse} from 'synapse-cli/testing'
import {SERVER_URL, Schemas, urlOf} from './helpers.js'

const LOCKED =
  /The session database at postgres:\/\/.* stayed locked by another process for 0\.3 s\. — Try again; if it keeps happening, look for a stuck session in pg_stat_activity \(state "idle in transaction"\)\./

/**
 * A continued chat on PostgreSQL while another connection holds a table lock: the CLI as a child
 * process, the real server, the fake OpenAI server on 127.0.0.1.
 */
describe('PostgreSQL under a table lock (end to end)', function () {
  this.timeout(30_000)
  const schemas = new Schemas()
  let sandbox: Sandbox
  let server: FakeOpenAIServer
  let locker: pg.Client
  let env: NodeJS.ProcessEnv

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
    sandbox = makeSandbox({OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url})
    const schema = schemas.fresh('faults')
    env = {DATABASE_URL: urlOf(schema), SYNAPSE_BUSY_TIMEOUT_MS: '300'}
    server.enqueue({chunks: ['Paris.'], type: 'reply'}, {chunks: ['About two million.'], type: 'reply'})
    expect((await synapse(sandbox, ['Capital of France?'], {env})).code).to.equal(0)
    locker = new pg.Client({application_name: 'synapse-tests', connectionString: SERVER_URL})
    await locker.connect()
    await locker.query('BEGIN')
    await locker.query(`SET LOCAL search_path = "${schema}"`)
  })
  afterEach(async () => {
    await locker.query('ROLLBACK').catch(() => undefined)
    await locker.end()
    await server.close()
    sandbox.cleanup()
    await schemas.dropAll()
  })

  function sent(): Array<[string, string]> {
    return server.chatRequests.at(-1)!.chat!.messages.map(m => [m.role, m.content])
  }

  it('EXCLUSIVE (writers wait, readers go on): the reply arrives with its history, the warning says it was not saved, exit 1', async () => {
    await locker.query('LOCK TABLE sessions IN EXCLUSIVE MODE')
    const {code, stderr, stdout} = await synapse(sandbox, ['-c', 'Its population?'], {env})
    expect(stdout).to.equal('About two million.\n')
    expect(stderr).to.match(new RegExp(`^Warning: this conversation was not saved: ${LOCKED.source}\n$`))
    expect(code).to.equal(1)
    expect(sent()).to.deep.equal([
      ['user', 'Capital of France?'],
      ['assistant', 'Paris.'],
      ['user', 'Its population?'],
    ])
  })

  it('EXCLUSIVE while retention has sessions to prune: the cleanup is one warning, the turn goes on', async () => {
    await locker.query('LOCK TABLE sessions IN EXCLUSIVE MODE')
    const {code, stderr, stdout} = await synapse(sandbox, ['-c', 'Its population?'], {env: {...env, SYNAPSE_RETENTION_DAYS: '0.000001'}})
    expect(stdout).to.equal('About two million.\n')
    expect(stderr).to.match(
      new RegExp(`^Warning: automatic cleanup of old sessions failed: ${LOCKED.source}\nWarning: this conversation was not saved: ${LOCKED.source}\n$`),
    )
    expect(code).to.equal(1)
  })

  it('ACCESS EXCLUSIVE (even reads wait): the history cannot be read, so nothing is sent; one error names the lock, exit 1', async () => {
    await locker.query('LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE')
    const {code, stderr} = await synapse(sandbox, ['-c', 'Its population?'], {env: {...env, SYNAPSE_AUTO_CLEANUP: 'false'}})
    expect(stderr).to.match(
      /^Error: The session database at postgres:\/\/.* stayed locked by another process for 0\.3 s\.\n {2}→ Try again; if it keeps happening, look for a stuck session in pg_stat_activity \(state "idle in transaction"\)\.\n$/,
    )
    expect(code).to.equal(1)
    expect(server.chatRequests).to.have.length(1)
  })
})
