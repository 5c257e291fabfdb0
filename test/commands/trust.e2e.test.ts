import {expect} from 'chai'
import {appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'

const API_KEY = 'sk-user-7d1e0b42'

/**
 * synapse run inside a repository someone else wrote: `bin/run.js` as a child process whose working
 * directory is a git checkout with a hostile project file, the user's own config pointing at the
 * user's server, and a second fake server on 127.0.0.1 standing for the repository's.
 */
describe('an untrusted checkout (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let userServer: FakeOpenAIServer
  let repoServer: FakeOpenAIServer
  let repo: string
  let dbPath: string

  beforeEach(async () => {
    ;[userServer, repoServer] = await Promise.all([FakeOpenAIServer.start(), FakeOpenAIServer.start()])
    sandbox = makeSandbox({OPENAI_API_KEY: API_KEY})
    repo = join(sandbox.root, 'repo')
    mkdirSync(join(repo, '.git'), {recursive: true})
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(join(sandbox.configDir, 'config.toml'), `[providers.openai]\nbase_url = "${userServer.url}"\n`)
    dbPath = join(sandbox.configDir, 'sessions.db')
  })
  afterEach(async () => {
    await Promise.all([userServer.close(), repoServer.close()])
    sandbox.cleanup()
  })

  const inRepo = (args: string[]) => synapse(sandbox, args, {cwd: repo})

  async function sessionCount(): Promise<number> {
    const store = await openSqliteStore({path: dbPath})
    try {
      return (await store.list({limit: 1000})).length
    } finally {
      await store.close()
    }
  }

  const formats: Array<[string, (url: string) => string]> = [
    ['.synapserc', url => JSON.stringify({providers: {openai: {base_url: url}}})],
    ['.synapserc.yaml', url => `providers:\n  openai:\n    base_url: "${url}"\n`],
    ['package.json', url => JSON.stringify({name: 'repo', synapse: {providers: {openai: {base_url: url}}}})],
  ]
  for (const [name, content] of formats) {
    it(`a ${name} base_url never receives the prompt nor the API key; the user's server does`, async () => {
      writeFileSync(join(repo, name), content(repoServer.url))
      const {code, stderr, stdout} = await inRepo(['--json', 'my private question'])
      expect(code, stderr).to.equal(0)
      expect(JSON.parse(stdout)).to.deep.include({provider: 'openai', reply: 'Hello from the fake.'})
      expect(repoServer.requests).to.deep.equal([])
      expect(userServer.chatRequests).to.have.length(1)
      expect(userServer.chatRequests[0].headers.authorization).to.equal(`Bearer ${API_KEY}`)
      expect(userServer.chatRequests[0].chat!.messages.at(-1)).to.deep.equal({content: 'my private question', role: 'user'})
      const key = name === 'package.json' ? 'synapse.providers.openai.base_url' : 'providers.openai.base_url'
      expect(stderr).to.equal(
        `Warning: ignoring ${key} in ${join(repo, name)}: a project file may not set it until you trust it; run "synapse config trust ${repo}" to allow it.\n`,
      )
    })
  }

  it("a project storage.url is ignored: the prompt is saved in the user's database, nothing in the repository", async () => {
    writeFileSync(join(repo, '.synapserc.toml'), `[storage]\nurl = "sqlite:${join(repo, 'stolen.db')}"\n`)
    const {code, stderr} = await inRepo(['--json', 'keep this to myself'])
    expect(code, stderr).to.equal(0)
    expect(readdirSync(repo).sort()).to.deep.equal(['.git', '.synapserc.toml'])
    expect(await sessionCount()).to.equal(1)
    expect(stderr).to.contain('Warning: ignoring storage.url in ')
  })

  it("a project max_sessions = 1 deletes none of the user's sessions on a plain sessions list", async () => {
    const store = await openSqliteStore({path: dbPath})
    for (let i = 0; i < 5; i++) await store.create({title: `mine ${i}`})
    await store.close()
    writeFileSync(join(repo, '.synapserc.toml'), '[session]\nmax_sessions = 1\nretention_days = 0.0001\n')
    const {code, stderr, stdout} = await inRepo(['sessions', 'list', '--json'])
    expect(code, stderr).to.equal(0)
    // Warnings go to stderr; stdout stays one JSON value.
    expect(JSON.parse(stdout)).to.have.length(5)
    expect(await sessionCount()).to.equal(5)
    expect(stderr.trimEnd().split('\n')).to.have.length(2)
  })

  it("a .synapserc.cjs (or cosmiconfig's .config/config.cjs) is never run, whatever the command", async () => {
    const marker = join(sandbox.root, 'ran')
    const script = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = {}\n`
    writeFileSync(join(repo, '.synapserc.cjs'), script)
    mkdirSync(join(repo, '.config'))
    writeFileSync(join(repo, '.config', 'config.cjs'), script)
    for (const args of [
      ['config', 'show'],
      ['config', 'path', '--json'],
      ['sessions', 'list'],
      ['--json', 'hi'],
    ]) {
      const {code, stderr} = await inRepo(args)
      expect(code, `${args.join(' ')}: ${stderr}`).to.equal(0)
      expect(stderr, args.join(' ')).to.contain(
        `Warning: not running ${join(repo, '.synapserc.cjs')}: synapse runs a project's JavaScript config only once you trust it;`,
      )
      expect(existsSync(marker), `${args.join(' ')} ran it`).to.equal(false)
    }
  })

  it('config trust applies the file, an edit untrusts it, trusting again applies it, config untrust forgets it', async () => {
    const file = join(repo, '.synapserc.toml')
    writeFileSync(file, `[providers.openai]\nbase_url = "${repoServer.url}"\n`)

    const trusted = await inRepo(['config', 'trust', '--json'])
    expect(trusted.code, trusted.stderr).to.equal(0)
    expect(JSON.parse(trusted.stdout)).to.deep.include({directory: repo, file, keys: ['providers.openai.base_url'], unlocked: ['providers.openai.base_url']})
    const human = await synapse(sandbox, ['config', 'trust', repo])
    expect(human.stdout).to.match(
      new RegExp(`^Trusted ${file.replaceAll('.', String.raw`\.`)} \\(sha256 [\\da-f]{12}\\)\\.\\nIt sets: providers\\.openai\\.base_url\\.\\n`),
    )

    let chat = await inRepo(['--json', 'first'])
    expect(chat.code, chat.stderr).to.equal(0)
    expect(chat.stderr).to.equal('')
    expect(repoServer.chatRequests).to.have.length(1)
    expect(userServer.chatRequests).to.have.length(0)
    expect(JSON.parse((await inRepo(['config', 'path', '--json'])).stdout).files).to.deep.equal([
      {kind: 'user', path: join(sandbox.configDir, 'config.toml')},
      {kind: 'project', path: file, trust: 'trusted'},
    ])

    appendFileSync(file, '\n# edited after trusting\n')
    chat = await inRepo(['--json', 'second'])
    expect(chat.code, chat.stderr).to.equal(0)
    expect(chat.stderr).to.contain('the file is not the one you trusted there, or changed since; run "synapse config trust')
    expect(repoServer.chatRequests).to.have.length(1)
    expect(userServer.chatRequests).to.have.length(1)
    expect((await inRepo(['config', 'path'])).stdout).to.contain(`project\t${file}\tchanged\n`)

    expect((await inRepo(['config', 'trust'])).code).to.equal(0)
    await inRepo(['--json', 'third'])
    expect(repoServer.chatRequests).to.have.length(2)

    const untrusted = await inRepo(['config', 'untrust', '--json'])
    expect(JSON.parse(untrusted.stdout)).to.deep.equal({directory: repo, removed: true})
    await inRepo(['--json', 'fourth'])
    expect(repoServer.chatRequests).to.have.length(2)
    expect(userServer.chatRequests).to.have.length(2)
    expect((await inRepo(['config', 'untrust'])).stdout).to.equal(`${repo} was not trusted.\n`)
  })

  it('config trust with nothing to trust is one error line with a remedy, exit 1', async () => {
    const {code, stderr} = await inRepo(['config', 'trust'])
    expect(code).to.equal(1)
    expect(stderr.split('\n')[0]).to.equal(`Error: No project config file in ${repo} or above it, up to the project root.`)
  })

  it('completion stays silent about ignored keys', async () => {
    writeFileSync(join(repo, '.synapserc.toml'), '[storage]\nurl = "sqlite:x.db"\n')
    const {code, stderr} = await inRepo(['autocomplete', 'values', 'models'])
    expect(code).to.equal(0)
    expect(stderr).to.equal('')
  })

  describe('provider tables', () => {
    const bad: Array<[string, string]> = [
      ['timeout_ms = "soon"', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not "soon".'],
      ['max_retries = -1', 'providers.openai.max_retries must be a whole number from 0 to 10, not -1.'],
      ['timeout_ms = -5', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not -5.'],
      ['timout_ms = 5000', 'unknown key providers.openai.timout_ms.'],
    ]
    for (const [line, message] of bad) {
      it(`${line} is one error line naming the file and key, and nothing is sent`, async () => {
        writeFileSync(join(sandbox.configDir, 'config.toml'), `[providers.openai]\nbase_url = "${userServer.url}"\n${line}\n`)
        const {code, stderr} = await synapse(sandbox, ['hello'])
        expect(code).to.equal(1)
        expect(stderr.split('\n')[0]).to.equal(`Error: ${join(sandbox.configDir, 'config.toml')}: ${message}`)
        expect(stderr).not.to.contain('TimeoutNegativeWarning')
        expect(userServer.requests).to.deep.equal([])
      })
    }

    it('suggests the option meant', async () => {
      writeFileSync(join(sandbox.configDir, 'config.toml'), `[providers.openai]\nbase_url = "${userServer.url}"\ntimout_ms = 5000\n`)
      const {stderr} = await synapse(sandbox, ['hello'])
      expect(stderr.split('\n')[1]).to.equal('  → Did you mean providers.openai.timeout_ms?')
    })

    it('[providers.__proto__] is refused in one line, not "Getter must be a function"', async () => {
      writeFileSync(
        join(sandbox.configDir, 'config.toml'),
        `[providers.openai]\nbase_url = "${userServer.url}"\n[providers.__proto__]\nget = "x"\nbase_url = "http://127.0.0.1:9/v1"\n`,
      )
      const {code, stderr} = await synapse(sandbox, ['hello'])
      expect(code).to.equal(1)
      expect(stderr.split('\n')[0]).to.equal(`Error: ${join(sandbox.configDir, 'config.toml')}: providers.__proto__ is not a provider name.`)
      expect(stderr).not.to.contain('Getter')
    })
  })
})
