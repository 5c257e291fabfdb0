import {anthropicProvider} from '@synapse-cli/provider-anthropic'
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {openaiProvider} from '../../src/providers/openai.js'
import {MODEL_FACTS_SOURCE, type ModelFacts} from '../../src/providers/model-facts.js'
import type {ModelsResult} from '../../src/providers/models.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {shippedFacts} from '../helpers/model-data.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {closedPort} from '../helpers/ports.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {requireProgram} from '../helpers/programs.js'
import {runOnTerminal} from '../helpers/terminal.js'
import {SHELL_PROMPT, TmuxTerminal} from '../helpers/tmux.js'

const STORED_KEY = 'sk-stored-for-models-41d8e2b7a9'

/** A model's facts as the table shows them: context, input, output and cached input price, `—` for each unknown. */
function factCells(facts: ModelFacts | null | undefined): string {
  const cell = (value: null | number | undefined) => (value === null || value === undefined ? '—' : String(value))
  return [facts?.contextWindow, facts?.inputPrice, facts?.outputPrice, facts?.cachedInputPrice].map(value => cell(value)).join('\t')
}

/** The known models of a provider as `models` prints them in a pipe: the default first, each with the shipped facts of its exact id. */
function knownLines(descriptor: {defaultModel: string; models?: string[]; name: string}, servedIds: string[] = []): string[] {
  const known = [...new Set([descriptor.defaultModel, ...(descriptor.models ?? [])])]
  return known.map(model => {
    const notes = [...(model === descriptor.defaultModel ? ['default'] : []), ...(servedIds.includes(model) ? ['on the server'] : [])]
    return `${descriptor.name}\t${model}\t${factCells(shippedFacts(descriptor.name, model))}\t${notes.join(', ')}`
  })
}

