import {expect} from 'chai'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {type Exit, synapse, testRuntime} from '../helpers/spawn.js'
import {requireProgram} from '../helpers/programs.js'
import {Terminal} from '../helpers/terminal.js'
import {SHELL_PROMPT, TmuxTerminal} from '../helpers/tmux.js'

const STORED_KEY = 'sk-stored-7d41c09b2e5fa8836b1f'
const ENV_KEY = 'sk-environment-0c9e4b7a11d2f3e8'
const CONFIG_KEY = 'sk-config-file-93a7e15cc0b4d62f'

/** What the keys commands print and store, end to end: bin/run.js as a child process in a sandbox. */
describe('keys (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer
  let keysFile: string

  useOpenAISandbox({}, made => ({sandbox, server} = made))
  beforeEach(() => {
    keysFile = join(sandbox.configDir, 'keys.json')
  })

  /** `synapse …` started by `sh` after `umask 000`, so that only synapse's own modes can keep files private. */
  function synapseUnderUmask000(args: string[], input: string): Promise<Exit> {
    const [command, ...prefix] = testRuntime().command
    return synapse(sandbox, args, {input, runtime: ['sh', '-c', 'umask 000 && exec "$@"', 'sh', command, ...prefix]})
  }

  function writeConfig(toml: string): void {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(join(sandbox.configDir, 'config.toml'), toml)
  }

  it('set reads a piped key and stores it 0600 in a 0700 directory, even under umask 000', async () => {
    const exit = await synapseUnderUmask000(['keys', 'set', 'openai'], `${STORED_KEY}\n`)
    expect(exit).to.deep.include({code: 0, stderr: '', stdout: `Stored the openai key in ${keysFile}.\n`})
    expect(statSync(keysFile).mode & 0o777).to.equal(0o600)
    expect(statSync(sandbox.configDir).mode & 0o777).to.equal(0o700)
    expect(JSON.parse(readFileSync(keysFile, 'utf8'))).to.deep.equal({
      '//': 'API keys stored by "synapse keys set". Do not share this file.',
      openai: STORED_KEY,
    })
    // Written through a temporary file renamed into place; none is left behind.
    expect(readdirSync(sandbox.configDir)).to.deep.equal(['keys.json'])

    // Replacing it keeps the mode and the other providers' keys.
    expect((await synapseUnderUmask000(['keys', 'set', 'anthropic'], 'sk-ant-other-key-0000000000')).code).to.equal(0)
    expect((await synapseUnderUmask000(['keys', 'set', 'openai'], `${STORED_KEY}-2`)).code).to.equal(0)
    expect(statSync(keysFile).mode & 0o777).to.equal(0o600)
    expect(JSON.parse(readFileSync(keysFile, 'utf8'))).to.deep.include({anthropic: 'sk-ant-other-key-0000000000', openai: `${STORED_KEY}-2`})
  })

  it('list shows each installed provider, the key masked, and where it comes from', async () => {
    expect((await synapse(sandbox, ['keys', 'set', 'openai'], {input: STORED_KEY})).code).to.equal(0)
    const listed = await synapse(sandbox, ['keys', 'list'])
    expect(listed).to.deep.include({
      code: 0,
      stderr: '',
      stdout: `anthropic\t-\tnone\tset ANTHROPIC_API_KEY or run "synapse keys set anthropic"\nopenai\t****6b1f\tkeys (${keysFile})\t\n`,
    })

    const json = await synapse(sandbox, ['keys', 'list', '--json'], {env: {OPENAI_API_KEY: ENV_KEY}})
    expect(json.code).to.equal(0)
    expect(JSON.parse(json.stdout)).to.deep.equal([
      {envVariable: 'ANTHROPIC_API_KEY', installed: true, masked: null, provider: 'anthropic', shadowed: [], source: null},
      {
        envVariable: 'OPENAI_API_KEY',
        installed: true,
        masked: '****f3e8',
        provider: 'openai',
        shadowed: [{file: keysFile, kind: 'keys'}],
        source: {kind: 'env', variable: 'OPENAI_API_KEY'},
      },
    ])
  })

  it('list on an 80-column terminal, in colour: the note goes on under its column, the command in it whole, and no line wraps', async function () {
    requireProgram(this, 'tmux')
    const terminal = await TmuxTerminal.start(sandbox, {NO_COLOR: '', OPENAI_API_KEY: ENV_KEY}, {columns: 80, rows: 24})
    try {
      await terminal.type('synapse keys list')
      const screen = await terminal.waitFor(text => text.split('\n').at(-1) === SHELL_PROMPT.trimEnd() && text.includes('PROVIDER'), 'keys list to end')
      expect(screen.split('\n')).to.deep.equal([
        `${SHELL_PROMPT}synapse keys list`,
        'PROVIDER   KEY       SOURCE                NOTE',
        'anthropic  -         none                  set ANTHROPIC_API_KEY or run',
        '                                           "synapse keys set anthropic"',
        'openai     ****f3e8  env (OPENAI_API_KEY)',
        SHELL_PROMPT.trimEnd(),
      ])
      expect(terminal.raw(), 'in colour').to.include('\u001B[2m')
    } finally {
      await terminal.kill()
    }
  })

  it('the stored key is the one a chat sends; the environment wins over it; it wins over config.toml', async () => {
    writeConfig(`[providers.openai]\napi_key = "${CONFIG_KEY}"\n`)
    server.reply(['one'])
    server.reply(['two'])
    server.reply(['three'])
    server.reply(['four'])

    expect((await synapse(sandbox, ['Hello'])).code).to.equal(0)
    expect(server.chatRequests.at(-1)!.headers.authorization).to.equal(`Bearer ${CONFIG_KEY}`)

    expect((await synapse(sandbox, ['keys', 'set', 'openai'], {input: STORED_KEY})).code).to.equal(0)
    expect((await synapse(sandbox, ['Hello'])).code).to.equal(0)
    expect(server.chatRequests.at(-1)!.headers.authorization).to.equal(`Bearer ${STORED_KEY}`)

    expect((await synapse(sandbox, ['Hello'], {env: {OPENAI_API_KEY: ENV_KEY}})).code).to.equal(0)
    expect(server.chatRequests.at(-1)!.headers.authorization).to.equal(`Bearer ${ENV_KEY}`)

    const removed = await synapse(sandbox, ['keys', 'remove', 'openai'])
    expect(removed).to.deep.include({
      code: 0,
      stderr: '',
      stdout: `Removed the openai key from ${keysFile}.\nThe openai key in use now comes from the user config file (${join(sandbox.configDir, 'config.toml')}).\n`,
    })
    expect((await synapse(sandbox, ['Hello'])).code).to.equal(0)
    expect(server.chatRequests.at(-1)!.headers.authorization).to.equal(`Bearer ${CONFIG_KEY}`)
  })

  it('a key the server rejects (401) is named where it came from: the keys file, the variable or config.toml', async () => {
    const configFile = join(sandbox.configDir, 'config.toml')
    writeConfig(`[providers.openai]\napi_key = "${CONFIG_KEY}"\nmax_retries = 0\n`)
    const rejected = async (env: Record<string, string> = {}): Promise<string> => {
      server.fail(401, 'Incorrect API key provided.', {code: 'invalid_api_key'})
      const exit = await synapse(sandbox, ['Hello'], {env})
      expect(exit.code).to.equal(1)
      expect(exit.stderr).not.to.contain(STORED_KEY)
      return exit.stderr.split('\n')[1]
    }
    const why = 'the key may be wrong, revoked, or lack access to this model.'

    expect(await rejected()).to.equal(`  → Check providers.openai.api_key in ${configFile}: ${why}`)
    expect((await synapse(sandbox, ['keys', 'set', 'openai'], {input: STORED_KEY})).code).to.equal(0)
    expect(await rejected()).to.equal(`  → Check the key stored in ${keysFile} ("synapse keys set openai" replaces it): ${why}`)
    expect(await rejected({OPENAI_API_KEY: ENV_KEY})).to.equal(`  → Check OPENAI_API_KEY: ${why}`)
  })

  it('set warns when the environment variable shadows the key it stored', async () => {
    const exit = await synapse(sandbox, ['keys', 'set', 'openai'], {env: {OPENAI_API_KEY: ENV_KEY}, input: STORED_KEY})
    expect(exit).to.deep.include({
      code: 0,
      stderr: 'Warning: the environment (OPENAI_API_KEY) also sets the openai key, and wins while it is set.\n',
      stdout: `Stored the openai key in ${keysFile}.\n`,
    })
  })

  it('config show names the source of the key in use, masked', async () => {
    writeConfig(`[providers.openai]\napi_key = "${CONFIG_KEY}"\n`)
    expect((await synapse(sandbox, ['keys', 'set', 'openai'], {input: STORED_KEY})).code).to.equal(0)
    const shown = await synapse(sandbox, ['config', 'show'])
    expect(shown.code).to.equal(0)
    const keyLines = shown.stdout.split('\n').filter(line => line.includes('api_key'))
    expect(keyLines).to.deep.equal([`providers.openai.api_key\t********\tkeys (${keysFile})`])

    const fromEnv = await synapse(sandbox, ['config', 'show', '--json'], {env: {ANTHROPIC_API_KEY: 'sk-ant-env-key-11111111111111'}})
    const entries = JSON.parse(fromEnv.stdout) as Array<{key: string; source: unknown; value: unknown}>
    expect(entries.filter(e => e.key.endsWith('.api_key'))).to.deep.equal([
      {key: 'providers.anthropic.api_key', source: {kind: 'env', variable: 'ANTHROPIC_API_KEY'}, value: '********'},
      {key: 'providers.openai.api_key', source: {file: keysFile, kind: 'keys'}, value: '********'},
    ])
    for (const output of [shown.stdout, shown.stderr, fromEnv.stdout, fromEnv.stderr]) {
      for (const key of [STORED_KEY, CONFIG_KEY, 'sk-ant-env-key-11111111111111']) expect(output).not.to.contain(key)
    }
  })

  it('the key never reaches the database, an export or any output', async () => {
    const outputs: string[] = []
    const runAndKeep = async (args: string[], input?: string) => {
      const exit = await synapse(sandbox, args, {input})
      outputs.push(exit.stdout, exit.stderr)
      return exit
    }

    expect((await runAndKeep(['keys', 'set', 'openai'], STORED_KEY)).code).to.equal(0)
    server.reply(['Stored.'])
    expect((await runAndKeep(['-v', 'Hello'])).code).to.equal(0)
    server.fail(401, 'Incorrect API key provided.')
    expect((await runAndKeep(['-c', 'Again'])).code).to.equal(1)
    const [{id}] = JSON.parse((await runAndKeep(['sessions', 'list', '--json'])).stdout) as Array<{id: string}>
    for (const args of [
      ['sessions', 'show', id],
      ['sessions', 'show', '--json', id],
      ['sessions', 'export', '--all'],
      ['keys', 'list'],
      ['keys', 'list', '--json'],
      ['config', 'show'],
      ['config', 'show', '--json'],
      ['models'],
    ]) {
      expect((await runAndKeep(args)).code, args.join(' ')).to.equal(0)
    }

    expect(server.chatRequests.map(r => r.headers.authorization)).to.deep.equal([`Bearer ${STORED_KEY}`, `Bearer ${STORED_KEY}`])
    for (const output of outputs) expect(output).not.to.contain(STORED_KEY)
    // The database's bytes: the main file and its write-ahead log, whichever holds the latest pages.
    const databaseFiles = readdirSync(sandbox.configDir).filter(name => name.startsWith('sessions.db'))
    expect(databaseFiles).to.include('sessions.db')
    for (const name of databaseFiles) expect(readFileSync(join(sandbox.configDir, name)).includes(Buffer.from(STORED_KEY)), name).to.equal(false)
  })

  it('set refuses an unknown provider, suggesting the closest, before reading a key: a usage error (exit 2)', async () => {
    const exit = await synapse(sandbox, ['keys', 'set', 'opnai'], {input: STORED_KEY})
    expect(exit).to.deep.include({
      code: 2,
      stderr:
        'Error: Unknown provider "opnai". Known providers: anthropic, openai.\n' +
        '  → Did you mean "openai"?\n' +
        '  → If a plugin provides "opnai", install it: synapse plugins install <package>.\n',
      stdout: '',
    })
    expect(existsSync(keysFile)).to.equal(false)
  })

  it('set refuses a key given as the provider, without printing it back', async () => {
    const exit = await synapse(sandbox, ['keys', 'set', STORED_KEY])
    expect(exit.code).to.equal(2)
    expect(exit.stderr.split('\n')[0]).to.equal('Error: That looks like an API key, not a provider name; it was not stored.')
    expect(exit.stderr + exit.stdout).not.to.contain(STORED_KEY)
    expect(existsSync(keysFile)).to.equal(false)
  })

  it('set refuses empty and multi-line input and writes nothing', async () => {
    const empty = await synapse(sandbox, ['keys', 'set', 'openai'], {input: '\n'})
    expect(empty).to.deep.include({code: 2, stdout: ''})
    expect(empty.stderr.split('\n')[0]).to.equal('Error: No key was given.')
    const twoLines = await synapse(sandbox, ['keys', 'set', 'openai'], {input: `${STORED_KEY}\nsecond line\n`})
    expect(twoLines.code).to.equal(2)
    expect(twoLines.stderr.split('\n')[0]).to.equal('Error: That is not an API key: a key is one line of visible ASCII characters, without spaces.')
    expect(twoLines.stderr).not.to.contain(STORED_KEY)
    expect(existsSync(keysFile)).to.equal(false)
  })

  it('remove says where the key in use comes from when none is stored', async () => {
    const exit = await synapse(sandbox, ['keys', 'remove', 'openai'], {env: {OPENAI_API_KEY: ENV_KEY}})
    expect(exit).to.deep.include({
      code: 1,
      stderr: `Error: No key is stored for "openai" in ${keysFile}.\n  → Its key comes from the environment (OPENAI_API_KEY): unset it there.\n`,
      stdout: '',
    })
    const typo = await synapse(sandbox, ['keys', 'remove', 'opnai'])
    expect(typo.stderr).to.equal(`Error: No key is stored for "opnai" in ${keysFile}.\n  → Did you mean "openai"?\n`)
  })

  it('remove takes away the key of a provider that is no longer installed', async () => {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(keysFile, JSON.stringify({gone: 'sk-of-a-removed-plugin-000000'}), {mode: 0o600})
    const listed = await synapse(sandbox, ['keys', 'list'])
    expect(listed.stdout.split('\n')[1]).to.equal(`gone\t****0000\tkeys (${keysFile})\tprovider not installed`)
    expect((await synapse(sandbox, ['keys', 'remove', 'gone'])).stdout).to.equal(`Removed the gone key from ${keysFile}.\n`)
    expect(JSON.parse(readFileSync(keysFile, 'utf8'))).to.deep.equal({'//': 'API keys stored by "synapse keys set". Do not share this file.'})
  })

  it('a keys file that is not JSON is one line naming it, without its content', async () => {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(keysFile, `{"openai": "${STORED_KEY}`, {mode: 0o600})
    const exit = await synapse(sandbox, ['keys', 'list'])
    expect(exit).to.deep.include({
      code: 1,
      stderr: `Error: ${keysFile} is not valid JSON.\n  → Fix it, or delete it and store your keys again with "synapse keys set <provider>".\n`,
    })
    server.reply(['unused'])
    const chat = await synapse(sandbox, ['Hello'])
    expect(chat.code).to.equal(1)
    expect(chat.stderr.split('\n')[0]).to.equal(`Error: ${keysFile} is not valid JSON.`)
    expect(server.chatRequests).to.have.length(0)
  })

  describe('on a terminal', () => {
    const onTerminal = () => new Terminal(sandbox, ['keys', 'set', 'openai'])

    it('does not echo the typed key, and stores it', async () => {
      const terminal = onTerminal()
      await terminal.until('API key for openai (not shown): ')
      // A typo corrected with backspace, then the rest, as separate keystrokes.
      terminal.type(`${STORED_KEY.slice(0, 10)}x`)
      terminal.type('\u007F')
      terminal.type(`${STORED_KEY.slice(10)}\r`)
      expect(await terminal.done).to.equal(0)
      expect(terminal.output()).to.equal(`API key for openai (not shown): \r\nStored the openai key in ${keysFile}.\r\n`)
      expect(JSON.parse(readFileSync(keysFile, 'utf8')).openai).to.equal(STORED_KEY)
    })

    it('a bracketed paste arrives without its markers', async () => {
      const terminal = onTerminal()
      await terminal.until('(not shown): ')
      terminal.type(`\u001B[200~${STORED_KEY}\u001B[201~\r`)
      expect(await terminal.done).to.equal(0)
      expect(terminal.output()).not.to.contain(STORED_KEY)
      expect(JSON.parse(readFileSync(keysFile, 'utf8')).openai).to.equal(STORED_KEY)
    })

    it('Ctrl-C cancels with exit 130 and stores nothing', async () => {
      const terminal = onTerminal()
      await terminal.until('(not shown): ')
      terminal.type(STORED_KEY.slice(0, 8))
      terminal.type('\u0003')
      expect(await terminal.done).to.equal(130)
      expect(terminal.output()).to.equal('API key for openai (not shown): \r\nError: Cancelled: no key was stored.\r\n')
      expect(existsSync(keysFile)).to.equal(false)
    })
  })
})
