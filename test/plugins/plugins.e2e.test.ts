import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'

const ECHO = join(PROJECT_ROOT, 'examples', 'synapse-plugin-echo')
const BROKEN = join(PROJECT_ROOT, 'test', 'fixtures', 'plugins', 'synapse-plugin-broken')

function ownWarnings(stderr: string): string[] {
  return stderr.split('\n').filter(line => line !== '')
}

describe('plugins (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  it('a linked plugin provides its provider from the next command on, and stops when unlinked', async () => {
    const link = await synapse(sandbox, ['plugins', 'link', ECHO, '--no-install'])
    expect(link.code).to.equal(0)
    const listed = await synapse(sandbox, ['plugins'])
    expect(listed.stdout).to.equal(`synapse-plugin-echo 1.0.0 (link) ${ECHO}\n`)

    const chat = await synapse(sandbox, ['-p', 'echo', 'hello plugin world'])
    expect(ownWarnings(chat.stderr)).to.deep.equal([])
    expect(chat.code).to.equal(0)
    expect(chat.stdout).to.equal('hello plugin world\n')
    const louder = await synapse(sandbox, ['-c', '-m', 'shout-1', 'louder'])
    expect(louder.stdout).to.equal('LOUDER\n')

    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    const [session] = await store.list()
    expect(session).to.deep.include({messageCount: 4, model: 'shout-1', provider: 'echo'})
    expect((await store.messages(session.id)).map(m => [m.role, m.provider, m.content])).to.deep.equal([
      ['user', null, 'hello plugin world'],
      ['assistant', 'echo', 'hello plugin world'],
      ['user', null, 'louder'],
      ['assistant', 'echo', 'LOUDER'],
    ])
    await store.close()

    expect((await synapse(sandbox, ['plugins', 'unlink', 'synapse-plugin-echo'])).code).to.equal(0)
    // Named with -p, a provider no longer installed is a bad flag value.
    const gone = await synapse(sandbox, ['-p', 'echo', 'still there?'])
    expect(gone.code).to.equal(2)
    expect(gone.stderr.split('\n')[0]).to.match(/^Error: Unknown provider "echo"\. Known providers: .*openai/)
  })

  it('installs a packed plugin from a local file into the data directory, and uninstalls it', async () => {
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', sandbox.root], {cwd: ECHO, encoding: 'utf8', env: sandbox.env}).trim()
    const install = await synapse(sandbox, ['plugins', 'install', `file:${join(sandbox.root, tarball)}`])
    expect(install.code, install.stderr).to.equal(0)
    expect((await synapse(sandbox, ['plugins'])).stdout).to.equal('synapse-plugin-echo 1.0.0\n')
    const chat = await synapse(sandbox, ['-p', 'echo', '--json', 'from the tarball'])
    expect(JSON.parse(chat.stdout)).to.deep.include({
      model: 'echo-1',
      provider: 'echo',
      reply: 'from the tarball',
      usage: {cachedInputTokens: null, inputTokens: 16, outputTokens: 16, tokenSource: 'provider'},
    })
    expect((await synapse(sandbox, ['plugins', 'uninstall', 'synapse-plugin-echo'])).code).to.equal(0)
    expect((await synapse(sandbox, ['plugins'])).stdout).to.equal('No plugins installed.\n')
  })

  it('a plugin whose hooks fail is a one-line warning naming it, not a crash', async () => {
    const server = await FakeOpenAIServer.start()
    try {
      await synapse(sandbox, ['plugins', 'link', BROKEN, '--no-install'])
      server.reply(['Still works.'])
      const chat = await synapse(sandbox, ['Hello'], {env: {OPENAI_API_KEY: 'k', OPENAI_BASE_URL: server.url}})
      expect(chat.code).to.equal(0)
      expect(chat.stdout).to.equal('Still works.\n')
      expect(ownWarnings(chat.stderr)).to.deep.equal([
        'Warning: plugin synapse-plugin-broken: its synapse:storage hook returned an object, not a list',
        'Warning: plugin synapse-plugin-broken: its synapse:providers hook failed: the provider table is on fire',
      ])
    } finally {
      await server.close()
    }
  })
})
