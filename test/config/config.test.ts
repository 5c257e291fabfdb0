import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ConfigError} from '../../src/core/errors.js'
import {type ConfigEntry, DEFAULT_SETTINGS, loadConfig, type LoadConfigOptions, type Settings, trustProject, userConfigDir} from '../../src/config/index.js'

/** A private HOME, XDG_CONFIG_HOME and project per test, so the real ones are never read. */
interface Sandbox {
  env: NodeJS.ProcessEnv
  home: string
  project: string
  /** Writes a file relative to the sandbox root, creating directories. */
  write(relative: string, content: string): string
  xdg: string
}

const roots: string[] = []

function sandbox(): Sandbox {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'synapse-config-')))
  roots.push(root)
  const home = path.join(root, 'home')
  const xdg = path.join(root, 'xdg')
  const project = path.join(root, 'project')
  for (const dir of [home, xdg, project]) fs.mkdirSync(dir)
  // A package.json makes the project dir a project root, so the search never climbs into the shared tmp dir.
  fs.writeFileSync(path.join(project, 'package.json'), '{"name": "fixture", "private": true}\n')
  const write = (relative: string, content: string) => {
    const file = path.join(root, relative)
    fs.mkdirSync(path.dirname(file), {recursive: true})
    fs.writeFileSync(file, content)
    return file
  }

  return {env: {HOME: home, XDG_CONFIG_HOME: xdg}, home, project, write, xdg}
}

function load(box: Sandbox, options: LoadConfigOptions = {}) {
  return loadConfig({cwd: box.project, ...options, env: {...box.env, ...options.env}})
}

async function loadError(box: Sandbox, options: LoadConfigOptions = {}): Promise<ConfigError> {
  try {
    await load(box, options)
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError)
    return error as ConfigError
  }

  expect.fail('loadConfig should have thrown')
}

/** `synapse config trust` in the sandbox's project, for tests of what a trusted project file may set. */
async function trust(box: Sandbox, cwd = box.project): Promise<void> {
  await trustProject({cwd, env: box.env})
}

function entry(entries: ConfigEntry[], key: string): ConfigEntry {
  const found = entries.find(e => e.key === key)
  expect(found, `entry ${key}`).to.not.equal(undefined)
  return found!
}

const DEFAULTS: Settings = {
  models: {},
  provider: {default: 'openai'},
  providers: {},
  session: {autoCleanup: true, contextStrategy: 'truncate', maxContextMessages: 0, maxContextTokens: 0, maxSessions: 100, retentionDays: 90},
  storage: {busyTimeoutMs: 5000},
}

afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, {force: true, recursive: true})
})

