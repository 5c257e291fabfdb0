import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {Terminal} from '../helpers/terminal.js'

const ENV_KEY = 'sk-environment-0c9e4b7a11d2f3e8'

/** What synapse says when the words on its command line are not quite right, end to end through bin/run.js. */
describe('clear words (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  useOpenAISandbox({apiKey: ENV_KEY}, made => ({sandbox, server} = made))

  describe('a near miss of a command is never sent', () => {
    it('in a pipe: refused with the correction and how to send it anyway, exit 2, no request', async () => {
      const exit = await synapse(sandbox, ['sesions', 'list'])
      expect(exit).to.deep.include({
        code: 2,
        stderr:
          'Error: "sesions list" looks like a mistyped command, so it was not sent to the model.\n' +
          '  → Did you mean "synapse sessions list"?\n' +
          "  → To send it as a prompt: synapse chat 'sesions list'\n",
        stdout: '',
      })
      const models = await synapse(sandbox, ['model'])
      expect(models.code).to.equal(2)
      expect(models.stderr.split('\n')[1]).to.equal('  → Did you mean "synapse models"?')
      // Two letters swapped is one slip, even in a name as short as "keys".
      const swapped = await synapse(sandbox, ['kyes', 'list'])
      expect(swapped.code).to.equal(2)
      expect(swapped.stderr.split('\n')[1]).to.equal('  → Did you mean "synapse keys list"?')
      expect(server.chatRequests).to.have.length(0)
    })

    it('under --json the refusal is the JSON error on stdout', async () => {
      const exit = await synapse(sandbox, ['sesions', 'list', '--json'])
      expect(exit.code).to.equal(2)
      expect(JSON.parse(exit.stdout).error).to.deep.include({code: 'INVALID_INPUT', exitCode: 2})
      expect(server.chatRequests).to.have.length(0)
    })

    it('`synapse chat "sesions list"` and a longer prompt are sent', async () => {
      server.reply(['one'])
      server.reply(['two'])
      expect((await synapse(sandbox, ['chat', 'sesions list'])).code).to.equal(0)
      expect((await synapse(sandbox, ['sesions', 'list', 'all', 'of', 'them'])).code).to.equal(0)
      expect(server.chatRequests.map(request => request.chat?.messages.at(-1)?.content)).to.deep.equal(['sesions list', 'sesions list all of them'])
    })

    describe('on a terminal', () => {
      const question = 'Did you mean "synapse sessions list"? [y/N] '

      const answers: Array<{code: number; keys: string; screen: string; title: string}> = [
        {code: 0, keys: 'y\r', screen: 'y\r\r\nNo saved sessions yet. Start one with: synapse "Hello"\r\n', title: 'y runs the corrected command'},
        {
          code: 2,
          keys: '\r',
          screen: "\r\r\nError: Nothing was run and nothing was sent.\r\n  → To send it as a prompt: synapse chat 'sesions list'\r\n",
          title: 'n (or Enter) cancels: nothing run, nothing sent, exit 2',
        },
        {code: 130, keys: '\u0003', screen: '\r\nError: Cancelled.\r\n', title: 'Ctrl-C cancels with exit 130'},
      ]
      for (const {code, keys, screen, title} of answers) {
        it(title, async () => {
          const terminal = new Terminal(sandbox, ['sesions', 'list'])
          await terminal.until(question)
          terminal.type(keys)
          expect(await terminal.done).to.equal(code)
          expect(terminal.output()).to.equal(`${question}${screen}`)
          expect(server.chatRequests).to.have.length(0)
        })
      }
    })
  })

  it("help for something that is no command is synapse's one error with remedies, exit 2, and nothing is sent", async () => {
    const exit = await synapse(sandbox, ['help', 'me', 'write', 'a', 'poem'])
    expect(exit).to.deep.include({
      code: 2,
      stderr:
        'Error: "me" is no synapse command or topic, so there is no help for it.\n' +
        '  → See "synapse --help" for the commands.\n' +
        "  → To send it as a prompt: synapse chat 'help me write a poem'\n",
      stdout: '',
    })
    const near = await synapse(sandbox, ['help', 'sesions'])
    expect(near.code).to.equal(2)
    expect(near.stderr.split('\n')[1]).to.equal('  → Did you mean "synapse help sessions"?')
    expect(server.chatRequests).to.have.length(0)
  })

  it('help has no JSON form: help --json, or --help with --json, is refused in JSON with the command line that works, exit 2', async () => {
    for (const [args, without] of [
      [['help', '--json'], 'synapse help'],
      [['help', 'sessions', '--json'], 'synapse help sessions'],
      [['--help', '--json'], 'synapse --help'],
      [['sessions', 'list', '--json', '-h'], 'synapse sessions list -h'],
    ] as const) {
      const exit = await synapse(sandbox, [...args])
      expect({args, code: exit.code, stderr: exit.stderr}).to.deep.equal({args, code: 2, stderr: ''})
      expect(JSON.parse(exit.stdout)).to.deep.equal({
        error: {code: 'INVALID_INPUT', exitCode: 2, message: 'Help has no JSON form: it is text only.', suggestions: [`Leave out --json: ${without}`]},
      })
    }
    const text = await synapse(sandbox, ['help', 'sessions'])
    expect(text.code).to.equal(0)
    expect(text.stdout).to.contain('sessions list')
    expect(server.chatRequests).to.have.length(0)
  })

  it("an unknown subcommand gets the closest one, in synapse's format, exit 2; ls and rm are aliases", async () => {
    expect(await synapse(sandbox, ['sessions', 'lst'])).to.deep.include({
      code: 2,
      stderr:
        'Error: "synapse sessions lst" is not a command.\n  → Did you mean "synapse sessions list"?\n  → See "synapse sessions --help" for its commands.\n',
      stdout: '',
    })
    const created = await synapse(sandbox, ['sessions', 'new', '--title', 'Kept', '--json'])
    const {id} = JSON.parse(created.stdout) as {id: string}
    const listed = await synapse(sandbox, ['sessions', 'ls'])
    expect(listed.code).to.equal(0)
    expect(listed.stdout).to.contain(id)
    expect((await synapse(sandbox, ['sessions', 'rm', id, '--force'])).code).to.equal(0)
    expect((await synapse(sandbox, ['sessions', 'ls'])).stdout).not.to.contain(id)
    const help = await synapse(sandbox, ['sessions', '--help'])
    expect(help.stdout.split('\n').filter(line => /sessions (list|ls|delete|rm)\b/.test(line))).to.deep.equal([
      '  sessions delete  Delete sessions (alias: rm).',
      '  sessions list    List saved sessions (aliases: ls, "synapse logs").',
    ])
  })

  it("parse errors are one line in synapse's words with the command's help, exit 2", async () => {
    const cases: Array<[string[], string]> = [
      [['sessions', 'show'], 'Error: Missing argument ID (Session id, a unique prefix of it, or its exact title).\n  → See "synapse sessions show --help".\n'],
      [['sessions', 'list', '--limit', 'x'], 'Error: --limit: expected an integer but received: x.\n  → See "synapse sessions list --help".\n'],
      [['--temperature', 'hot', 'Hi'], 'Error: --temperature: expected a number, not "hot".\n  → See "synapse chat --help".\n'],
      [['-c', '-s', 'x', 'Hi'], 'Error: -c/--continue and -s/--session cannot be used together.\n  → See "synapse chat --help".\n'],
      [['sessions', 'list', '--lmit', '3'], 'Error: Unknown flag --lmit.\n  → Did you mean --limit?\n  → See "synapse sessions list --help".\n'],
      // Two letters swapped, the commonest slip, is one edit; --json and --help are every command's flags.
      [['sessions', 'list', '--limti', '3'], 'Error: Unknown flag --limti.\n  → Did you mean --limit?\n  → See "synapse sessions list --help".\n'],
      [['sessions', 'list', '--jsno'], 'Error: Unknown flag --jsno.\n  → Did you mean --json?\n  → See "synapse sessions list --help".\n'],
      [['sessions', 'list', '--jsn'], 'Error: Unknown flag --jsn.\n  → Did you mean --json?\n  → See "synapse sessions list --help".\n'],
      [['sessions', 'show', 'x', '--hlep'], 'Error: Unknown flag --hlep.\n  → Did you mean --help?\n  → See "synapse sessions show --help".\n'],
      [['sessions', 'rename', 'a', 'b', 'c'], 'Error: Unexpected argument: c.\n  → See "synapse sessions rename --help".\n'],
      [['models', 'foo'], 'Error: Unexpected argument: foo.\n  → See "synapse models --help".\n'],
      [['config', 'show', 'extra', 'words'], 'Error: Unexpected argument: extra.\n  → See "synapse config show --help".\n'],
    ]
    for (const [args, stderr] of cases) expect(await synapse(sandbox, args), args.join(' ')).to.deep.include({code: 2, stderr, stdout: ''})
    expect(server.chatRequests).to.have.length(0)
  })

  it('a path error is one line naming the path, exit 1', async () => {
    const missing = join(sandbox.root, 'nonexistent', 'dir')
    const cases: Array<[string[], string]> = [
      [
        ['db', 'backup', join(missing, 'x.db')],
        `Error: Cannot back up to ${missing}/x.db: the directory ${missing} does not exist.\n  → Choose a file in a directory that exists and that you can write.\n`,
      ],
      [['sessions', 'export', '--all', '-o', join(missing, 'x.jsonl')], `Error: Cannot write ${missing}/x.jsonl: the directory ${missing} does not exist.\n`],
      [
        ['sessions', 'import', join(missing, 'x.jsonl')],
        `Error: Cannot read ${missing}/x.jsonl: no such file or directory.\n  → Check the path; "-" reads from stdin.\n`,
      ],
    ]
    for (const [args, stderr] of cases) expect(await synapse(sandbox, args), args.join(' ')).to.deep.include({code: 1, stderr, stdout: ''})
  })

  it('Ctrl-C at a delete prompt cancels with exit 130 and deletes nothing', async () => {
    const {id} = JSON.parse((await synapse(sandbox, ['sessions', 'new', '--json'])).stdout) as {id: string}
    const terminal = new Terminal(sandbox, ['sessions', 'delete', id])
    await terminal.until('[y/N] ')
    terminal.type('\u0003')
    expect(await terminal.done).to.equal(130)
    expect(terminal.output()).to.match(/\? \[y\/N\] \r\nError: Cancelled; nothing was deleted\.\r\n$/)
    expect((await synapse(sandbox, ['sessions', 'list'])).stdout).to.contain(id)
  })

  for (const args of [
    ['--version', '--json'],
    ['--json', '--version'],
  ]) {
    it(`${args.join(' ')} prints JSON`, async () => {
      const exit = await synapse(sandbox, args)
      expect({code: exit.code, stderr: exit.stderr}).to.deep.equal({code: 0, stderr: ''})
      const report = JSON.parse(exit.stdout) as Record<string, string>
      // Under Deno, `node` is the Node version Deno is compatible with.
      expect(report.node).to.match(/^\d+\.\d+\.\d+$/)
      expect(report).to.deep.equal({arch: process.arch, name: 'synapse-cli', node: report.node, platform: process.platform, version: '0.1.0'})
      if (process.env.SYNAPSE_TEST_RUNTIME !== 'deno') expect(report.node).to.equal(process.versions.node)
    })
  }

  it("the root help shows the prompt, chat's flags and examples with $, each topic once", async () => {
    const {code, stdout} = await synapse(sandbox, ['--help'])
    expect(code).to.equal(0)
    const lines = stdout.split('\n')
    expect(lines.slice(lines.indexOf('USAGE'), lines.indexOf('USAGE') + 3)).to.deep.equal([
      'USAGE',
      '  $ synapse [PROMPT] [FLAGS]     ask a model; the same as "synapse chat [PROMPT]"',
      '  $ synapse COMMAND',
    ])
    expect(lines).to.include.members(['CHAT FLAGS', 'EXAMPLES', 'TOPICS', 'COMMANDS'])
    expect(lines.some(line => line.startsWith('  -c, --continue '))).to.equal(true)
    expect(lines).to.include('  $ git diff | synapse "Write a commit message for this"')
    const examples = lines.slice(lines.indexOf('EXAMPLES') + 1, lines.indexOf('TOPICS') - 1)
    expect(examples.length).to.be.greaterThan(3)
    for (const line of examples) expect(line).to.match(/^ {2}\$ /)
    for (const name of ['config', 'db', 'keys', 'plugins', 'sessions'])
      expect(
        lines.filter(line => line.startsWith(`  ${name} `)),
        name,
      ).to.have.length(1)
  })

  describe('config show', () => {
    function writeConfig(toml: string): void {
      mkdirSync(sandbox.configDir, {recursive: true})
      writeFileSync(join(sandbox.configDir, 'config.toml'), toml)
    }

    it('shows the values in effect, the environment winning over the user file, secrets masked', async () => {
      writeConfig('[providers.openai]\napi_key = "sk-config-file-93a7e15cc0b4d62f"\n[provider]\nmodel = "from-file"\n')
      const {code, stdout} = await synapse(sandbox, ['config', 'show'], {env: {SYNAPSE_MODEL: 'from-env'}})
      expect(code).to.equal(0)
      const rows = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map(line => line.split('\t'))
          .map(([key, ...rest]) => [key, rest]),
      )
      expect(rows['providers.openai.api_key']).to.deep.equal(['********', 'env (OPENAI_API_KEY)'])
      expect(rows['provider.model']).to.deep.equal(['from-env', 'env (SYNAPSE_MODEL)'])
      expect(rows['storage.url']).to.deep.equal([join(sandbox.configDir, 'sessions.db'), 'default'])
      expect(stdout).not.to.contain(ENV_KEY)
      expect(stdout).not.to.contain('93a7e15c')
    })

    it("an unset model is the provider's default, and DATABASE_URL is shown with its password masked", async () => {
      const {stdout} = await synapse(sandbox, ['config', 'show', '--json'], {
        env: {DATABASE_URL: 'postgres://me:hunter2@127.0.0.1/db', SYNAPSE_PROVIDER: 'anthropic'},
      })
      const entries = JSON.parse(stdout) as Array<{key: string; source: {kind: string; variable?: string}; value: unknown}>
      const byKey = new Map(entries.map(entry => [entry.key, entry]))
      expect(byKey.get('provider.model')).to.deep.equal({key: 'provider.model', source: {kind: 'default'}, value: 'claude-sonnet-5-5'})
      expect(byKey.get('storage.url')).to.deep.equal({
        key: 'storage.url',
        source: {kind: 'env', variable: 'DATABASE_URL'},
        value: 'postgres://me:********@127.0.0.1/db',
      })
    })

    it('an unset base_url is the endpoint the provider uses; a set one is shown as set', async () => {
      const byKey = async (env: NodeJS.ProcessEnv) =>
        new Map((JSON.parse((await synapse(sandbox, ['config', 'show', '--json'], {env})).stdout) as Array<{key: string}>).map(entry => [entry.key, entry]))
      // The sandbox points OPENAI_BASE_URL at the fake server; empty counts as unset.
      expect((await byKey({OPENAI_BASE_URL: ''})).get('providers.openai.base_url')).to.deep.equal({
        key: 'providers.openai.base_url',
        source: {kind: 'default'},
        value: 'https://api.openai.com/v1',
      })
      expect((await byKey({OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1'})).get('providers.openai.base_url')).to.deep.equal({
        key: 'providers.openai.base_url',
        source: {kind: 'env', variable: 'OPENAI_BASE_URL'},
        value: 'http://127.0.0.1:11434/v1',
      })
    })
  })
})
