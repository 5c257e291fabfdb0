import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync, statSync, utimesSync} from 'node:fs'
import {join} from 'node:path'

import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {requireProgram} from '../helpers/programs.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {
  cacheFile,
  CONTROL_MODELS,
  completeInBash,
  databasePath,
  HOSTILE_MODELS,
  HOSTILE_TITLE,
  installShim,
  seedHostileSessions,
  seedSessions,
  SESSIONS,
  setUpCompletion,
  shellQuote,
  SHORT_IDS_BY_RECENCY,
} from './fixtures.js'

/**
 * The completion cache through the real scripts. `offline` is the TAB's environment with no `synapse`
 * on PATH: what completes there came from the cache, since the fallback (the hidden command) cannot run.
 */
describe('completion cache (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let env: NodeJS.ProcessEnv
  let offline: NodeJS.ProcessEnv
  let server: FakeOpenAIServer

  before(function () {
    requireProgram(this, 'bash')
    requireProgram(this, 'zsh')
  })

  useOpenAISandbox({apiKey: 'sk-test'}, made => ({sandbox, server} = made))
  beforeEach(async () => {
    env = installShim(sandbox)
    offline = {...env, PATH: sandbox.env.PATH}
    await seedSessions(sandbox)
    await setUpCompletion(sandbox, env, 'bash')
    await setUpCompletion(sandbox, env, 'zsh')
  })

  async function run(args: string[], options: {env?: NodeJS.ProcessEnv} = {}): Promise<string> {
    const {code, stderr, stdout} = await synapse(sandbox, args, {env: options.env ?? env})
    expect({args, code, stderr}).to.deep.equal({args, code: 0, stderr: ''})
    return stdout
  }

  /** What the zsh script's cache reader answers ("value<TAB>description" each), or null when it cannot. */
  function zshCached(kind: string, typed: string, zshEnv: NodeJS.ProcessEnv = offline): null | string[] {
    const script = join(sandbox.root, 'cache', 'synapse', 'autocomplete', 'functions', 'zsh', 'synapse-values.zsh')
    const {status, stderr, stdout} = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        `compdef() { :; }; source ${shellQuote(script)}; __synapse_cached ${shellQuote(kind)} ${shellQuote(typed)} || exit 7; print -rl -- "\${__synapse_found[@]}"`,
      ],
      {
        encoding: 'utf8',
        env: zshEnv,
      },
    )
    if (status === 7) return null
    expect({status, stderr}).to.deep.equal({status: 0, stderr: ''})
    return stdout.split('\n').filter(Boolean)
  }

  it('is written by a store command, 0600 in a 0700 directory even under umask 000', async () => {
    const {status, stderr} = spawnSync('sh', ['-c', 'umask 000 && exec synapse sessions list >/dev/null'], {encoding: 'utf8', env})
    expect({status, stderr}).to.deep.equal({status: 0, stderr: ''})
    expect(statSync(cacheFile(sandbox)).mode & 0o777).to.equal(0o600)
    expect(statSync(join(sandbox.root, 'cache', 'synapse', 'completion')).mode & 0o777).to.equal(0o700)
  })

  it('answers a TAB without starting synapse, as the hidden command would', async () => {
    expect(completeInBash(offline, 'synapse sessions show ')).to.deep.equal([])
    await run(['sessions', 'list'])
    expect(completeInBash(offline, 'synapse sessions show ')).to.deep.equal(SHORT_IDS_BY_RECENCY)
    expect(completeInBash(offline, 'synapse sessions show 01jx5')).to.deep.equal(['01jx5aaay', '01jx5aaax'])
    expect(completeInBash(offline, `synapse sessions show ${SESSIONS.B.id.slice(0, 10)}`)).to.deep.equal([SESSIONS.B.id])
    expect(completeInBash(offline, 'synapse -m llama3.2:')).to.deep.equal(['latest'])
    expect(completeInBash(offline, 'synapse -p op')).to.deep.equal(['openai'])
    // zsh's descriptions, the age worked out at the TAB, exactly as `autocomplete values --describe` prints them.
    const described = (await run(['autocomplete', 'values', 'sessions', '--describe'])).split('\n').filter(Boolean)
    expect(zshCached('sessions', '')).to.deep.equal(described)
    const models = (await run(['autocomplete', 'values', 'models', '--describe'])).split('\n').filter(Boolean)
    expect(zshCached('models', '')).to.deep.equal(models)
  })

  it('answers titles as the hidden command does, quoted for the shell, never one with a control character', async () => {
    await seedHostileSessions(sandbox)
    const hidden = completeInBash(env, 'synapse -s uses')
    expect(hidden).to.deep.equal(
      Object.values(HOSTILE_MODELS)
        .reverse()
        .map(model => spawnSync('bash', ['-c', 'printf %q "$1"', 'bash', `uses ${model}`], {encoding: 'utf8'}).stdout),
    )
    await run(['sessions', 'list'])
    expect(completeInBash(offline, 'synapse -s uses')).to.deep.equal(hidden)
    expect(completeInBash(offline, 'synapse sessions fork Al')).to.deep.equal(['Alpha'])
    expect(completeInBash(offline, 'synapse sessions keep al')).to.deep.equal([])
    const described = (await run(['autocomplete', 'values', 'sessions', '--describe', 'uses'])).split('\n').filter(Boolean)
    expect(zshCached('sessions', 'uses')).to.deep.equal(described)
    expect(zshCached('sessions', 'Be')).to.deep.equal(['Beta\t01JX4R7C (1 h ago)'])
  })

  it('is refreshed by the hidden command when a TAB finds it missing', async () => {
    expect(completeInBash(env, 'synapse sessions show ')).to.deep.equal(SHORT_IDS_BY_RECENCY)
    expect(completeInBash(offline, 'synapse sessions show ')).to.deep.equal(SHORT_IDS_BY_RECENCY)
  })

  it('is right at the next TAB after sessions delete, rename and a chat turn', async () => {
    await run(['sessions', 'list'])
    await run(['sessions', 'delete', SESSIONS.E.id, '--force'])
    const afterDelete = completeInBash(offline, 'synapse sessions show ')
    // Short ids shorten once a neighbour is gone: D's is now eight characters.
    expect(afterDelete).to.deep.equal(['01JX4R7C', '01JX4R7D', '01JX5AAA', '01JX4Q2B'])
    expect((await run(['autocomplete', 'values', 'sessions'])).split('\n').filter(Boolean)).to.deep.equal(afterDelete)

    // A rename keeps the session's place and age: only new messages move updatedAt.
    await run(['sessions', 'rename', SESSIONS.A.id, 'Renamed alpha'])
    expect(zshCached('sessions', '01JX4Q')).to.deep.equal(['01JX4Q2B\tRenamed alpha (5 d ago)'])

    server.reply(['Hel', 'lo'])
    await run(['Hello there'])
    const [newest] = JSON.parse(await run(['sessions', 'list', '--json'])) as Array<{shortId: string}>
    expect(completeInBash(offline, 'synapse -s ')[0]).to.equal(newest.shortId)
    expect(completeInBash(offline, 'synapse -s ')).to.have.length(5)
  })

  it('is left as it is by commands that only read, while it is current', async () => {
    // Run from HOME: the project-file walk then watches only directories of the sandbox.
    const cwd = sandbox.env.HOME
    const read = async (args: string[]) => expect((await synapse(sandbox, args, {cwd, env})).code, args.join(' ')).to.equal(0)
    await read(['sessions', 'list'])
    const written = statSync(cacheFile(sandbox), {bigint: true}).mtimeNs
    // `sessions list` also adds up each session's usage; `show` reads messages, `search` searches them.
    for (const args of [['sessions', 'list'], ['sessions', 'show', SESSIONS.A.id], ['sessions', 'search', 'gamma question'], ['usage']]) await read(args)
    expect(statSync(cacheFile(sandbox), {bigint: true}).mtimeNs).to.equal(written)
  })

  it('is not believed once the database is newer, nor under another DATABASE_URL', async () => {
    await run(['sessions', 'list'])
    expect(completeInBash(offline, 'synapse sessions show ')).to.deep.equal(SHORT_IDS_BY_RECENCY)
    // Another database: the cache describes the default one.
    expect(completeInBash({...offline, DATABASE_URL: join(sandbox.root, 'other.db')}, 'synapse sessions show ')).to.deep.equal([])
    expect(zshCached('sessions', '', {...offline, SYNAPSE_MODEL: 'gpt-4o'})).to.equal(null)
    // Written behind synapse's back: the database is newer than the cache.
    const future = new Date(Date.now() + 60_000)
    utimesSync(databasePath(sandbox), future, future)
    expect(completeInBash(offline, 'synapse sessions show ')).to.deep.equal([])
    expect(zshCached('sessions', '')).to.equal(null)
    // The hidden command still answers, as before.
    expect(completeInBash(env, 'synapse sessions show ')).to.deep.equal(SHORT_IDS_BY_RECENCY)
  })

  it('holds hostile titles and model names as data: quoted on insertion, control characters never offered', async () => {
    await seedHostileSessions(sandbox)
    await run(['sessions', 'list'])
    const text = readFileSync(cacheFile(sandbox), 'utf8')
    // Only tabs and newlines delimit; no escape sequence reaches the file.
    expect(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(text)).to.equal(false)
    for (const model of CONTROL_MODELS) expect(text).not.to.include(model)
    for (const [name, model] of Object.entries(HOSTILE_MODELS)) {
      const quoted = spawnSync('bash', ['-c', 'printf %q "$1"', 'bash', model], {encoding: 'utf8'}).stdout
      expect(completeInBash(offline, `synapse -m ${model.slice(0, 5)}`), name).to.deep.equal([quoted])
    }
    for (const prefix of ['evil5', 'evil6', 'evil7', 'evil8']) expect(completeInBash(offline, `synapse -m ${prefix}`)).to.deep.equal([])
    const zeta = zshCached('sessions', '01JX6')
    expect(zeta).to.have.length(1)
    expect(zeta![0]).to.match(/^01JX6ZZZ\tZeta \\x1b\]0;pwned\\x07\\x1b\[2J \(just now\)$/)
    expect(zeta![0]).not.to.include(HOSTILE_TITLE)
  })
})
