import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {SynapseError} from '../../src/core/errors.js'
import {openaiProvider} from '../../src/providers/openai.js'
import type {Provider, ProviderDescriptor} from '../../src/providers/provider.js'
import {builtinProviders, ProviderRegistry} from '../../src/providers/registry.js'

const execFileAsync = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

function descriptor(name: string, description = `${name} models`): ProviderDescriptor {
  return {
    create(): Provider {
      throw new Error('not used by these tests')
    },
    defaultModel: `${name}-default`,
    description,
    name,
  }
}

function thrownBy(action: () => unknown): SynapseError {
  try {
    action()
  } catch (error) {
    expect(error).to.be.instanceOf(SynapseError)
    return error as SynapseError
  }

  throw new Error('expected a SynapseError, nothing was thrown')
}

describe('ProviderRegistry', () => {
  it('returns a registered descriptor by name', () => {
    const registry = new ProviderRegistry()
    const echo = descriptor('echo')
    registry.register(echo, {source: 'synapse-plugin-echo'})

    expect(registry.get('echo')).to.equal(echo)
    expect(registry.has('echo')).to.equal(true)
    expect(registry.registration('echo')).to.deep.equal({descriptor: echo, source: 'synapse-plugin-echo'})
  })

  it('records builtin as the source when none is given', () => {
    const registry = new ProviderRegistry()
    const registered = registry.register(openaiProvider)

    expect(registered).to.deep.equal({descriptor: openaiProvider, source: 'builtin'})
  })

  it('lets a later registration of a name replace the earlier one, remembering both sources', () => {
    const registry = new ProviderRegistry()
    const builtin = descriptor('openai', 'built in')
    const override = descriptor('openai', 'from a plugin')
    registry.register(builtin, {source: 'builtin'})
    registry.register(override, {source: '@acme/synapse-openai'})

    expect(registry.get('openai')).to.equal(override)
    expect(registry.list()).to.deep.equal([{descriptor: override, replaced: 'builtin', source: '@acme/synapse-openai'}])
  })

  it('lists registrations sorted by name', () => {
    const registry = new ProviderRegistry()
    registry.register(descriptor('zeta'), {source: 'z-plugin'})
    registry.register(descriptor('alpha'))
    registry.register(descriptor('mid'), {source: 'm-plugin'})

    expect(registry.list().map(entry => `${entry.descriptor.name}:${entry.source}`)).to.deep.equal(['alpha:builtin', 'mid:m-plugin', 'zeta:z-plugin'])
    expect(registry.names()).to.deep.equal(['alpha', 'mid', 'zeta'])
  })

  it('throws PROVIDER_NOT_FOUND naming the known providers and how a plugin would add one', () => {
    const registry = new ProviderRegistry()
    registry.register(descriptor('openai'))
    registry.register(descriptor('anthropic'), {source: 'synapse-provider-anthropic'})

    const error = thrownBy(() => registry.get('mistral'))

    expect(error.toJSON()).to.deep.equal({
      code: 'PROVIDER_NOT_FOUND',
      exitCode: 1,
      message: 'Unknown provider "mistral". Known providers: anthropic, openai.',
      suggestions: ['If a plugin provides "mistral", install it: synapse plugins install <package>.'],
    })
  })

  it('makes an unknown name typed on the command line a usage error, exit 2', () => {
    const registry = new ProviderRegistry()
    registry.register(descriptor('openai'))

    expect(thrownBy(() => registry.get('mistral', {typed: true})).toJSON()).to.deep.include({code: 'PROVIDER_NOT_FOUND', exitCode: 2})
    expect(thrownBy(() => registry.get('mistral', {typed: false})).exitCode).to.equal(1)
  })

  it('points out a name that differs only in case', () => {
    const registry = new ProviderRegistry()
    registry.register(descriptor('openai'))

    const error = thrownBy(() => registry.get('OpenAI'))

    expect(error.suggestions).to.deep.equal([
      'Provider names are lower case: use "openai".',
      'If a plugin provides "OpenAI", install it: synapse plugins install <package>.',
    ])
  })

  it('suggests the closest name for a typo', () => {
    const registry = new ProviderRegistry()
    registry.register(descriptor('openai'))
    registry.register(descriptor('anthropic'))

    expect(thrownBy(() => registry.get('antropic')).suggestions).to.deep.equal([
      'Did you mean "anthropic"?',
      'If a plugin provides "antropic", install it: synapse plugins install <package>.',
    ])
  })

  it('says when no provider is known at all', () => {
    const error = thrownBy(() => new ProviderRegistry().get('openai'))

    expect(error.message).to.equal('Unknown provider "openai". Known providers: none.')
  })

  it('refuses a name that could not be a flag value or config key', () => {
    const registry = new ProviderRegistry()

    const error = thrownBy(() => registry.register(descriptor('My Provider'), {source: 'bad-plugin'}))

    expect(error.toJSON()).to.deep.include({
      code: 'PROVIDER_ERROR',
      message: 'The provider name "My Provider" registered by bad-plugin is invalid: use lower-case letters, digits, "-" and "_".',
    })
    expect(registry.list()).to.deep.equal([])
  })
})

describe('builtinProviders', () => {
  it('is the openai provider, with the key variable and a default model', () => {
    const builtins = builtinProviders()

    expect(builtins).to.deep.equal([openaiProvider])
    expect({apiKeyEnv: builtins[0].apiKeyEnv, defaultModel: builtins[0].defaultModel, name: builtins[0].name}).to.deep.equal({
      apiKeyEnv: 'OPENAI_API_KEY',
      defaultModel: 'gpt-5.4-mini',
      name: 'openai',
    })
  })

  it('does not load the openai SDK until a reply is streamed', async () => {
    // A fresh process, since this one has loaded the SDK for other tests; a resolve hook sees every import of it.
    const directory = await mkdtemp(join(tmpdir(), 'synapse-lazy-sdk-'))
    const script = join(directory, 'probe.mjs')
    await writeFile(
      script,
      `
import {registerHooks} from 'node:module'
const imports = []
registerHooks({resolve(specifier, context, next) {
  if (specifier === 'openai') imports.push(specifier)
  return next(specifier, context)
}})
const {builtinProviders} = await import(${JSON.stringify(pathToFileURL(join(root, 'src/providers/registry.ts')).href)})
const {FakeOpenAIServer} = await import(${JSON.stringify(pathToFileURL(join(root, 'test/fakes/openai-server.ts')).href)})
const server = await FakeOpenAIServer.start()
const provider = builtinProviders()[0].create({apiKey: 'sk-unused', baseUrl: server.url, extra: {}})
console.log('created:', JSON.stringify(imports))
for await (const event of provider.stream([{role: 'user', content: 'hi'}], {model: 'm'})) void event
console.log('streamed:', JSON.stringify(imports))
await server.close()
`,
    )
    try {
      const {stdout} = await execFileAsync(process.execPath, ['--import', 'tsx', script], {cwd: root})
      expect(stdout).to.equal('created: []\nstreamed: ["openai"]\n')
    } finally {
      await rm(directory, {force: true, recursive: true})
    }
  })
})
