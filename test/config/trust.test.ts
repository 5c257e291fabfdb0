import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {loadConfig, type LoadedConfig, PROJECT_SAFE_KEYS, PROJECT_SAFE_MODEL_OPTIONS, trustProject, untrustProject} from '../../src/config/index.js'
import {ConfigError} from '../../src/core/errors.js'
import {openaiProvider} from '../../src/providers/openai.js'
import {providerSettings} from '../../src/providers/settings.js'

/** A private HOME, XDG_CONFIG_HOME and project (a git checkout someone else wrote) per test. */
interface Box {
  env: NodeJS.ProcessEnv
  project: string
  root: string
  userDir: string
  write(relative: string, content: string): string
}

const roots: string[] = []

function box(): Box {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'synapse-trust-')))
  roots.push(root)
  const project = path.join(root, 'project')
  for (const dir of ['home', 'xdg', 'project/.git']) fs.mkdirSync(path.join(root, dir), {recursive: true})
  const write = (relative: string, content: string) => {
    const file = path.join(root, relative)
    fs.mkdirSync(path.dirname(file), {recursive: true})
    fs.writeFileSync(file, content)
    return file
  }

  return {env: {HOME: path.join(root, 'home'), XDG_CONFIG_HOME: path.join(root, 'xdg')}, project, root, userDir: path.join(root, 'xdg', 'synapse'), write}
}

const load = (b: Box, cwd = b.project) => loadConfig({cwd, env: b.env})

async function loadError(b: Box): Promise<ConfigError> {
  try {
    await load(b)
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError)
    return error as ConfigError
  }

  expect.fail('loadConfig should have thrown')
}

const HOSTILE_TOML = [
  '[provider]',
  'default = "openai"',
  'model = "repo-model"',
  '[providers.openai]',
  'base_url = "http://127.0.0.1:9/v1"',
  'api_key = "sk-repo"',
  '[storage]',
  'url = "sqlite:repo.db"',
  '[session]',
  'max_sessions = 1',
  'retention_days = 0.001',
  'auto_cleanup = true',
  'max_context_messages = 6',
  '',
].join('\n')

afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, {force: true, recursive: true})
})

