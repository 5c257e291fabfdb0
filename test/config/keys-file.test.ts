import {expect} from 'chai'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {loadConfig} from '../../src/config/index.js'
import {keysFilePath, readStoredKeys, removeStoredKey, storeKey} from '../../src/config/keys-file.js'
import {SynapseError} from '../../src/core/errors.js'
import {lazyStoredKeys, maskKey, resolveApiKey} from '../../src/providers/api-keys.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

function thrown(action: () => unknown): {message: string} {
  try {
    action()
  } catch (error) {
    if (error instanceof SynapseError) return error
    throw error
  }

  throw new Error('expected a SynapseError')
}

describe('the keys file', () => {
  let sandbox: Sandbox
  let file: string
  beforeEach(() => {
    sandbox = makeSandbox()
    file = keysFilePath(sandbox.configDir)
  })
  afterEach(() => sandbox.cleanup())

  it('reads as no keys when it does not exist, and round-trips stored and removed keys', () => {
    expect(readStoredKeys(file, sandbox.env)).to.deep.equal({})
    storeKey(file, 'openai', 'sk-one', sandbox.env)
    storeKey(file, 'anthropic', 'sk-two', sandbox.env)
    expect(readStoredKeys(file, sandbox.env)).to.deep.equal({anthropic: 'sk-two', openai: 'sk-one'})
    expect(removeStoredKey(file, 'openai', sandbox.env)).to.equal(true)
    expect(removeStoredKey(file, 'openai', sandbox.env)).to.equal(false)
    expect(readStoredKeys(file, sandbox.env)).to.deep.equal({anthropic: 'sk-two'})
  })

  it('refuses content that is not a table of strings, naming the file but never quoting it', () => {
    mkdirSync(sandbox.configDir, {recursive: true})
    writeFileSync(file, '["sk-in-a-list"]')
    expect(thrown(() => readStoredKeys(file, sandbox.env)).message).to.equal(`${file} must hold a JSON object of provider names and keys.`)
    writeFileSync(file, '{"openai": 42}')
    expect(thrown(() => readStoredKeys(file, sandbox.env)).message).to.equal(`${file} holds a number for "openai", not a string.`)
    writeFileSync(file, '{"openai": "sk-half')
    expect(thrown(() => readStoredKeys(file, sandbox.env)).message).to.equal(`${file} is not valid JSON.`)
    // A failed read must not be "fixed" by a write that drops the other keys.
    expect(() => storeKey(file, 'anthropic', 'sk-x', sandbox.env)).to.throw()
    expect(readFileSync(file, 'utf8')).to.equal('{"openai": "sk-half')
  })
})

describe('which API key a provider gets', () => {
  let sandbox: Sandbox
  beforeEach(() => {
    sandbox = makeSandbox()
    mkdirSync(sandbox.configDir, {recursive: true})
  })
  afterEach(() => sandbox.cleanup())

  const openai = {apiKeyEnv: 'OPENAI_API_KEY', name: 'openai'}

  async function resolve(env: NodeJS.ProcessEnv = {}) {
    const merged = {...sandbox.env, ...env}
    const config = await loadConfig({cwd: sandbox.root, env: merged})
    return resolveApiKey(openai, config, lazyStoredKeys(config, merged), merged)
  }

  it('environment over keys file over config file; an empty variable counts as unset', async () => {
    const configFile = join(sandbox.configDir, 'config.toml')
    expect(await resolve()).to.deep.equal({})
    writeFileSync(configFile, '[providers.openai]\napi_key = "from-config"\n')
    expect(await resolve()).to.deep.equal({key: 'from-config', source: {file: configFile, kind: 'user'}})
    storeKey(keysFilePath(sandbox.configDir), 'openai', 'from-keys-file', sandbox.env)
    expect(await resolve()).to.deep.equal({key: 'from-keys-file', source: {file: keysFilePath(sandbox.configDir), kind: 'keys'}})
    expect(await resolve({OPENAI_API_KEY: 'from-env'})).to.deep.equal({key: 'from-env', source: {kind: 'env', variable: 'OPENAI_API_KEY'}})
    expect((await resolve({OPENAI_API_KEY: ''})).key).to.equal('from-keys-file')
  })

  it('masks a key to its last four characters only when it is long', () => {
    expect(maskKey('sk-proj-abcdefghijklmnop1234')).to.equal('****1234')
    expect(maskKey('short-key')).to.equal('********')
  })
})