describe('models (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  useOpenAISandbox({pointAtServer: false, server: {models: ['llama3.2:latest', 'gpt-5.4-mini', 'qwen3:8b']}}, made => ({sandbox, server} = made))

  it('lists every provider’s known models, default first', async () => {
    const exit = await synapse(sandbox, ['models'])
    expect(exit).to.deep.include({code: 0, stderr: ''})
    expect(exit.stdout).to.equal([...knownLines(anthropicProvider), ...knownLines(openaiProvider)].map(line => `${line}\n`).join(''))
  })

  it('adds what an OpenAI-compatible server lists, sending the stored key', async () => {
    sandbox.env.OPENAI_BASE_URL = server.url
    expect((await synapse(sandbox, ['keys', 'set', 'openai'], {input: STORED_KEY})).code).to.equal(0)
    const exit = await synapse(sandbox, ['models', '--provider', 'openai'])
    expect(exit).to.deep.include({code: 0, stderr: ''})
    const served = ['llama3.2:latest', 'gpt-5.4-mini', 'qwen3:8b']
    expect(exit.stdout).to.equal(
      [...knownLines(openaiProvider, served), 'openai\tllama3.2:latest\t—\t—\t—\t—\ton the server', 'openai\tqwen3:8b\t—\t—\t—\t—\ton the server']
        .map(line => `${line}\n`)
        .join(''),
    )
    const [request] = server.requests
    expect({authorization: request.headers.authorization, method: request.method, path: request.path}).to.deep.equal({
      authorization: `Bearer ${STORED_KEY}`,
      method: 'GET',
      path: '/v1/models',
    })
    expect(exit.stdout + exit.stderr).not.to.contain(STORED_KEY)
  })

  it('--json carries each model with its provider, flags and a place for its facts, and the servers asked', async () => {
    sandbox.env.OPENAI_BASE_URL = server.url
    const exit = await synapse(sandbox, ['models', '-p', 'openai', '--json'])
    expect(exit.code).to.equal(0)
    const result = JSON.parse(exit.stdout) as ModelsResult
    expect(result.servers).to.deep.equal([{error: null, models: 3, provider: 'openai', url: server.url}])
    const defaultFacts = shippedFacts('openai', openaiProvider.defaultModel)
    expect(defaultFacts, 'the shipped data knows the default model').not.to.equal(undefined)
    expect(result.models[0]).to.deep.equal({
      default: true,
      facts: defaultFacts,
      known: true,
      model: openaiProvider.defaultModel,
      provider: 'openai',
      served: true,
    })
    expect(result.models.at(-1)).to.deep.equal({default: false, facts: null, known: false, model: 'qwen3:8b', provider: 'openai', served: true})
    expect(result.source).to.deep.equal({date: MODEL_FACTS_SOURCE.date, name: '@pydantic/genai-prices', version: MODEL_FACTS_SOURCE.version})
    expect(result.models.filter(m => m.served).map(m => m.model)).to.deep.equal(['gpt-5.4-mini', 'llama3.2:latest', 'qwen3:8b'])
  })

  it('a server that refuses the connection costs one note on stderr; the known list is still shown', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`
    const exit = await synapse(sandbox, ['models', '-p', 'openai'], {env: {OPENAI_BASE_URL: url}})
    expect(exit).to.deep.include({
      code: 0,
      stderr: `Note: openai: the server at ${url} did not list its models (connection refused); showing the known ones.\n`,
      stdout: knownLines(openaiProvider)
        .map(line => `${line}\n`)
        .join(''),
    })
  })

  it('a server that answers with an error, or not at all, is noted the same way', async () => {
    sandbox.env.OPENAI_BASE_URL = server.url
    server.modelsBehaviour = {message: 'Unauthorized.', status: 401}
    const refused = await synapse(sandbox, ['models', '-p', 'openai'])
    expect(refused.code).to.equal(0)
    expect(refused.stderr).to.equal(`Note: openai: the server at ${server.url} did not list its models (HTTP 401); showing the known ones.\n`)

    server.modelsBehaviour = 'hang'
    const silent = await synapse(sandbox, ['models', '-p', 'openai', '--json'])
    expect(silent.code).to.equal(0)
    expect(silent.stderr).to.equal(`Note: openai: the server at ${server.url} did not list its models (no answer within 2 s); showing the known ones.\n`)
    expect((JSON.parse(silent.stdout) as ModelsResult).servers).to.deep.equal([
      {error: 'no answer within 2 s', models: null, provider: 'openai', url: server.url},
    ])
  })

  it('model ids from a server are data: control characters never reach the terminal', async () => {
    const hostile = await FakeOpenAIServer.start({models: ['evil\u001B[2J\u001B]0;pwned\u0007-model', 'two words', '']})
    try {
      const exit = await synapse(sandbox, ['models', '-p', 'openai', '--json'], {env: {OPENAI_BASE_URL: hostile.url}})
      const result = JSON.parse(exit.stdout) as ModelsResult
      expect(result.models.filter(m => !m.known).map(m => m.model)).to.deep.equal(['evil[2J]0;pwned-model'])
      const table = await synapse(sandbox, ['models', '-p', 'openai'], {env: {OPENAI_BASE_URL: hostile.url}})
      expect(table.stdout.split('\n').at(-2)).to.equal('openai\tevil[2J]0;pwned-model\t—\t—\t—\t—\ton the server')
      expect(table.stdout).not.to.match(/[\u0000-\u0008\u000B-\u001F\u007F]/)
    } finally {
      await hostile.close()
    }
  })

  it('shows the shipped facts of well-known models, in --json too, and — (null) where the data has none', async () => {
    const exit = await synapse(sandbox, ['models', '--json'])
    expect(exit).to.deep.include({code: 0, stderr: ''})
    const result = JSON.parse(exit.stdout) as ModelsResult
    const factsOf = (provider: string, model: string) => result.models.find(m => m.provider === provider && m.model === model)?.facts
    for (const [provider, model] of [
      ['openai', 'gpt-4o'],
      ['openai', 'gpt-4.1'],
      ['openai', 'o3'],
      ['anthropic', 'claude-haiku-4-5'],
    ]) {
      const shipped = shippedFacts(provider, model)
      expect(shipped, `${provider} ${model} in the shipped data`).to.have.property('inputPrice').that.is.a('number')
      expect(factsOf(provider, model), `${provider} ${model}`).to.deep.equal(shipped)
    }

    // The shipped data has claude-sonnet-5, not claude-sonnet-5-5: no prefix lends it numbers.
    expect(shippedFacts('anthropic', 'claude-sonnet-5-5')).to.equal(undefined)
    expect(factsOf('anthropic', 'claude-sonnet-5-5')).to.equal(null)
    const text = await synapse(sandbox, ['models', '-p', 'anthropic'])
    expect(text.stdout.split('\n')[0]).to.equal('anthropic\tclaude-sonnet-5-5\t—\t—\t—\t—\tdefault')
  })

  it('on a terminal: a header, the facts aligned, and a footer naming the data and its date', async () => {
    const screen = await runOnTerminal(sandbox, ['models', '-p', 'anthropic'], {columns: 120})
    expect(screen.code).to.equal(0)
    // Deno, on a terminal, clears the line of its own (empty) progress bar before and after the program
    // writes; only that exact sequence is passed over.
    const lines = screen.lines.join('\n').replaceAll('\u001B[0G\u001B[2K\u001B[J', '').replace(/\n$/, '').split('\n')
    expect(lines.join('\n')).not.to.match(/\u001B/)
    const haiku = shippedFacts('anthropic', 'claude-haiku-4-5')!
    expect(lines[0]).to.match(/^PROVIDER +MODEL +CONTEXT +INPUT \$\/1M +OUTPUT \$\/1M +CACHED \$\/1M +NOTE$/)
    const row = lines.find(line => line.startsWith('anthropic  claude-haiku-4-5 '))!
    expect(row.split(/ {2,}/)).to.deep.equal([
      'anthropic',
      'claude-haiku-4-5',
      ...[haiku.contextWindow, haiku.inputPrice, haiku.outputPrice, haiku.cachedInputPrice].map(String),
    ])
    expect(lines.at(-1)).to.equal(`prices: @pydantic/genai-prices ${MODEL_FACTS_SOURCE.version}, ${MODEL_FACTS_SOURCE.date}`)
    expect(lines).to.have.length(knownLines(anthropicProvider).length + 2)
  })

  it('on an 80-column terminal, in colour: no row wraps; a note with no room beside its row goes under it', async function () {
    requireProgram(this, 'tmux')
    const terminal = await TmuxTerminal.start(sandbox, {NO_COLOR: '', OPENAI_API_KEY: STORED_KEY, OPENAI_BASE_URL: server.url}, {columns: 80, rows: 50})
    try {
      await terminal.type('synapse models -p openai')
      const screen = await terminal.waitFor(text => text.includes('prices: ') && text.split('\n').at(-1) === SHELL_PROMPT.trimEnd(), 'models to end')
      const lines = screen.split('\n').slice(1, -2)
      expect(lines[0]).to.match(/^PROVIDER +MODEL +CONTEXT +INPUT \$\/1M +OUTPUT \$\/1M +CACHED \$\/1M$/)
      expect(
        lines.filter(line => line.trim() === ''),
        'no blank line left by a wrapped row',
      ).to.deep.equal([])
      const served = lines.findIndex(line => /^openai +qwen3:8b /.test(line))
      expect(lines[served + 1]).to.equal('  on the server')
      expect(lines.filter(line => line.startsWith('  '))).to.deep.equal(['  default, on the server', '  on the server', '  on the server'])
      expect(lines.filter(line => line.startsWith('openai '))).to.have.length(knownLines(openaiProvider).length + 2)
      expect(terminal.raw(), 'in colour').to.include('\u001B[2m')
    } finally {
      await terminal.kill()
    }
  })

  it('the config\'s [models."<name>"] tables win key by key, and give a served local model its facts', async () => {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(
      join(sandbox.configDir, 'config.toml'),
      '[models."gpt-4o"]\ninput_price = 1.25\n\n[models."llama3.2:latest"]\ncontext_window = 131072\ninput_price = 0\noutput_price = 0\n',
    )
    const exit = await synapse(sandbox, ['models', '-p', 'openai', '--json'], {env: {OPENAI_BASE_URL: server.url}})
    expect(exit).to.deep.include({code: 0, stderr: ''})
    const result = JSON.parse(exit.stdout) as ModelsResult
    const factsOf = (model: string) => result.models.find(m => m.model === model)?.facts
    expect(factsOf('gpt-4o')).to.deep.equal({...shippedFacts('openai', 'gpt-4o'), inputPrice: 1.25, pricesFrom: 'config', source: 'config'})
    expect(factsOf('llama3.2:latest')).to.deep.equal({
      cachedInputPrice: null,
      contextWindow: 131_072,
      inputPrice: 0,
      outputPrice: 0,
      pricesFrom: 'config',
      source: 'config',
    })

    const text = await synapse(sandbox, ['models', '-p', 'openai'], {env: {OPENAI_BASE_URL: server.url}})
    const gpt4o = shippedFacts('openai', 'gpt-4o')!
    expect(text.stdout.split('\n')).to.include.members([
      `openai\tgpt-4o\t${gpt4o.contextWindow}\t1.25\t${gpt4o.outputPrice}\t${gpt4o.cachedInputPrice}\tfacts from config`,
      'openai\tllama3.2:latest\t131072\t0\t0\t—\ton the server, facts from config',
    ])
  })

  it('a bad override stops the command with one error naming the file and the key', async () => {
    mkdirSync(sandbox.configDir, {recursive: true})
    const file = join(sandbox.configDir, 'config.toml')
    writeFileSync(file, '[models."gpt-4o"]\noutput_price = "cheap"\n')
    const exit = await synapse(sandbox, ['models'])
    expect(exit).to.deep.include({
      code: 1,
      stderr: `Error: ${file}: models.gpt-4o.output_price must be a number ≥ 0, not "cheap".\n  → Use a number ≥ 0 (USD per million output tokens), or remove it to use the shipped data.\n`,
      stdout: '',
    })
  })

  it('--provider with a typo names the closest provider, a usage error (exit 2)', async () => {
    const exit = await synapse(sandbox, ['models', '--provider', 'antropic'])
    expect(exit).to.deep.include({
      code: 2,
      stderr:
        'Error: Unknown provider "antropic". Known providers: anthropic, openai.\n' +
        '  → Did you mean "anthropic"?\n' +
        '  → If a plugin provides "antropic", install it: synapse plugins install <package>.\n',
      stdout: '',
    })
  })
})