describe('config trust', () => {
  describe('an untrusted project file', () => {
    it('sets only the provider, the model and the context limits, and warns once per other key, naming the file', async () => {
      const b = box()
      b.write('xdg/synapse/config.toml', '[providers.openai]\nbase_url = "http://127.0.0.1:8/v1"\n[session]\nmax_sessions = 50\n')
      const file = b.write('project/.synapserc.toml', HOSTILE_TOML)
      const config = await load(b)

      expect(config.settings.provider).to.deep.equal({default: 'openai', model: 'repo-model'})
      expect(config.settings.session).to.deep.equal({
        autoCleanup: true,
        contextStrategy: 'truncate',
        maxContextMessages: 6,
        maxContextTokens: 0,
        maxSessions: 50,
        retentionDays: 90,
      })
      expect(config.settings.storage.url).to.equal(undefined)
      expect(config.settings.providers.openai).to.deep.equal({base_url: 'http://127.0.0.1:8/v1'})
      expect(config.files.at(-1)).to.deep.equal({kind: 'project', path: file, trust: 'untrusted'})
      const remedy = `run "synapse config trust ${b.project}" to allow it.`
      expect(config.warnings).to.deep.equal(
        ['providers.openai.base_url', 'providers.openai.api_key', 'storage.url', 'session.max_sessions', 'session.retention_days', 'session.auto_cleanup'].map(
          key => `ignoring ${key} in ${file}: a project file may not set it until you trust it; ${remedy}`,
        ),
      )
    })

    it('says nothing when it sets only what a project may', async () => {
      const b = box()
      b.write('project/.synapserc', 'provider:\n  model: m\nsession:\n  max_context_tokens: 900\n')
      const config = await load(b)
      expect(config.warnings).to.deep.equal([])
      expect(config.settings.session.maxContextTokens).to.equal(900)
    })

    it('names package.json keys with their synapse prefix, and shows paths under HOME with ~', async () => {
      const b = box()
      const project = path.join(b.root, 'home', 'src', 'repo')
      fs.mkdirSync(project, {recursive: true})
      fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({name: 'repo', synapse: {provider: {model: 'pkg'}, storage: {url: 'sqlite:x.db'}}}))
      const config = await load(b, project)
      expect(config.settings.provider.model).to.equal('pkg')
      expect(config.settings.storage.url).to.equal(undefined)
      expect(config.warnings).to.deep.equal([
        `ignoring synapse.storage.url in ~/src/repo/package.json: a project file may not set it until you trust it; run "synapse config trust ~/src/repo" to allow it.`,
      ])
    })

    it('quotes a directory with spaces in the remedy so that it pastes into a shell', async () => {
      const b = box()
      const project = path.join(b.root, 'home', "it's a repo")
      fs.mkdirSync(path.join(project, '.git'), {recursive: true})
      fs.writeFileSync(path.join(project, '.synapserc.json'), '{"storage": {"url": "sqlite:x.db"}}')
      const [warning] = (await load(b, project)).warnings
      expect(warning).to.contain(String.raw`run "synapse config trust ~/'it'\''s a repo'" to allow it.`)
    })

    it('the safe keys are exactly the provider choice, the model and the context limits', () => {
      expect(PROJECT_SAFE_KEYS).to.deep.equal(['session.max_context_messages', 'session.max_context_tokens', 'provider.default', 'provider.model'])
    })
  })

  describe('model tables in an untrusted project file', () => {
    it('apply the context window only: a price from a repository could make a paid model look free', async () => {
      const b = box()
      b.write('xdg/synapse/config.toml', '[models."gpt-4o"]\ninput_price = 3\n')
      const file = b.write('project/.synapserc.toml', '[models."gpt-4o"]\ncontext_window = 64000\ninput_price = 0\noutput_price = 0\ncached_input_price = 0\n')
      const config = await load(b)
      expect(config.settings.models['gpt-4o']).to.deep.equal({context_window: 64_000, input_price: 3})
      const remedy = `run "synapse config trust ${b.project}" to allow it.`
      expect(config.warnings).to.deep.equal(
        ['input_price', 'output_price', 'cached_input_price'].map(
          option => `ignoring models.gpt-4o.${option} in ${file}: a project file may not set it until you trust it; ${remedy}`,
        ),
      )
      expect(PROJECT_SAFE_MODEL_OPTIONS).to.deep.equal(['context_window'])

      const trusted = await trustProject({cwd: b.project, env: b.env})
      expect(trusted.unlocked).to.deep.equal(['models.gpt-4o.input_price', 'models.gpt-4o.output_price', 'models.gpt-4o.cached_input_price'])
      expect((await load(b)).settings.models['gpt-4o']).to.deep.equal({cached_input_price: 0, context_window: 64_000, input_price: 0, output_price: 0})
    })
  })

  describe('trust and untrust', () => {
    it('trusting applies every key; an edit makes it untrusted again; trusting again applies it; untrust forgets', async () => {
      const b = box()
      const file = b.write('project/.synapserc.toml', HOSTILE_TOML)
      const trusted = await trustProject({cwd: path.join(b.project), env: b.env, now: new Date('2026-12-01T10:00:00Z')})
      expect(trusted).to.deep.include({directory: b.project, file})
      expect(trusted.keys).to.deep.equal([
        'provider.default',
        'provider.model',
        'providers.openai.base_url',
        'providers.openai.api_key',
        'storage.url',
        'session.max_sessions',
        'session.retention_days',
        'session.auto_cleanup',
        'session.max_context_messages',
      ])
      expect(trusted.unlocked).to.deep.equal([
        'providers.openai.base_url',
        'providers.openai.api_key',
        'storage.url',
        'session.max_sessions',
        'session.retention_days',
        'session.auto_cleanup',
      ])

      let config = await load(b)
      expect(config.warnings).to.deep.equal([])
      expect(config.files).to.deep.equal([{kind: 'project', path: file, trust: 'trusted'}])
      expect(config.settings.storage.url).to.equal('sqlite:repo.db')
      expect(config.settings.session.maxSessions).to.equal(1)
      expect(config.settings.providers.openai).to.deep.equal({api_key: 'sk-repo', base_url: 'http://127.0.0.1:9/v1'})

      // The record: 0600, the directory, the file's name and its sha256.
      const record = path.join(b.userDir, 'trusted.json')
      expect(fs.statSync(record).mode & 0o777).to.equal(0o600)
      expect(JSON.parse(fs.readFileSync(record, 'utf8'))).to.deep.equal({
        directories: {[b.project]: {file: '.synapserc.toml', sha256: trusted.sha256, trustedAt: '2026-12-01T10:00:00.000Z'}},
        version: 1,
      })
      expect(fs.readdirSync(b.userDir)).to.deep.equal(['trusted.json'])

      fs.appendFileSync(file, '# harmless-looking edit\n')
      config = await load(b)
      expect(config.files).to.deep.equal([{kind: 'project', path: file, trust: 'changed'}])
      expect(config.settings.storage.url).to.equal(undefined)
      expect(config.settings.session.maxSessions).to.equal(100)
      expect(config.warnings[0]).to.equal(
        `ignoring providers.openai.base_url in ${file}: the file is not the one you trusted there, or changed since; run "synapse config trust ${b.project}" again to allow it.`,
      )

      await trustProject({cwd: b.project, env: b.env})
      expect((await load(b)).settings.storage.url).to.equal('sqlite:repo.db')

      expect(await untrustProject({cwd: path.join(b.project), env: b.env})).to.deep.equal({directory: b.project, removed: true})
      config = await load(b)
      expect(config.files).to.deep.equal([{kind: 'project', path: file, trust: 'untrusted'}])
      expect(config.settings.storage.url).to.equal(undefined)
      expect(await untrustProject({cwd: b.project, env: b.env})).to.deep.equal({directory: b.project, removed: false})
    })

    it('trusts the file found above a subdirectory, keyed by its own directory', async () => {
      const b = box()
      b.write('project/.synapserc.json', '{"storage": {"url": "sqlite:repo.db"}}')
      const sub = path.join(b.project, 'src', 'deep')
      fs.mkdirSync(sub, {recursive: true})
      expect((await trustProject({cwd: sub, env: b.env})).directory).to.equal(b.project)
      expect((await load(b, sub)).settings.storage.url).to.equal('sqlite:repo.db')
      expect((await untrustProject({cwd: sub, env: b.env})).removed).to.equal(true)
    })

    it("a different file taking the trusted one's place is not trusted", async () => {
      const b = box()
      const first = b.write('project/.synapserc.json', '{"storage": {"url": "sqlite:one.db"}}')
      await trustProject({cwd: b.project, env: b.env})
      fs.rmSync(first)
      b.write('project/.synapserc.yaml', 'storage:\n  url: "sqlite:one.db"\n')
      const config = await load(b)
      expect(config.files.at(-1)?.trust).to.equal('changed')
      expect(config.settings.storage.url).to.equal(undefined)
    })

    it('refuses a directory that does not exist, or has no project file, and a broken file', async () => {
      const b = box()
      const missing = path.join(b.project, 'typo')
      try {
        await trustProject({cwd: missing, env: b.env})
        expect.fail('trustProject should have thrown')
      } catch (error) {
        expect((error as Error).message).to.equal(`${missing} is not a directory.`)
      }

      try {
        await trustProject({cwd: b.project, env: b.env})
        expect.fail('trustProject should have thrown')
      } catch (error) {
        expect((error as Error).message).to.equal(`No project config file in ${b.project} or above it, up to the project root.`)
      }

      const file = b.write('project/.synapserc.json', '{"session": {"max_sessions": -1}}')
      try {
        await trustProject({cwd: b.project, env: b.env})
        expect.fail('trustProject should have thrown')
      } catch (error) {
        expect((error as Error).message).to.equal(`${file}: session.max_sessions must be a whole number ≥ 0, not -1.`)
      }

      expect(fs.existsSync(path.join(b.userDir, 'trusted.json'))).to.equal(false)
    })

    it('a damaged record is an error naming it, not silent trust', async () => {
      const b = box()
      b.write('project/.synapserc.json', '{"storage": {"url": "sqlite:repo.db"}}')
      b.write('xdg/synapse/trusted.json', '{"directories": []}')
      const error = await loadError(b)
      expect(error.message).to.equal(`${path.join(b.userDir, 'trusted.json')} is damaged: it is not the list of trusted directories synapse writes.`)
    })
  })

  describe('JavaScript project files', () => {
    const names = ['.synapserc.cjs', '.synapserc.js', '.synapserc.mjs', 'synapse.config.cjs', 'synapse.config.js', 'synapse.config.mjs']
    for (const name of names) {
      it(`never runs an untrusted ${name}, and runs it once trusted, until it changes`, async () => {
        const b = box()
        const marker = path.join(b.root, 'ran')
        const esm = name.endsWith('.mjs')
        const body = `writeFileSync(${JSON.stringify(marker)}, 'x'); ${esm ? 'export default' : 'module.exports ='} {storage: {url: 'sqlite:js.db'}}\n`
        const file = b.write(`project/${name}`, `${esm ? "import {writeFileSync} from 'node:fs';" : "const {writeFileSync} = require('node:fs');"} ${body}`)
        if (!esm) b.write('project/package.json', '{"name": "p", "type": "commonjs"}')

        let config = await load(b)
        expect(fs.existsSync(marker), 'the file ran').to.equal(false)
        expect(config.settings.storage.url).to.equal(undefined)
        expect(config.files.at(-1)).to.deep.equal({kind: 'project', path: file, trust: 'untrusted'})
        expect(config.warnings).to.deep.equal([
          `not running ${file}: synapse runs a project's JavaScript config only once you trust it; run "synapse config trust ${b.project}" to allow it.`,
        ])

        const trusted = await trustProject({cwd: b.project, env: b.env})
        expect(trusted.keys).to.equal(null)
        expect(fs.existsSync(marker), 'trusting ran the file').to.equal(false)
        config = await load(b)
        expect(fs.existsSync(marker)).to.equal(true)
        expect(config.settings.storage.url).to.equal('sqlite:js.db')

        fs.rmSync(marker)
        fs.appendFileSync(file, '// edited\n')
        config = await load(b)
        expect(fs.existsSync(marker), 'the edited file ran').to.equal(false)
        expect(config.files.at(-1)?.trust).to.equal('changed')
      })
    }

    it('never runs cosmiconfig\'s meta config (.config/config.js) nor what a package.json "cosmiconfig" key names', async () => {
      const b = box()
      const marker = path.join(b.root, 'ran')
      const script = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = {}\n`
      b.write('project/.config/config.cjs', script)
      b.write('project/.config/config.js', script)
      b.write('project/evil.cjs', script)
      b.write('project/package.json', JSON.stringify({cosmiconfig: {searchPlaces: ['evil.cjs']}, name: 'p', type: 'commonjs'}))
      b.write('project/.synapserc.json', JSON.stringify({$import: 'evil.cjs'}))
      const error = await loadError(b)
      expect(error.message).to.equal(`${path.join(b.project, '.synapserc.json')}: unknown key $import.`)
      expect(fs.existsSync(marker)).to.equal(false)
    })
  })

  describe('provider tables', () => {
    async function chatSettingsError(toml: string): Promise<ConfigError> {
      const b = box()
      b.write('xdg/synapse/config.toml', toml)
      let config: LoadedConfig
      try {
        config = await load(b)
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError)
        return error as ConfigError
      }

      try {
        providerSettings(openaiProvider, config, {})
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError)
        return error as ConfigError
      }

      expect.fail('the settings should have been refused')
    }

    it('checks the common options: types and ranges', async () => {
      const cases: Array<[string, string]> = [
        ['timeout_ms = "soon"', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not "soon".'],
        ['timeout_ms = -5', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not -5.'],
        ['timeout_ms = 0', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not 0.'],
        ['timeout_ms = 2.5', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not 2.5.'],
        ['timeout_ms = 3000000000', 'providers.openai.timeout_ms must be a whole number from 1 to 2147483647, not 3000000000.'],
        ['max_retries = -1', 'providers.openai.max_retries must be a whole number from 0 to 10, not -1.'],
        ['max_retries = 11', 'providers.openai.max_retries must be a whole number from 0 to 10, not 11.'],
        ['api_key = 12', 'providers.openai.api_key must be a non-empty string, not 12.'],
        ['base_url = "127.0.0.1:8080/v1"', 'providers.openai.base_url must be an http:// or https:// URL, not "127.0.0.1:8080/v1".'],
        ['base_url = "file:///etc/passwd"', 'providers.openai.base_url must be an http:// or https:// URL, not "file:///etc/passwd".'],
      ]
      for (const [line, message] of cases) {
        const error = await chatSettingsError(`[providers.openai]\n${line}\n`)
        expect(error.message, line).to.match(new RegExp(`/xdg/synapse/config\\.toml: ${message.replaceAll(/[$()*+.?[\\\]^{|}]/g, String.raw`\$&`)}$`))
      }

      // Any provider's table, not only openai's.
      expect((await chatSettingsError('[providers.ollama]\ntimeout_ms = -5\n')).message).to.match(
        /providers\.ollama\.timeout_ms must be a whole number from 1 to 2147483647, not -5\.$/,
      )
    })

    it('checks what the provider declares, and suggests the closest option for an unknown key', async () => {
      const typo = await chatSettingsError('[providers.openai]\ntimout_ms = 5000\n')
      expect(typo.message).to.match(/\/xdg\/synapse\/config\.toml: unknown key providers\.openai\.timout_ms\.$/)
      expect(typo.suggestions).to.deep.equal(['Did you mean providers.openai.timeout_ms?'])

      const far = await chatSettingsError('[providers.openai]\nheaders = "x"\n')
      expect(far.suggestions).to.deep.equal([
        'The options of providers.openai are: api_key, base_url, idle_timeout_ms, max_retries, timeout_ms, max_tokens_field, organization, project.',
      ])

      const choice = await chatSettingsError('[providers.openai]\nmax_tokens_field = "tokens"\n')
      expect(choice.message).to.match(/providers\.openai\.max_tokens_field must be "max_completion_tokens" or "max_tokens", not "tokens"\.$/)
    })

    it('accepts good values and hands them to the provider', async () => {
      const b = box()
      b.write(
        'xdg/synapse/config.toml',
        '[providers.openai]\ntimeout_ms = 1500\nidle_timeout_ms = 900\nmax_retries = 0\nbase_url = "http://127.0.0.1:1/v1"\norganization = "org"\n',
      )
      const settings = providerSettings(openaiProvider, await load(b), {})
      expect(settings).to.deep.equal({
        apiKey: undefined,
        apiKeySource: undefined,
        baseUrl: 'http://127.0.0.1:1/v1',
        extra: {organization: 'org'},
        idleTimeoutMs: 900,
        maxRetries: 0,
        timeoutMs: 1500,
      })
    })

    it('refuses a table named __proto__ (or any non-provider name) and leaves Object.prototype alone', async () => {
      for (const toml of [
        '[providers.__proto__]\nbase_url = "http://127.0.0.1:9/v1"\nget = "x"\n',
        '[providers."Not A Provider"]\nbase_url = "http://127.0.0.1:9/v1"\n',
      ]) {
        const error = await chatSettingsError(toml)
        expect(error.message).to.match(/config\.toml: providers\.(__proto__|"Not A Provider") is not a provider name\.$/)
      }

      const b = box()
      // JSON.parse makes "__proto__" an own key, which an assignment into a plain object would turn into Object.prototype.
      b.write('xdg/synapse/config.json', '{"providers": {"__proto__": {"get": "x", "base_url": "http://127.0.0.1:9/v1"}}}')
      expect((await loadError(b)).message).to.match(/providers\.__proto__ is not a provider name\.$/)

      const c = box()
      c.write('xdg/synapse/config.toml', '[providers.openai]\n__proto__ = "x"\n')
      expect((await loadError(c)).message).to.match(/providers\.openai\.__proto__ is not an option name\.$/)

      expect(({} as Record<string, unknown>).base_url).to.equal(undefined)
      expect(({} as Record<string, unknown>).get).to.equal(undefined)
      expect(Object.getOwnPropertyNames(Object.prototype)).to.not.include('base_url')
    })

    it('keeps a table named like an Object method to itself: settings have no prototype', async () => {
      const b = box()
      b.write('xdg/synapse/config.toml', '[providers.constructor]\nbase_url = "http://127.0.0.1:9/v1"\n[providers.tostring]\nx = 1\n')
      const config = await load(b)
      expect(Object.getPrototypeOf(config.settings.providers)).to.equal(null)
      expect(Object.getPrototypeOf(config.settings.session)).to.equal(null)
      expect(config.settings.providers.constructor).to.deep.equal({base_url: 'http://127.0.0.1:9/v1'})
      expect((Object as unknown as Record<string, unknown>).base_url).to.equal(undefined)
      expect(config.settings.providers.openai).to.equal(undefined)
    })
  })
})
