import {anthropicProvider} from '@synapse-cli/provider-anthropic'
import {expect} from 'chai'

import {openaiProvider} from '../../src/providers/openai.js'
import type {ModelsResult} from '../../src/providers/models.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {closedPort} from '../helpers/ports.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'

const STORED_KEY = 'sk-stored-for-models-41d8e2b7a9'

/** The known models of a provider as `models` prints them in a pipe: the default first. */
function knownLines(descriptor: {defaultModel: string; models?: string[]; name: string}, servedIds: string[] = []): string[] {
  const known = [...new Set([descriptor.defaultModel, ...(descriptor.models ?? [])])]
  return known.map((model) => {
    const notes = [...(model === descriptor.defaultModel ? ['default'] : []), ...(servedIds.includes(model) ? ['on the server'] : [])]
    return `${descriptor.name}\t${model}\t${notes.join(', ')}`
  })
}

describe('models (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  beforeEach(async () => {
    server = await FakeOpenAIServer.start({models: ['llama3.2:latest', 'gpt-5.4-mini', 'qwen3:8b']})
    sandbox = makeSandbox()
  })
  afterEach(async () => {
    await server.close()
    sandbox.cleanup()
  })

  it('lists every provider’s known models, default first', async function () {
    const exit = await synapse(sandbox, ['models'])
    expect(exit).to.deep.include({code: 0, stderr: ''})
    expect(exit.stdout).to.equal([...knownLines(anthropicProvider), ...knownLines(openaiProvider)].map((line) => `${line}\n`).join(''))
  })

  it('adds what an OpenAI-compatible server lists, sending the stored key', async function () {
    sandbox.env.OPENAI_BASE_URL = server.url
    expect((await synapse(sandbox, ['keys', 'set', 'openai'], {input: STORED_KEY})).code).to.equal(0)
    const exit = await synapse(sandbox, ['models', '--provider', 'openai'])
    expect(exit).to.deep.include({code: 0, stderr: ''})
    const served = ['llama3.2:latest', 'gpt-5.4-mini', 'qwen3:8b']
    expect(exit.stdout).to.equal(
      [...knownLines(openaiProvider, served), 'openai\tllama3.2:latest\ton the server', 'openai\tqwen3:8b\ton the server'].map((line) => `${line}\n`).join(''),
    )
    const [request] = server.requests
    expect({authorization: request.headers.authorization, method: request.method, path: request.path}).to.deep.equal({
      authorization: `Bearer ${STORED_KEY}`,
      method: 'GET',
      path: '/v1/models',
    })
    expect(exit.stdout + exit.stderr).not.to.contain(STORED_KEY)
  })

  it('--json carries each model with its provider, flags and a place for its facts, and the servers asked', async function () {
    sandbox.env.OPENAI_BASE_URL = server.url
    const exit = await synapse(sandbox, ['models', '-p', 'openai', '--json'])
    expect(exit.code).to.equal(0)
    const result = JSON.parse(exit.stdout) as ModelsResult
    expect(result.servers).to.deep.equal([{error: null, models: 3, provider: 'openai', url: server.url}])
    expect(result.models[0]).to.deep.equal({default: true, facts: null, known: true, model: openaiProvider.defaultModel, provider: 'openai', served: true})
    expect(result.models.at(-1)).to.deep.equal({default: false, facts: null, known: false, model: 'qwen3:8b', provider: 'openai', served: true})
    expect(result.models.filter((m) => m.served).map((m) => m.model)).to.deep.equal(['gpt-5.4-mini', 'llama3.2:latest', 'qwen3:8b'])
  })

  it('a server that refuses the connection costs one note on stderr; the known list is still shown', async function () {
    const url = `http://127.0.0.1:${await closedPort()}/v1`
    const exit = await synapse(sandbox, ['models', '-p', 'openai'], {env: {OPENAI_BASE_URL: url}})
    expect(exit).to.deep.include({
      code: 0,
      stderr: `Note: openai: the server at ${url} did not list its models (connection refused); showing the known ones.\n`,
      stdout: knownLines(openaiProvider).map((line) => `${line}\n`).join(''),
    })
  })

  it('a server that answers with an error, or not at all, is noted the same way', async function () {
    sandbox.env.OPENAI_BASE_URL = server.url
    server.modelsBehaviour = {message: 'Unauthorized.', status: 401}
    const refused = await synapse(sandbox, ['models', '-p', 'openai'])
    expect(refused.code).to.equal(0)
    expect(refused.stderr).to.equal(`Note: openai: the server at ${server.url} did not list its models (HTTP 401); showing the known ones.\n`)

    server.modelsBehaviour = 'hang'
    const silent = await synapse(sandbox, ['models', '-p', 'openai', '--json'])
    expect(silent.code).to.equal(0)
    expect(silent.stderr).to.equal(`Note: openai: the server at ${server.url} did not list its models (no answer within 2 s); showing the known ones.\n`)
    expect((JSON.parse(silent.stdout) as ModelsResult).servers).to.deep.equal([{error: 'no answer within 2 s', models: null, provider: 'openai', url: server.url}])
  })

  it('model ids from a server are data: control characters never reach the terminal', async function () {
    await server.close()
    server = await FakeOpenAIServer.start({models: ['evil\u001B[2J\u001B]0;pwned\u0007-model', 'two words', '']})
    const exit = await synapse(sandbox, ['models', '-p', 'openai', '--json'], {env: {OPENAI_BASE_URL: server.url}})
    const result = JSON.parse(exit.stdout) as ModelsResult
    expect(result.models.filter((m) => !m.known).map((m) => m.model)).to.deep.equal(['evil[2J]0;pwned-model'])
    const table = await synapse(sandbox, ['models', '-p', 'openai'], {env: {OPENAI_BASE_URL: server.url}})
    expect(table.stdout.split('\n').at(-2)).to.equal('openai\tevil[2J]0;pwned-model\ton the server')
    expect(table.stdout).not.to.match(/[\u0000-\u0008\u000B-\u001F\u007F]/)
  })

  it('--provider with a typo names the closest provider', async function () {
    const exit = await synapse(sandbox, ['models', '--provider', 'antropic'])
    expect(exit).to.deep.include({
      code: 1,
      stderr:
        'Error: Unknown provider "antropic". Known providers: anthropic, openai.\n' +
        '  → Did you mean "anthropic"?\n' +
        '  → If a plugin provides "antropic", install it: synapse plugins install <package>.\n',
      stdout: '',
    })
  })
})
