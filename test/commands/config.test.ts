import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {run} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

describe('config commands', () => {
  let sandbox: Sandbox
  beforeEach(() => {
    sandbox = makeSandbox()
    mkdirSync(sandbox.configDir, {recursive: true})
  })
  afterEach(() => sandbox.cleanup())

  it('show lists each value with its source, secrets masked', async () => {
    writeFileSync(join(sandbox.configDir, 'config.toml'), '[session]\nmax_sessions = 7\n[providers.openai]\napi_key = "sk-secret-value"\n')
    sandbox.env.SYNAPSE_RETENTION_DAYS = '14'
    const {exitCode, result, stdout} = await run<Array<{key: string; source: {kind: string}; value: unknown}>>(sandbox, ['config', 'show'])
    expect(exitCode).to.equal(0)
    const byKey = Object.fromEntries((result ?? []).map(e => [e.key, e]))
    expect(byKey['session.max_sessions']).to.deep.include({value: 7})
    expect(byKey['session.max_sessions'].source.kind).to.equal('user')
    expect(byKey['session.retention_days']).to.deep.equal({key: 'session.retention_days', source: {kind: 'env', variable: 'SYNAPSE_RETENTION_DAYS'}, value: 14})
    expect(byKey['session.auto_cleanup']).to.deep.equal({key: 'session.auto_cleanup', source: {kind: 'default'}, value: true})
    expect(stdout).to.contain('session.max_sessions\t7\tuser (')
    expect(stdout).not.to.contain('sk-secret-value')
    expect(stdout).to.contain('providers.openai.api_key\t********')
  })

  it('path names the files read, the user file and the database, without passwords', async () => {
    writeFileSync(join(sandbox.configDir, 'config.toml'), '')
    sandbox.env.DATABASE_URL = 'postgres://ada:hunter2@127.0.0.1/test'
    const {result, stdout} = await run<{database: string; files: Array<{kind: string; path: string}>; userFile: string}>(sandbox, ['config', 'path', '--json'])
    expect(JSON.parse(stdout)).to.deep.equal({
      database: 'postgres://ada:***@127.0.0.1/test',
      files: [{kind: 'user', path: join(sandbox.configDir, 'config.toml')}],
      userFile: join(sandbox.configDir, 'config.toml'),
    })
    expect(result?.database).not.to.contain('hunter2')
  })

  it("show checks every installed provider's table against the options it declares", async () => {
    writeFileSync(join(sandbox.configDir, 'config.toml'), '[providers.anthropic]\nmax_tokns = 512\n')
    const {exitCode, stderr} = await run(sandbox, ['config', 'show'])
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(
      `Error: ${join(sandbox.configDir, 'config.toml')}: unknown key providers.anthropic.max_tokns.\n  → Did you mean providers.anthropic.max_tokens?\n`,
    )
  })

  it('a broken config file is one line naming it, exit 1', async () => {
    writeFileSync(join(sandbox.configDir, 'config.toml'), '[session\nmax_sessions = 3\n')
    const {exitCode, stderr} = await run(sandbox, ['config', 'show'])
    expect(exitCode).to.equal(1)
    expect(stderr.split('\n')[0]).to.match(/^Error: .*config\.toml: TOML syntax error at line 1/)
  })

  it('an unknown storage scheme names the backends there are and how to get another', async () => {
    sandbox.env.DATABASE_URL = 'mysql://127.0.0.1/test'
    const {exitCode, stderr} = await run(sandbox, ['sessions', 'list'])
    expect(exitCode).to.equal(1)
    expect(stderr).to.equal(
      'Error: No storage backend handles "mysql:" URLs (known: sqlite, file, postgres, postgresql, redis, rediss).\n' +
        '  → Install a storage plugin that provides it: synapse plugins install <package>\n' +
        '  → Or unset DATABASE_URL / [storage] url to use the built-in SQLite file.\n',
    )
  })
})