describe('config', () => {
  describe('defaults and the user dir', () => {
    it('uses the defaults when there are no files, variables or flags', async () => {
      const box = sandbox()
      const config = await load(box)
      expect(config.settings).to.deep.equal(DEFAULTS)
      expect(config.files).to.deep.equal([])
      expect(config.userDir).to.equal(path.join(box.xdg, 'synapse'))
      expect(config.entries()).to.deep.equal([
        {key: 'session.max_sessions', source: {kind: 'default'}, value: 100},
        {key: 'session.retention_days', source: {kind: 'default'}, value: 90},
        {key: 'session.auto_cleanup', source: {kind: 'default'}, value: true},
        {key: 'session.max_context_messages', source: {kind: 'default'}, value: 0},
        {key: 'session.max_context_tokens', source: {kind: 'default'}, value: 0},
        {key: 'session.context_strategy', source: {kind: 'default'}, value: 'truncate'},
        {key: 'storage.url', source: {kind: 'default'}, value: undefined},
        {key: 'storage.busy_timeout_ms', source: {kind: 'default'}, value: 5000},
        {key: 'provider.default', source: {kind: 'default'}, value: 'openai'},
        {key: 'provider.model', source: {kind: 'default'}, value: undefined},
        {key: 'providers.openai.base_url', source: {kind: 'default'}, value: undefined},
      ])
    })

    it('exports frozen defaults that loading never changes', async () => {
      expect(DEFAULT_SETTINGS).to.deep.equal(DEFAULTS)
      expect(Object.isFrozen(DEFAULT_SETTINGS.session)).to.equal(true)
      const box = sandbox()
      const config = await load(box, {env: {SYNAPSE_MAX_SESSIONS: '3'}})
      expect(config.settings.session.maxSessions).to.equal(3)
      expect(DEFAULT_SETTINGS.session.maxSessions).to.equal(100)
    })

    it('puts the user dir under an absolute XDG_CONFIG_HOME, else under HOME', () => {
      expect(userConfigDir({HOME: '/h', XDG_CONFIG_HOME: '/x'})).to.equal(path.join('/x', 'synapse'))
      expect(userConfigDir({HOME: '/h'})).to.equal(path.join('/h', '.config', 'synapse'))
      expect(userConfigDir({HOME: '/h', XDG_CONFIG_HOME: 'relative/dir'})).to.equal(path.join('/h', '.config', 'synapse'))
      expect(userConfigDir({HOME: '/h', XDG_CONFIG_HOME: ''})).to.equal(path.join('/h', '.config', 'synapse'))
    })
  })

  describe('user file', () => {
    it('reads every section from config.toml', async () => {
      const box = sandbox()
      const file = box.write(
        'xdg/synapse/config.toml',
        [
          '[session]',
          'max_sessions = 7',
          'retention_days = 1.5',
          'auto_cleanup = false',
          'max_context_messages = 20',
          'max_context_tokens = 4000',
          '[storage]',
          'url = "sqlite:///tmp/s.db"',
          '[provider]',
          'default = "ollama"',
          'model = "llama3"',
          '[providers.ollama]',
          'base_url = "http://127.0.0.1:11434/v1"',
          'timeout = 30',
          'stream = true',
        ].join('\n'),
      )
      const config = await load(box)
      expect(config.settings).to.deep.equal({
        models: {},
        provider: {default: 'ollama', model: 'llama3'},
        providers: {ollama: {base_url: 'http://127.0.0.1:11434/v1', stream: true, timeout: 30}},
        session: {autoCleanup: false, contextStrategy: 'truncate', maxContextMessages: 20, maxContextTokens: 4000, maxSessions: 7, retentionDays: 1.5},
        storage: {busyTimeoutMs: 5000, url: 'sqlite:///tmp/s.db'},
      })
      expect(config.files).to.deep.equal([{kind: 'user', path: file}])
      expect(entry(config.entries(), 'session.retention_days')).to.deep.equal({key: 'session.retention_days', source: {file, kind: 'user'}, value: 1.5})
    })

    it('reads config.json, config.yaml and config.yml', async () => {
      for (const [name, content] of [
        ['config.json', '{"session": {"max_sessions": 11}, "provider": {"model": "from-json"}}'],
        ['config.yaml', 'session:\n  max_sessions: 12\nprovider:\n  model: from-yaml\n'],
        ['config.yml', 'session:\n  max_sessions: 13\nprovider:\n  model: from-yml\n'],
      ]) {
        const box = sandbox()
        const file = box.write(`xdg/synapse/${name}`, content)
        const config = await load(box)
        expect(config.files, name).to.deep.equal([{kind: 'user', path: file}])
        expect(config.settings.session.maxSessions, name).to.equal({'config.json': 11, 'config.yaml': 12, 'config.yml': 13}[name])
        expect(config.settings.provider.model, name).to.equal(`from-${path.extname(name).slice(1)}`)
      }
    })

    it('prefers config.toml when several user files exist', async () => {
      const box = sandbox()
      const toml = box.write('xdg/synapse/config.toml', '[session]\nmax_sessions = 1\n')
      box.write('xdg/synapse/config.json', '{"session": {"max_sessions": 2}}')
      const config = await load(box)
      expect(config.files).to.deep.equal([{kind: 'user', path: toml}])
      expect(config.settings.session.maxSessions).to.equal(1)
    })

    it('uses HOME/.config/synapse without XDG_CONFIG_HOME and shows it with ~ in errors', async () => {
      const box = sandbox()
      box.write('home/.config/synapse/config.toml', '[session]\nmax_sessions = -3\n')
      const error = await loadError(box, {env: {XDG_CONFIG_HOME: undefined}})
      expect(error.message).to.equal(`~${path.sep}.config${path.sep}synapse${path.sep}config.toml: session.max_sessions must be a whole number ≥ 0, not -3.`)
      expect(error.exitCode).to.equal(1)
      expect(error.code).to.equal('CONFIG_INVALID')
    })

    it('treats an empty file as setting nothing', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '')
      const config = await load(box)
      expect(config.settings).to.deep.equal(DEFAULTS)
      expect(config.files).to.deep.equal([{kind: 'user', path: file}])
    })
  })

  describe('project file', () => {
    const cases: Array<[string, string]> = [
      ['.synapserc', '{"session": {"max_sessions": 21}}'],
      ['.synapserc', 'session:\n  max_sessions: 21\n'],
      ['.synapserc.json', '{"session": {"max_sessions": 21}}'],
      ['.synapserc.yaml', 'session:\n  max_sessions: 21\n'],
      ['.synapserc.toml', '[session]\nmax_sessions = 21\n'],
      ['synapse.config.mjs', 'export default {session: {max_sessions: 21}}\n'],
      ['synapse.config.toml', '[session]\nmax_sessions = 21\n'],
    ]
    for (const [name, content] of cases) {
      it(`reads ${name} (${content.startsWith('{') ? 'JSON' : content.startsWith('[') ? 'TOML' : content.startsWith('export') ? 'ES module' : 'YAML'})`, async () => {
        const box = sandbox()
        const file = box.write(`project/${name}`, content)
        await trust(box)
        const config = await load(box)
        expect(config.settings.session.maxSessions).to.equal(21)
        expect(config.files).to.deep.equal([{kind: 'project', path: file, trust: 'trusted'}])
        expect(entry(config.entries(), 'session.max_sessions').source).to.deep.equal({file, kind: 'project'})
      })
    }

    it('reads the synapse key of package.json', async () => {
      const box = sandbox()
      const file = box.write('project/package.json', JSON.stringify({name: 'fixture', synapse: {provider: {model: 'pkg-model'}}}))
      const config = await load(box)
      expect(config.settings.provider.model).to.equal('pkg-model')
      expect(config.files).to.deep.equal([{kind: 'project', path: file, trust: 'untrusted'}])
    })

    it('finds a project file in a parent directory from a subdirectory', async () => {
      const box = sandbox()
      const file = box.write('project/.synapserc.json', '{"provider": {"default": "parent"}}')
      const cwd = path.join(box.project, 'src', 'deep')
      fs.mkdirSync(cwd, {recursive: true})
      const config = await load(box, {cwd})
      expect(config.settings.provider.default).to.equal('parent')
      expect(config.files).to.deep.equal([{kind: 'project', path: file, trust: 'untrusted'}])
    })

    it('takes the nearest project file', async () => {
      const box = sandbox()
      box.write('project/.synapserc.json', '{"provider": {"default": "outer"}}')
      const inner = box.write('project/sub/.synapserc.json', '{"provider": {"default": "inner"}}')
      const config = await load(box, {cwd: path.join(box.project, 'sub')})
      expect(config.settings.provider.default).to.equal('inner')
      expect(config.files).to.deep.equal([{kind: 'project', path: inner, trust: 'untrusted'}])
    })

    it('stops at the project root', async () => {
      const box = sandbox()
      box.write('.synapserc.json', '{"provider": {"default": "above-the-project"}}')
      const config = await load(box)
      expect(config.settings.provider.default).to.equal('openai')
      expect(config.files).to.deep.equal([])
    })

    it('stops before HOME and never reads the user dir as a project', async () => {
      const box = sandbox()
      box.write('home/.synapserc.json', '{"provider": {"default": "home-rc"}}')
      const userFile = box.write('home/.config/synapse/config.toml', '[provider]\nmodel = "user"\n')
      box.write('home/.config/synapse/.synapserc.json', '{"provider": {"default": "user-dir-rc"}}')
      const work = path.join(box.home, 'work', 'sub')
      fs.mkdirSync(work, {recursive: true})

      const fromWork = await load(box, {cwd: work, env: {XDG_CONFIG_HOME: undefined}})
      expect(fromWork.settings.provider.default).to.equal('openai')
      expect(fromWork.files).to.deep.equal([{kind: 'user', path: userFile}])

      const fromUserDir = await load(box, {cwd: path.join(box.home, '.config', 'synapse'), env: {XDG_CONFIG_HOME: undefined}})
      expect(fromUserDir.settings.provider).to.deep.equal({default: 'openai', model: 'user'})
      expect(fromUserDir.files).to.deep.equal([{kind: 'user', path: userFile}])
    })
  })

  describe('precedence', () => {
    it('ranks flags > environment > project > user > defaults, and entries() says where each value came from', async () => {
      const box = sandbox()
      let config = await load(box)
      expect(config.settings.session.maxSessions).to.equal(100)
      expect(entry(config.entries(), 'session.max_sessions')).to.deep.equal({key: 'session.max_sessions', source: {kind: 'default'}, value: 100})

      const userFile = box.write('xdg/synapse/config.toml', '[session]\nmax_sessions = 10\n')
      config = await load(box)
      expect(entry(config.entries(), 'session.max_sessions')).to.deep.equal({key: 'session.max_sessions', source: {file: userFile, kind: 'user'}, value: 10})

      const projectFile = box.write('project/.synapserc.toml', '[session]\nmax_sessions = 20\n')
      await trust(box)
      config = await load(box)
      expect(config.files).to.deep.equal([
        {kind: 'user', path: userFile},
        {kind: 'project', path: projectFile, trust: 'trusted'},
      ])
      expect(entry(config.entries(), 'session.max_sessions')).to.deep.equal({
        key: 'session.max_sessions',
        source: {file: projectFile, kind: 'project'},
        value: 20,
      })

      config = await load(box, {env: {SYNAPSE_MAX_SESSIONS: '30'}})
      expect(entry(config.entries(), 'session.max_sessions')).to.deep.equal({
        key: 'session.max_sessions',
        source: {kind: 'env', variable: 'SYNAPSE_MAX_SESSIONS'},
        value: 30,
      })
    })

    it('merges key by key: a higher source replaces only the keys it sets', async () => {
      const box = sandbox()
      box.write('xdg/synapse/config.toml', '[session]\nmax_sessions = 10\nretention_days = 7\n')
      box.write('project/.synapserc.json', '{"session": {"retention_days": 3}}')
      await trust(box)
      const config = await load(box)
      expect(config.settings.session).to.deep.equal({...DEFAULTS.session, maxSessions: 10, retentionDays: 3})
    })

    it('parses every environment variable and ignores empty ones', async () => {
      const box = sandbox()
      box.write('xdg/synapse/config.toml', '[provider]\nmodel = "from-file"\n')
      const config = await load(box, {
        env: {
          DATABASE_URL: 'sqlite:///data/s.db',
          OPENAI_BASE_URL: 'http://localhost:8080/v1',
          SYNAPSE_AUTO_CLEANUP: 'off',
          SYNAPSE_BUSY_TIMEOUT_MS: '250',
          SYNAPSE_MAX_CONTEXT_MESSAGES: '12',
          SYNAPSE_MAX_CONTEXT_TOKENS: '3000',
          SYNAPSE_MAX_SESSIONS: '0',
          SYNAPSE_MODEL: '',
          SYNAPSE_PROVIDER: 'anthropic',
          SYNAPSE_RETENTION_DAYS: '0.5',
        },
      })
      expect(config.settings).to.deep.equal({
        models: {},
        provider: {default: 'anthropic', model: 'from-file'},
        providers: {openai: {base_url: 'http://localhost:8080/v1'}},
        session: {autoCleanup: false, contextStrategy: 'truncate', maxContextMessages: 12, maxContextTokens: 3000, maxSessions: 0, retentionDays: 0.5},
        storage: {busyTimeoutMs: 250, url: 'sqlite:///data/s.db'},
      })
      expect(entry(config.entries(), 'providers.openai.base_url').source).to.deep.equal({kind: 'env', variable: 'OPENAI_BASE_URL'})
    })

    it('accepts the boolean words for SYNAPSE_AUTO_CLEANUP', async () => {
      const box = sandbox()
      for (const [word, expected] of [
        ['true', true],
        ['1', true],
        ['YES', true],
        ['on', true],
        ['false', false],
        ['0', false],
        ['no', false],
        ['Off', false],
      ] as const) {
        const config = await load(box, {env: {SYNAPSE_AUTO_CLEANUP: word}})
        expect(config.settings.session.autoCleanup, word).to.equal(expected)
      }
    })
  })

  describe('errors', () => {
    it('rejects a negative number, naming the file and the key', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[session]\nretention_days = -1\n')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: session.retention_days must be a number ≥ 0, not -1.`)
      expect(error.suggestions).to.deep.equal(['Use a number ≥ 0, or remove it to use the default (90).'])
    })

    it('rejects a fraction where a whole number is needed', async () => {
      const box = sandbox()
      const file = box.write('project/.synapserc.json', '{"session": {"max_context_messages": 2.5}}')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: session.max_context_messages must be a whole number ≥ 0, not 2.5.`)
    })

    it('rejects a wrong type', async () => {
      const box = sandbox()
      const file = box.write('project/.synapserc.yaml', 'session:\n  max_sessions: "5"\n')
      expect((await loadError(box)).message).to.equal(`${file}: session.max_sessions must be a whole number ≥ 0, not "5".`)

      const box2 = sandbox()
      const file2 = box2.write('xdg/synapse/config.toml', '[session]\nauto_cleanup = "yes"\n')
      expect((await loadError(box2)).message).to.equal(`${file2}: session.auto_cleanup must be true or false, not "yes".`)

      const box3 = sandbox()
      const file3 = box3.write('xdg/synapse/config.toml', 'session = 5\n')
      expect((await loadError(box3)).message).to.equal(`${file3}: session must be a table of settings, not 5.`)
    })

    it('rejects an unknown key with a "did you mean" when one is close', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[session]\nmax_sesions = 5\n')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: unknown key session.max_sesions.`)
      expect(error.suggestions).to.deep.equal(['Did you mean session.max_sessions?'])
    })

    it('rejects an unknown key, listing the keys of its section when none is close', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[session]\ncolour = "blue"\n')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: unknown key session.colour.`)
      expect(error.suggestions).to.deep.equal([
        'The keys of session are: max_sessions, retention_days, auto_cleanup, max_context_messages, max_context_tokens, context_strategy.',
      ])
    })

    it('rejects an unknown section', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[telemetry]\nenabled = true\n')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: unknown section telemetry.`)
      expect(error.suggestions).to.deep.equal(['The sections are: session, storage, provider, providers, models.'])

      const box2 = sandbox()
      const file2 = box2.write('xdg/synapse/config.toml', '[sesion]\nmax_sessions = 1\n')
      const error2 = await loadError(box2)
      expect(error2.message).to.equal(`${file2}: unknown section sesion.`)
      expect(error2.suggestions).to.deep.equal(['Did you mean session?'])
    })

    it('points a key written outside its section to the right section', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', 'model = "gpt-4o"\n')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: unknown key model.`)
      expect(error.suggestions).to.deep.equal(['Did you mean provider.model? Put model inside the provider section.'])
    })

    it('names keys inside package.json with their synapse prefix', async () => {
      const box = sandbox()
      const file = box.write('project/package.json', JSON.stringify({name: 'fixture', synapse: {session: {max_sessions: -1}}}))
      expect((await loadError(box)).message).to.equal(`${file}: synapse.session.max_sessions must be a whole number ≥ 0, not -1.`)
    })

    it('reports a TOML syntax error with the file and line', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[session]\nmax_sessions = = 3\n')
      const error = await loadError(box)
      expect(error.message).to.equal(`${file}: TOML syntax error at line 2, column 16: invalid value.`)
      expect(error.message).to.not.include('\n')
    })

    it('reports a TOML syntax error in a project file', async () => {
      const box = sandbox()
      const file = box.write('project/.synapserc.toml', '[session\n')
      const error = await loadError(box)
      expect(error.message).to.match(new RegExp(`^${escapeRegExp(file)}: TOML syntax error at line 1, column \\d+: .+\\.$`))
    })

    it('reports YAML and JSON syntax errors on one line with the file', async () => {
      const box = sandbox()
      const file = box.write('project/.synapserc.yaml', 'session:\n  max_sessions: 1\n bad: [\n')
      const error = await loadError(box)
      expect(error.message).to.match(new RegExp(`^${escapeRegExp(file)}: YAML syntax error at line \\d+, column \\d+: .+\\.$`))
      expect(error.message).to.not.include('\n')

      const box2 = sandbox()
      const file2 = box2.write('xdg/synapse/config.json', '{"session": {"max_sessions": 1,}}')
      const error2 = await loadError(box2)
      expect(error2.message).to.match(new RegExp(`^${escapeRegExp(file2)}: JSON syntax error: .+\\.$`))
      expect(error2.message).to.not.include('\n')
    })

    it('reports a JS config that fails to load on one line with the file', async () => {
      const box = sandbox()
      const file = box.write('project/synapse.config.mjs', 'export default {session: {max_sessions: 1}\n')
      await trust(box)
      const error = await loadError(box)
      expect(error.message).to.match(new RegExp(`^${escapeRegExp(file)}: could not be loaded: .+\\.$`))
      expect(error.message).to.not.include('\n')
    })

    it('rejects a bad environment variable, naming the variable and the key', async () => {
      const box = sandbox()
      const error = await loadError(box, {env: {SYNAPSE_MAX_SESSIONS: '-3'}})
      expect(error.message).to.equal('Environment variable SYNAPSE_MAX_SESSIONS (session.max_sessions) must be a whole number ≥ 0, not "-3".')
      expect(error.suggestions).to.deep.equal(['Set SYNAPSE_MAX_SESSIONS to a whole number ≥ 0, or unset it to use the default (100).'])

      const error2 = await loadError(box, {env: {SYNAPSE_AUTO_CLEANUP: 'maybe'}})
      expect(error2.message).to.equal('Environment variable SYNAPSE_AUTO_CLEANUP (session.auto_cleanup) must be true or false, not "maybe".')

      const error3 = await loadError(box, {env: {SYNAPSE_RETENTION_DAYS: '1e3'}})
      expect(error3.message).to.equal('Environment variable SYNAPSE_RETENTION_DAYS (session.retention_days) must be a number ≥ 0, not "1e3".')
    })

    it('rejects provider options that are not strings, numbers or booleans', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[providers.ollama]\nheaders = ["a"]\n')
      expect((await loadError(box)).message).to.equal(`${file}: providers.ollama.headers must be a string, number or boolean, not a list.`)

      const box2 = sandbox()
      const file2 = box2.write('xdg/synapse/config.toml', '[providers]\nopenai = "sk-1"\n')
      expect((await loadError(box2)).message).to.equal(`${file2}: providers.openai must be a table of options for the openai provider, not "sk-1".`)

      const box3 = sandbox()
      const file3 = box3.write('xdg/synapse/config.toml', '[providers.openai]\nbase_url = 8080\n')
      expect((await loadError(box3)).message).to.equal(`${file3}: providers.openai.base_url must be an http:// or https:// URL, not 8080.`)
    })
  })

  describe('model tables', () => {
    it('reads [models."<name>"] tables into settings without prototypes, and lists them in entries', async () => {
      const box = sandbox()
      const file = box.write(
        'xdg/synapse/config.toml',
        '[models."gpt-4.1"]\ninput_price = 1.5\ncontext_window = 500000\n\n[models.local-model]\noutput_price = 0\n',
      )
      const config = await load(box)
      expect(config.settings.models).to.deep.equal({'gpt-4.1': {context_window: 500_000, input_price: 1.5}, 'local-model': {output_price: 0}})
      expect(Object.getPrototypeOf(config.settings.models)).to.equal(null)
      expect(Object.getPrototypeOf(config.settings.models['gpt-4.1'])).to.equal(null)
      expect(config.entries().filter(e => e.key.startsWith('models.'))).to.deep.equal([
        {key: 'models."gpt-4.1".context_window', source: {file, kind: 'user'}, value: 500_000},
        {key: 'models."gpt-4.1".input_price', source: {file, kind: 'user'}, value: 1.5},
        {key: 'models.local-model.output_price', source: {file, kind: 'user'}, value: 0},
      ])
    })

    it('a project file the user trusts overrides the user file key by key', async () => {
      const box = sandbox()
      box.write('xdg/synapse/config.toml', '[models.m]\ninput_price = 1\noutput_price = 2\n')
      box.write('project/.synapserc.toml', '[models.m]\noutput_price = 3\n')
      await trust(box)
      expect((await load(box)).settings.models.m).to.deep.equal({input_price: 1, output_price: 3})
    })

    it('checks types and ranges, naming the file and the key', async () => {
      const cases: Array<[string, string, string]> = [
        [
          '[models."gpt-4o"]\ncontext_window = 0\n',
          'models.gpt-4o.context_window must be a whole number ≥ 1, not 0.',
          'Use a whole number ≥ 1 (Tokens the model takes in one request, prompt and reply together), or remove it to use the shipped data.',
        ],
        [
          '[models."gpt-4o"]\ncontext_window = 1.5\n',
          'models.gpt-4o.context_window must be a whole number ≥ 1, not 1.5.',
          'Use a whole number ≥ 1 (Tokens the model takes in one request, prompt and reply together), or remove it to use the shipped data.',
        ],
        [
          '[models."gpt-4o"]\noutput_price = "2.50"\n',
          'models.gpt-4o.output_price must be a number ≥ 0, not "2.50".',
          'Use a number ≥ 0 (USD per million output tokens), or remove it to use the shipped data.',
        ],
        [
          '[models."gpt-4o"]\ncached_input_price = inf\n',
          'models.gpt-4o.cached_input_price must be a number ≥ 0, not Infinity.',
          "Use a number ≥ 0 (USD per million cached input tokens (read from the provider's prompt cache)), or remove it to use the shipped data.",
        ],
      ]
      for (const [toml, message, suggestion] of cases) {
        const box = sandbox()
        const file = box.write('xdg/synapse/config.toml', toml)
        const error = await loadError(box)
        expect({message: error.message, suggestions: error.suggestions}).to.deep.equal({message: `${file}: ${message}`, suggestions: [suggestion]})
      }
    })

    it('refuses an unknown option with the closest one, a table that is not one, and a name that is no model id', async () => {
      const box = sandbox()
      const file = box.write('xdg/synapse/config.toml', '[models."gpt-4o"]\ninput_prize = 2\n')
      const error = await loadError(box)
      expect({message: error.message, suggestions: error.suggestions}).to.deep.equal({
        message: `${file}: unknown key models.gpt-4o.input_prize.`,
        suggestions: ['Did you mean models.gpt-4o.input_price?'],
      })

      const box2 = sandbox()
      const file2 = box2.write('xdg/synapse/config.toml', '[models."gpt-4o"]\ncolour = 2\n')
      const error2 = await loadError(box2)
      expect({message: error2.message, suggestions: error2.suggestions}).to.deep.equal({
        message: `${file2}: unknown key models.gpt-4o.colour.`,
        suggestions: ['A model table may set: context_window, input_price, output_price, cached_input_price.'],
      })

      const box3 = sandbox()
      const file3 = box3.write('xdg/synapse/config.toml', 'models = 3\n')
      expect((await loadError(box3)).message).to.equal(`${file3}: models must be a table of settings, one table per model such as models."gpt-4o", not 3.`)

      const box4 = sandbox()
      const file4 = box4.write('xdg/synapse/config.toml', '[models]\n"gpt-4o" = 2.5\n')
      expect((await loadError(box4)).message).to.equal(`${file4}: models.gpt-4o must be a table of facts about the gpt-4o model, not 2.5.`)

      const box5 = sandbox()
      const file5 = box5.write('xdg/synapse/config.toml', '[models."two words"]\ninput_price = 1\n')
      expect((await loadError(box5)).message).to.equal(`${file5}: models."two words" is not a model name.`)
    })
  })

  describe('providers and secrets', () => {
    it('keeps one table per provider, merged option by option across sources', async () => {
      const box = sandbox()
      const userFile = box.write(
        'xdg/synapse/config.toml',
        '[providers.openai]\nbase_url = "https://api.example.com/v1"\napi_key = "sk-user"\n\n[providers.ollama]\nbase_url = "http://127.0.0.1:11434/v1"\n',
      )
      const projectFile = box.write('project/.synapserc.json', '{"providers": {"ollama": {"keep_alive": 300, "num_ctx": 8192}}}')
      await trust(box)
      const config = await load(box, {env: {OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1'}})
      expect(config.settings.providers).to.deep.equal({
        ollama: {base_url: 'http://127.0.0.1:11434/v1', keep_alive: 300, num_ctx: 8192},
        openai: {api_key: 'sk-user', base_url: 'http://127.0.0.1:8080/v1'},
      })
      expect(config.entries().filter(e => e.key.startsWith('providers.'))).to.deep.equal([
        {key: 'providers.ollama.base_url', source: {file: userFile, kind: 'user'}, value: 'http://127.0.0.1:11434/v1'},
        {key: 'providers.ollama.keep_alive', source: {file: projectFile, kind: 'project'}, value: 300},
        {key: 'providers.ollama.num_ctx', source: {file: projectFile, kind: 'project'}, value: 8192},
        {key: 'providers.openai.api_key', source: {file: userFile, kind: 'user'}, value: '********'},
        {key: 'providers.openai.base_url', source: {kind: 'env', variable: 'OPENAI_BASE_URL'}, value: 'http://127.0.0.1:8080/v1'},
      ])
    })

    it('masks secrets in entries() but not in settings', async () => {
      const box = sandbox()
      box.write(
        'xdg/synapse/config.toml',
        ['[providers.anthropic]', 'api_key = "sk-ant"', 'auth_token = "tok"', 'client_secret = "shh"', 'session_key = "k"', 'max_tokens = 1024'].join('\n'),
      )
      const config = await load(box, {env: {DATABASE_URL: 'postgres://synapse:hunter2@db.example.com:5432/synapse', SYNAPSE_MAX_CONTEXT_TOKENS: '500'}})
      expect(config.settings.providers.anthropic).to.deep.equal({
        api_key: 'sk-ant',
        auth_token: 'tok',
        client_secret: 'shh',
        max_tokens: 1024,
        session_key: 'k',
      })
      expect(config.settings.storage.url).to.equal('postgres://synapse:hunter2@db.example.com:5432/synapse')
      const values = Object.fromEntries(config.entries().map(e => [e.key, e.value]))
      expect(values['providers.anthropic.api_key']).to.equal('********')
      expect(values['providers.anthropic.auth_token']).to.equal('********')
      expect(values['providers.anthropic.client_secret']).to.equal('********')
      expect(values['providers.anthropic.session_key']).to.equal('********')
      expect(values['providers.anthropic.max_tokens']).to.equal(1024)
      expect(values['session.max_context_tokens']).to.equal(500)
      expect(values['storage.url']).to.equal('postgres://synapse:********@db.example.com:5432/synapse')
      expect(JSON.stringify(config.entries())).to.not.match(/sk-ant|tok"|shh|hunter2/)
    })
  })
})

function escapeRegExp(text: string): string {
  return text.replaceAll(/[$()*+.?[\\\]^{|}]/g, String.raw`\$&`)
}
