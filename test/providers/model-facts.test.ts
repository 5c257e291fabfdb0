import {findProvider} from '@pydantic/genai-prices'
import {expect} from 'chai'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {loadConfig, type LoadedConfig} from '../../src/config/index.js'
import {ConfigError} from '../../src/core/errors.js'
import {MODEL_FACTS_SOURCE, modelFacts, sourceLine} from '../../src/providers/model-facts.js'
import {shippedFacts} from '../helpers/model-data.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

function factsOf(provider: string, id: string) {
  const facts = shippedFacts(provider, id)
  if (!facts) throw new Error(`the shipped data has no ${provider} ${id}`)
  return facts
}

describe('model facts', () => {
  let sandbox: Sandbox
  let project: string
  beforeEach(() => {
    sandbox = makeSandbox()
    project = path.join(sandbox.root, 'project')
    mkdirSync(path.join(project, '.git'), {recursive: true})
  })
  afterEach(() => sandbox.cleanup())

  const userFile = (toml: string) => {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(path.join(sandbox.configDir, 'config.toml'), toml)
  }

  const load = (): Promise<LoadedConfig> => loadConfig({cwd: project, env: sandbox.env})

  it('names the package and version that is installed, with its publication date', () => {
    // The package exports no package.json; its directory holds one.
    const file = new URL('../../node_modules/@pydantic/genai-prices/package.json', import.meta.url)
    const installed = JSON.parse(readFileSync(file, 'utf8')) as {name: string; version: string}
    const pinned = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {devDependencies: Record<string, string>})
      .devDependencies[installed.name]
    expect({name: MODEL_FACTS_SOURCE.name, version: MODEL_FACTS_SOURCE.version}).to.deep.equal({name: installed.name, version: installed.version})
    // An exact pin: a range would let the numbers, and this file's date, drift apart.
    expect(pinned).to.equal(installed.version)
    expect(MODEL_FACTS_SOURCE.date).to.match(/^\d{4}-\d{2}-\d{2}$/)
    expect(sourceLine()).to.equal(`prices: @pydantic/genai-prices ${installed.version}, ${MODEL_FACTS_SOURCE.date}`)
  })

  it('gives well-known models the shipped context window and prices', async () => {
    const config = await load()
    expect(await modelFacts('gpt-4o', 'openai', config)).to.deep.equal(factsOf('openai', 'gpt-4o'))
    expect(await modelFacts('gpt-4.1-mini', 'openai', config)).to.deep.equal(factsOf('openai', 'gpt-4.1-mini'))
    expect(await modelFacts('claude-haiku-4-5', 'anthropic', config)).to.deep.equal(factsOf('anthropic', 'claude-haiku-4-5'))
  })

  it('takes the price list in force now and a tiered price at its base tier', async () => {
    const config = await load()
    const o3 = findProvider({providerId: 'openai'})!.models.find(model => model.id === 'o3')!
    expect(Array.isArray(o3.prices), 'o3 has dated price lists in the data').to.equal(true)
    expect((await modelFacts('o3', 'openai', config))?.inputPrice).to.equal(factsOf('openai', 'o3').inputPrice)
    const gpt54 = findProvider({providerId: 'openai'})!.models.find(model => model.id === 'gpt-5.4')!
    const input = (gpt54.prices as Record<string, {base: number; tiers: unknown[]}>).input_mtok
    expect(input.tiers).to.have.length.above(0)
    expect((await modelFacts('gpt-5.4', 'openai', config))?.inputPrice).to.equal(input.base)
  })

  it('a dated variant: an alias the data lists, or else the name without its date', async () => {
    const config = await load()
    expect(await modelFacts('gpt-4o-2024-08-06', 'openai', config)).to.deep.equal(factsOf('openai', 'gpt-4o'))
    expect(await modelFacts('claude-haiku-4-5-20991231', 'anthropic', config)).to.deep.equal(factsOf('anthropic', 'claude-haiku-4-5'))
    expect(await modelFacts('gpt-4.1-2099-01-31', 'openai', config)).to.deep.equal(factsOf('openai', 'gpt-4.1'))
  })

  it("never a prefix: a newer model does not get an older one's numbers, and an unknown model gets null", async () => {
    const config = await load()
    // The package's own matcher would give claude-sonnet-5-5 the prices of claude-sonnet-5.
    expect(findProvider({providerId: 'anthropic'})!.models.some(model => model.id === 'claude-sonnet-5')).to.equal(true)
    expect(await modelFacts('claude-sonnet-5-5', 'anthropic', config)).to.equal(null)
    expect(await modelFacts('gpt-4o-turbo-extra', 'openai', config)).to.equal(null)
    expect(await modelFacts('llama3.2:latest', 'openai', config)).to.equal(null)
    // The data of another provider is not borrowed.
    expect(await modelFacts('gpt-4o', 'anthropic', config)).to.equal(null)
    expect(await modelFacts('gpt-4o', 'no-such-provider', config)).to.equal(null)
  })

  it('the config overrides the shipped data key by key, and gives a local model its facts', async () => {
    userFile(
      '[models."gpt-4o"]\ninput_price = 2\ncached_input_price = 0\n\n[models."llama3.2:latest"]\ncontext_window = 131072\ninput_price = 0\noutput_price = 0\n',
    )
    const config = await load()
    const shipped = factsOf('openai', 'gpt-4o')
    expect(await modelFacts('gpt-4o', 'openai', config)).to.deep.equal({...shipped, cachedInputPrice: 0, inputPrice: 2, pricesFrom: 'config', source: 'config'})
    expect(await modelFacts('llama3.2:latest', 'openai', config)).to.deep.equal({
      cachedInputPrice: null,
      contextWindow: 131_072,
      inputPrice: 0,
      outputPrice: 0,
      pricesFrom: 'config',
      source: 'config',
    })
    // The table is for that exact name: a dated variant keeps the shipped facts.
    expect(await modelFacts('gpt-4o-2024-08-06', 'openai', config)).to.deep.equal(shipped)
  })

  it('a bad override is one error naming the file and the key', async () => {
    userFile('[models."gpt-4.1"]\ninput_price = -1\n')
    const error = await load().then(
      () => expect.fail('loadConfig should have thrown'),
      (error_: unknown) => error_ as ConfigError,
    )
    expect(error).to.be.instanceOf(ConfigError)
    expect(error.message).to.equal(`${path.join(sandbox.configDir, 'config.toml')}: models."gpt-4.1".input_price must be a number ≥ 0, not -1.`)
    expect(error.suggestions).to.deep.equal(['Use a number ≥ 0 (USD per million input tokens), or remove it to use the shipped data.'])
  })
})
