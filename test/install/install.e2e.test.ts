import {expect} from 'chai'
import {type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync} from 'node:child_process'
import {cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, delimiter, dirname, join} from 'node:path'

import {dropSchemas, uniqueSchema, urlOf} from '../../plugins/storage-postgres/test/helpers.js'
import {Prefixes} from '../../plugins/storage-redis/test/helpers.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {DENO, type Exit} from '../helpers/spawn.js'

const ECHO = join(PROJECT_ROOT, 'examples', 'synapse-plugin-echo')
const CORE_PLUGINS = ['@synapse-cli/provider-anthropic', '@synapse-cli/storage-filesystem', '@synapse-cli/storage-postgres', '@synapse-cli/storage-redis']
/**
 * Nothing the installed synapse runs loads these from node_modules, so synapse-cli does not depend on
 * them: scripts/build.mjs bundles them into dist/ (openai alone was 35 MB installed, gpt-tokenizer 30 MB),
 * and @pydantic/genai-prices is the price data scripts/model-data.mjs turns into a file of the build.
 */
const NOT_INSTALLED = [
  '@oclif/plugin-help',
  '@pydantic/genai-prices',
  'cosmiconfig',
  'get-east-asian-width',
  'gpt-tokenizer',
  'openai',
  'reflect-metadata',
  'smol-toml',
  'typeorm',
]

/** Every symbolic link under `dir` whose target does not exist. */
function danglingLinks(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    const path = join(entry.parentPath, entry.name)
    if (!lstatSync(path).isSymbolicLink()) continue
    try {
      statSync(path)
    } catch {
      found.push(path)
    }
  }

  return found
}

/** The name of every package installed under `dir`, in any node_modules, nested ones included. */
function installedPackages(dir: string): Set<string> {
  const names = new Set<string>()
  for (const entry of readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (entry.name !== 'package.json' || !entry.isFile()) continue
    const packageDir = entry.parentPath
    const parent = dirname(packageDir)
    if (basename(parent) === 'node_modules') names.add(basename(packageDir))
    else if (basename(parent).startsWith('@') && basename(dirname(parent)) === 'node_modules') names.add(`${basename(parent)}/${basename(packageDir)}`)
  }

  return names
}

type Runtime = 'deno' | 'node'

/** What a child printed and how it ended, once it has. */
function exitOf(child: ChildProcessWithoutNullStreams): Promise<Exit> {
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise(resolve => child.on('close', (code, signal) => resolve({code, signal, stderr, stdout})))
}

/** The first complete JSON value the child prints on stdout (a long-running command's `--json`). */
function untilJson(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    const onData = (chunk: string) => {
      stdout += chunk
      try {
        JSON.parse(stdout)
      } catch {
        return
      }
      child.stdout.off('data', onData)
      resolve(stdout)
    }
    child.stdout.on('data', onData)
    child.on('close', code => reject(new Error(`exited (${code}) before printing its JSON; stdout: ${stdout}`)))
  })
}

/** The dependency specs of a package.json that name a path instead of a version. */
function pathSpecs(manifest: Record<string, Record<string, string> | undefined>): string[] {
  return ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'].flatMap(field =>
    Object.entries(manifest[field] ?? {})
      .filter(([, spec]) => /^(file|link|workspace):/.test(spec))
      .map(([name, spec]) => `${field}.${name}: ${spec}`),
  )
}

function packedManifest(tarball: string, path = 'package/package.json'): Record<string, Record<string, string> | undefined> {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, path], {encoding: 'utf8', maxBuffer: 16 * 1024 * 1024}))
}

/** Every command id of the installed synapse at `root`: its own and its core plugins', from their manifests. */
function installedCommandIds(root: string): string[] {
  const plugins: string[] = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).oclif.plugins
  return [root, ...plugins.map(plugin => join(root, 'node_modules', plugin))]
    .map(dir => join(dir, 'oclif.manifest.json'))
    .filter(manifest => existsSync(manifest))
    .flatMap(manifest => Object.keys(JSON.parse(readFileSync(manifest, 'utf8')).commands))
    .sort()
}

interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Exit> {
  const child = spawn(command, args, {cwd, env})
  const exit = exitOf(child)
  child.stdin.end()
  return exit
}

/**
 * synapse as a user gets it from the registry: the project packed as it would be published (every
 * workspace and the root in one `npm pack`), the synapse-cli tarball alone installed with
 * `npm install -g` into a temporary prefix (the core plugins travel inside it), and the installed
 * `synapse` run from there, far from this checkout's node_modules. Then the same installed files
 * under Deno. Needs the npm cache to hold the dependencies (it does after `npm ci`).
 */
describe('synapse installed from its packed tarballs (end to end)', function () {
  this.timeout(600_000)
  let work: string
  let prefix: string
  let packages: string
  let synapseTarball: string
  let echoTarball: string
  let installStderr: string
  let sandbox: Sandbox
  let server: FakeOpenAIServer
  let env: NodeJS.ProcessEnv

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'synapse-install-'))
    packages = join(work, 'packages')
    prefix = join(work, 'prefix')
    mkdirSync(packages)
    // The build is `npm test`'s first step; packing must not rebuild dist/ under the running tests.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--workspaces', '--include-workspace-root', '--ignore-scripts', '--json', '--pack-destination', packages], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as Array<{filename: string; name: string}>
    expect(packed.map(p => p.name).sort()).to.deep.equal([...CORE_PLUGINS, 'synapse-cli'].sort())
    synapseTarball = join(packages, packed.find(p => p.name === 'synapse-cli')!.filename)
    echoTarball = join(
      packages,
      execFileSync('npm', ['pack', '--silent', '--pack-destination', packages], {cwd: ECHO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim(),
    )
    // npm's default log level, so that its warnings (a peer dependency it had to override) reach stderr.
    const install = spawnSync(
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn', synapseTarball],
      {
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    expect(install.status, install.stderr).to.equal(0)
    installStderr = install.stderr
  })
  after(() => rmSync(work, {force: true, recursive: true}))

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
    sandbox = makeSandbox({OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url})
    // The installed bin's `#!/usr/bin/env node` finds this Node (the `node` devDependency under `npm test`).
    env = {...sandbox.env, PATH: [join(prefix, 'bin'), dirname(process.execPath), dirname(DENO), process.env.PATH].join(delimiter)}
  })
  afterEach(async () => {
    await server.close()
    sandbox.cleanup()
  })

  const installedRoot = () => join(prefix, 'lib', 'node_modules', 'synapse-cli')
  /**
   * The installed synapse's command line: its bin under Node; under Deno its run.js, with
   * --node-modules-dir=manual so that Deno resolves imports through the installed node_modules as
   * Node does (without it, Deno refuses the bundled plugins' import of "synapse-cli": "not a dependency").
   */
  const commandLine = (runtime: Runtime, args: string[]): [string, string[]] =>
    runtime === 'node'
      ? [join(prefix, 'bin', 'synapse'), args]
      : [DENO, ['run', '-A', '--node-modules-dir=manual', join(installedRoot(), 'bin', 'run.js'), ...args]]
  const runtimeEnv = (runtime: Runtime, extra: NodeJS.ProcessEnv = {}) => ({
    ...env,
    ...(runtime === 'deno' ? {DENO_DIR: join(work, 'deno-dir')} : {}),
    ...extra,
  })
  const installed =
    (runtime: Runtime) =>
    async (args: string[], options: RunOptions = {}): Promise<Exit> =>
      run(...commandLine(runtime, args), runtimeEnv(runtime, options.env), options.cwd)
  const synapse = async (args: string[], extra: NodeJS.ProcessEnv = {}) => installed('node')(args, {env: extra})

  /** `plugins install` of a plugin tarball: @oclif/plugin-plugins, on its @oclif/core from node_modules, running npm. */
  async function installsTheExamplePlugin(runtime: Runtime): Promise<void> {
    const synapseOn = installed(runtime)
    const install = await synapseOn(['plugins', 'install', `file:${echoTarball}`])
    // oclif's progress line is all: no warning, no error.
    expect({code: install.code, stderr: install.stderr}).to.deep.equal({
      code: 0,
      stderr: `synapse-cli: Installing plugin file:${echoTarball}... installed v1.0.0\n`,
    })
    expect(await synapseOn(['plugins'])).to.deep.equal({code: 0, signal: null, stderr: '', stdout: 'synapse-plugin-echo 1.0.0\n'})
    expect(await synapseOn(['-p', 'echo', 'echoed from an installed synapse'])).to.deep.equal({
      code: 0,
      signal: null,
      stderr: '',
      stdout: 'echoed from an installed synapse\n',
    })
  }

  /** Every command's `--help`, and `help` itself: @oclif/plugin-help's command, which dist/ bundles. */
  async function answersEveryHelp(runtime: Runtime): Promise<void> {
    const synapseOn = installed(runtime)
    const ids = installedCommandIds(installedRoot())
    // Read from the manifests; these say the list is the whole CLI, the core plugins' commands included.
    expect(ids).to.include.members(['autocomplete', 'chat', 'db:status', 'help', 'plugins:install', 'sessions:list', 'ui'])
    const failed: Array<Exit & {id: string}> = []
    // `help --help` is the root's help; `help` itself is asked below.
    for (const id of ids.filter(id => id !== 'help')) {
      const words = id.split(':')
      const help = await synapseOn([...words, '--help'])
      if (help.code !== 0 || help.stderr !== '' || !help.stdout.includes(`USAGE\n  $ synapse ${words.join(' ')}`)) failed.push({id, ...help})
    }
    expect(failed).to.deep.equal([])
    const viaHelp = await synapseOn(['help', 'sessions', 'list'])
    expect({code: viaHelp.code, stderr: viaHelp.stderr, usage: viaHelp.stdout.includes('USAGE\n  $ synapse sessions list')}).to.deep.equal({
      code: 0,
      stderr: '',
      usage: true,
    })
  }

  /**
   * What runs the code of the packages dist/ bundles, each at least once: config files in TOML
   * (smol-toml) and YAML (cosmiconfig's loader), a chat over the OpenAI SDK whose reply the server did
   * not count (gpt-tokenizer counts it), priced from the shipped price data (@pydantic/genai-prices),
   * a search hit's snippet measured in terminal columns (get-east-asian-width); then the database
   * commands (TypeORM), autocomplete (a core plugin, on the @oclif/core it imports from node_modules)
   * and `synapse ui`.
   */
  async function runsWhatTheBundleHolds(runtime: Runtime): Promise<void> {
    const synapseOn = installed(runtime)
    mkdirSync(sandbox.configDir, {recursive: true})
    const userFile = join(sandbox.configDir, 'config.toml')
    writeFileSync(userFile, '[session]\nmax_sessions = 50\n')
    const project = join(sandbox.root, 'project')
    // .git: the project root, where the search for a project file stops.
    mkdirSync(join(project, '.git'), {recursive: true})
    const projectFile = join(project, '.synapserc.yaml')
    writeFileSync(projectFile, 'provider:\n  model: gpt-4.1-mini\n')
    const shown = await synapseOn(['config', 'show', '--json'], {cwd: project})
    expect({code: shown.code, stderr: shown.stderr}).to.deep.equal({code: 0, stderr: ''})
    const settings = JSON.parse(shown.stdout) as Array<{key: string}>
    expect(settings.filter(setting => ['provider.model', 'session.max_sessions'].includes(setting.key))).to.deep.equal([
      {key: 'session.max_sessions', source: {file: userFile, kind: 'user'}, value: 50},
      {key: 'provider.model', source: {file: projectFile, kind: 'project'}, value: 'gpt-4.1-mini'},
    ])

    const title = '東京の会話 🤖'
    // No usage from the server: synapse counts the tokens itself.
    server.reply(['Bundled', ' and counted.'], {usage: null})
    expect(await synapseOn(['-m', 'gpt-4o-mini', '-t', title, 'Wie viele Tokens hat diese Größe?'])).to.deep.equal({
      code: 0,
      signal: null,
      stderr: '',
      stdout: 'Bundled and counted.\n',
    })
    const [session] = JSON.parse((await synapseOn(['sessions', 'list', '--json'])).stdout) as Array<{id: string}>
    const show = await synapseOn(['sessions', 'show', session.id, '--json'])
    expect({code: show.code, stderr: show.stderr}).to.deep.equal({code: 0, stderr: ''})
    const reply = (JSON.parse(show.stdout) as {messages: Array<{costSource: null | string; role: string; tokenSource: null | string}>}).messages.find(
      message => message.role === 'assistant',
    )!
    expect({costSource: reply.costSource?.split(' ')[0], tokenSource: reply.tokenSource}).to.deep.equal({
      costSource: '@pydantic/genai-prices',
      tokenSource: 'tokenizer',
    })
    const usage = await synapseOn(['usage', '--json'])
    expect({code: usage.code, stderr: usage.stderr}).to.deep.equal({code: 0, stderr: ''})
    const {total} = JSON.parse(usage.stdout) as {total: {costUsd: null | number; estimatedReplies: number; replies: number}}
    expect({estimatedReplies: total.estimatedReplies, priced: total.costUsd! > 0, replies: total.replies}).to.deep.equal({
      estimatedReplies: 1,
      priced: true,
      replies: 1,
    })
    // A hit's snippet is measured in terminal columns, a pipe's too.
    const search = await synapseOn(['sessions', 'search', 'Größe'])
    expect({code: search.code, found: search.stdout.includes('Größe'), stderr: search.stderr}).to.deep.equal({code: 0, found: true, stderr: ''})

    const status = await synapseOn(['db', 'status', '--json'])
    expect({code: status.code, pending: JSON.parse(status.stdout).pending, stderr: status.stderr}).to.deep.equal({code: 0, pending: 0, stderr: ''})
    for (const args of [
      ['db', 'migrate'],
      ['db', 'check'],
      ['db', 'reindex'],
    ]) {
      const done = await synapseOn(args)
      expect({args, code: done.code, stderr: done.stderr}).to.deep.equal({args, code: 0, stderr: ''})
    }
    const backupFile = join(sandbox.root, 'backup.db')
    const backup = await synapseOn(['db', 'backup', backupFile, '--json'])
    expect({code: backup.code, stderr: backup.stderr}).to.deep.equal({code: 0, stderr: ''})
    expect(JSON.parse(backup.stdout)).to.deep.equal({bytes: statSync(backupFile).size, path: backupFile})

    const autocomplete = await synapseOn(['autocomplete', 'bash'])
    // Its progress line is all it says on stderr.
    expect({
      code: autocomplete.code,
      setup: autocomplete.stdout.includes('synapse autocomplete script bash'),
      stderr: autocomplete.stderr,
    }).to.deep.equal({code: 0, setup: true, stderr: 'Building the autocomplete cache... done\n'})

    const ui = spawn(...commandLine(runtime, ['ui', '--no-open', '--json']), {env: runtimeEnv(runtime)})
    const uiExit = exitOf(ui)
    try {
      const address = new URL((JSON.parse(await untilJson(ui)) as {url: string}).url)
      const headers = {cookie: `synapse_ui_${address.port}=${address.searchParams.get('token')}`}
      const listed = await fetch(new URL('/api/sessions', address.origin), {headers})
      expect(listed.status).to.equal(200)
      expect(((await listed.json()) as {sessions: Array<{title: string}>}).sessions.map(item => item.title)).to.deep.equal([title])
      const script = await fetch(new URL('/assets/app.js', address.origin), {headers})
      expect({status: script.status, type: script.headers.get('content-type')}).to.deep.equal({status: 200, type: 'text/javascript; charset=utf-8'})
      await script.arrayBuffer()
    } finally {
      ui.kill('SIGINT')
    }
    const stopped = await uiExit
    expect({code: stopped.code, stderr: stopped.stderr}).to.deep.equal({code: 130, stderr: ''})
  }

  it('packs package.json files that name versions, never file:, link: or workspace: paths', () => {
    const tarballs = readdirSync(packages).filter(name => name.endsWith('.tgz'))
    const manifests = tarballs.map(name => [name, pathSpecs(packedManifest(join(packages, name)))])
    // The core plugins as they travel inside synapse-cli's tarball.
    for (const plugin of CORE_PLUGINS)
      manifests.push([`${plugin} in synapse-cli`, pathSpecs(packedManifest(synapseTarball, `package/node_modules/${plugin}/package.json`))])
    expect(manifests).to.deep.equal(manifests.map(([name]) => [name, []]))
    const root = packedManifest(synapseTarball)
    expect(root.dependencies).to.include(Object.fromEntries(CORE_PLUGINS.map(plugin => [plugin, '0.1.0'])))
  })

  it('installs with no dangling link in the installed tree', () => {
    expect(danglingLinks(prefix)).to.deep.equal([])
    expect(lstatSync(join(prefix, 'bin', 'synapse')).isSymbolicLink()).to.equal(true)
  })

  it('installs without a peer-dependency warning and without the packages dist/ bundles', () => {
    // TypeORM's optional peer is better-sqlite3 12; synapse needs 13. Installed as synapse's
    // dependency, it made npm print twenty lines of "ERESOLVE overriding peer dependency".
    expect(installStderr.split('\n').filter(line => /ERESOLVE|peer/i.test(line))).to.deep.equal([])
    const installed = installedPackages(prefix)
    expect(installed.has('better-sqlite3'), 'the SQLite driver, which dist/ loads from node_modules').to.equal(true)
    // Not in the bundle: the core plugins @oclif/plugin-plugins and @oclif/plugin-autocomplete import it from node_modules.
    expect(installed.has('@oclif/core'), 'the oclif that the core plugins import').to.equal(true)
    expect(NOT_INSTALLED.filter(name => installed.has(name))).to.deep.equal([])
  })

  it('gives a TypeScript plugin the types of synapse-cli and synapse-cli/testing with nothing else installed, and of synapse-cli/typeorm once its author installs TypeORM', () => {
    // A plugin author's project: synapse-cli as npm installs it (without its own node_modules,
    // which a plugin author's npm would hoist), strict TypeScript that checks the declarations too.
    const project = join(work, 'plugin-author')
    const installedSynapse = join(prefix, 'lib', 'node_modules', 'synapse-cli')
    cpSync(installedSynapse, join(project, 'node_modules', 'synapse-cli'), {filter: path => path !== join(installedSynapse, 'node_modules'), recursive: true})
    mkdirSync(join(project, 'node_modules', '@types'))
    symlinkSync(join(PROJECT_ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), 'dir')
    mkdirSync(join(project, 'src'))
    writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'synapse-plugin-author', private: true, type: 'module', version: '1.0.0'}))
    const compilerOptions = {
      lib: ['ES2023'],
      module: 'node16',
      moduleResolution: 'node16',
      noEmit: true,
      skipLibCheck: false,
      strict: true,
      target: 'ES2023',
      types: ['node'],
    }
    for (const entry of ['main', 'testing', 'typeorm'])
      writeFileSync(join(project, `tsconfig.${entry}.json`), JSON.stringify({compilerOptions, files: [`src/${entry}.ts`]}))
    // Type-checked, never run: what a storage plugin's code touches of each entry.
    writeFileSync(
      join(project, 'src', 'main.ts'),
      `import {MemorySessionStore, type StorageBackend, SynapseError} from 'synapse-cli'

export const backend: StorageBackend = {
  description: 'Sessions in memory',
  name: 'scratch',
  async open(url) {
    if (!url.startsWith('scratch:')) throw new SynapseError('INVALID_INPUT', \`Not a scratch URL: \${url}\`)
    return new MemorySessionStore()
  },
  schemes: ['scratch'],
}
`,
    )
    // A plugin's tests: the declarations name no chai, mocha or SDK type (the suites register mocha tests and assert with chai at run time).
    writeFileSync(
      join(project, 'src', 'testing.ts'),
      `import {type FakeOpenAIServer, makeSandbox, providerConformanceSuite, type Sandbox, sessionStoreConformance} from 'synapse-cli/testing'

export const suites: Array<(options: never) => void> = [providerConformanceSuite, sessionStoreConformance]
export const sandbox: () => Sandbox = () => makeSandbox({OPENAI_API_KEY: 'sk-test'})
export type Server = FakeOpenAIServer
`,
    )
    writeFileSync(
      join(project, 'src', 'typeorm.ts'),
      `import {SessionStore} from 'synapse-cli'
import {DataSource, ENTITIES, MIGRATIONS, postgresDialect, type QueryRunner, type Row, type SqlExecutor, SqlStorageAdapter} from 'synapse-cli/typeorm'

class Executor implements SqlExecutor {
  constructor(private readonly dataSource: DataSource, private readonly runner?: QueryRunner) {}
  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (this.runner ?? this.dataSource).query(sql, params)
  }
  async run(sql: string, params: unknown[] = []): Promise<number> {
    const result: {affected?: number} = await (this.runner ?? this.dataSource).query(sql, params)
    return result.affected ?? 0
  }
  async writeTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(manager => work(new Executor(this.dataSource, manager.queryRunner)))
  }
}

export async function open(url: string): Promise<SessionStore> {
  const dataSource = new DataSource({entities: ENTITIES, migrations: MIGRATIONS, type: 'postgres', url})
  await dataSource.initialize()
  const executor = new Executor(dataSource)
  return new SessionStore(new SqlStorageAdapter({backend: 'scratch-sql', dataSource, dialect: postgresDialect({idsInByteOrder: true}), executor}))
}
`,
    )
    const tsc = (entry: string) => {
      const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${entry}.json`], {
        cwd: project,
        encoding: 'utf8',
      })
      return {errors: result.stdout.split('\n').filter(Boolean), status: result.status}
    }

    expect(tsc('main')).to.deep.equal({errors: [], status: 0})
    expect(tsc('testing')).to.deep.equal({errors: [], status: 0})
    // What the declarations of synapse-cli/typeorm need, and why the main entry's passing means something.
    const withoutTypeorm = tsc('typeorm')
    expect(withoutTypeorm.status).to.not.equal(0)
    const inDeclarations = withoutTypeorm.errors.filter(line => line.startsWith('node_modules/synapse-cli/'))
    expect(inDeclarations.some(line => line.startsWith('node_modules/synapse-cli/dist/store/typeorm/index.d.ts('))).to.equal(true)
    expect(inDeclarations.filter(line => !line.endsWith("error TS2307: Cannot find module 'typeorm' or its corresponding type declarations."))).to.deep.equal(
      [],
    )
    // The author's `npm install --save-dev typeorm` (README, Writing a plugin), here this checkout's copy.
    symlinkSync(join(PROJECT_ROOT, 'node_modules', 'typeorm'), join(project, 'node_modules', 'typeorm'), 'dir')
    expect(tsc('typeorm')).to.deep.equal({errors: [], status: 0})
  })

  it('runs --version, sessions list and a chat, with nothing on stderr', async () => {
    const version = await synapse(['--version'])
    expect({code: version.code, stderr: version.stderr}).to.deep.equal({code: 0, stderr: ''})
    expect(version.stdout).to.match(/^synapse-cli\/0\.1\.0 \S+ node-v\S+\n$/)

    expect(await synapse(['sessions', 'list'])).to.deep.equal({code: 0, signal: null, stderr: '', stdout: ''})
    server.reply(['Installed', ' and talking.'])
    expect(await synapse(['Hello from the install'])).to.deep.equal({code: 0, signal: null, stderr: '', stdout: 'Installed and talking.\n'})
    const list = await synapse(['sessions', 'list'])
    expect({code: list.code, stderr: list.stderr}).to.deep.equal({code: 0, stderr: ''})
    expect(list.stdout.split('\n').filter(Boolean)).to.have.length(1)
  })

  it('lists the four core plugins, which serve file://, postgres:// and redis:// URLs', async () => {
    const core = await synapse(['plugins', '--core'])
    expect({code: core.code, stderr: core.stderr}).to.deep.equal({code: 0, stderr: ''})
    for (const plugin of CORE_PLUGINS) expect(core.stdout).to.match(new RegExp(`^${plugin} 0\\.1\\.0 \\(core\\)$`, 'm'))

    const fileUrl = `file://${join(sandbox.root, 'sessions-as-files')}`
    const filed = await synapse(['sessions', 'new', '--title', 'In files'], {DATABASE_URL: fileUrl})
    expect({code: filed.code, stderr: filed.stderr}).to.deep.equal({code: 0, stderr: ''})
    const files = await synapse(['sessions', 'list'], {DATABASE_URL: fileUrl})
    expect({code: files.code, stderr: files.stderr, title: files.stdout.split('\t')[1]}).to.deep.equal({code: 0, stderr: '', title: 'In files'})

    const schema = uniqueSchema('install')
    try {
      const postgres = urlOf(schema)
      const made = await synapse(['sessions', 'new', '--title', 'In PostgreSQL'], {DATABASE_URL: postgres})
      expect({code: made.code, stderr: made.stderr}).to.deep.equal({code: 0, stderr: ''})
      const rows = await synapse(['sessions', 'list'], {DATABASE_URL: postgres})
      expect({code: rows.code, stderr: rows.stderr, title: rows.stdout.split('\t')[1]}).to.deep.equal({code: 0, stderr: '', title: 'In PostgreSQL'})
    } finally {
      await dropSchemas([schema])
    }

    const prefixes = new Prefixes()
    try {
      const redis = prefixes.url('install')
      const made = await synapse(['sessions', 'new', '--title', 'In Redis'], {DATABASE_URL: redis})
      expect({code: made.code, stderr: made.stderr}).to.deep.equal({code: 0, stderr: ''})
      const listed = await synapse(['sessions', 'list'], {DATABASE_URL: redis})
      expect({code: listed.code, stderr: listed.stderr, title: listed.stdout.split('\t')[1]}).to.deep.equal({code: 0, stderr: '', title: 'In Redis'})
    } finally {
      await prefixes.dropAll()
    }
  })

  it('installs the packed example plugin and answers through it', async () => installsTheExamplePlugin('node'))

  it('answers --help of every command, and help', async () => answersEveryHelp('node'))

  it('reads config files, counts, prices, keeps the database and serves the ui, from what dist/ bundles', async () => runsWhatTheBundleHolds('node'))

  describe('under Deno', () => {
    const installedRunJs = () => join(installedRoot(), 'bin', 'run.js')
    const denoEnv = () => runtimeEnv('deno')

    it('runs the installed files: --version, sessions list, a chat and the core plugins', async () => {
      const deno = installed('deno')
      const version = await deno(['--version'])
      expect({code: version.code, stderr: version.stderr}).to.deep.equal({code: 0, stderr: ''})
      expect(version.stdout).to.match(/^synapse-cli\/0\.1\.0 /)
      server.reply(['Deno', ' answers.'])
      expect(await deno(['Hello from Deno'])).to.deep.equal({code: 0, signal: null, stderr: '', stdout: 'Deno answers.\n'})
      const list = await deno(['sessions', 'list'])
      expect({code: list.code, lines: list.stdout.split('\n').filter(Boolean).length, stderr: list.stderr}).to.deep.equal({code: 0, lines: 1, stderr: ''})
      const core = await deno(['plugins', '--core'])
      expect({code: core.code, stderr: core.stderr}).to.deep.equal({code: 0, stderr: ''})
      for (const plugin of CORE_PLUGINS) expect(core.stdout).to.match(new RegExp(`^${plugin} 0\\.1\\.0 \\(core\\)$`, 'm'))
    })

    it('installs the packed example plugin and answers through it', async () => installsTheExamplePlugin('deno'))

    it('answers --help of every command, and help', async () => answersEveryHelp('deno'))

    it('reads config files, counts, prices, keeps the database and serves the ui, from what dist/ bundles', async () => runsWhatTheBundleHolds('deno'))

    it('installs a `synapse` command with deno install from that directory', async () => {
      const root = join(work, 'deno-root')
      const installed = await run(
        DENO,
        ['install', '--global', '--allow-all', '--node-modules-dir=manual', '--force', '--name', 'synapse', '--root', root, installedRunJs()],
        denoEnv(),
      )
      expect(installed.code, installed.stderr).to.equal(0)
      const version = await run(join(root, 'bin', 'synapse'), ['--version'], denoEnv())
      expect({code: version.code, stderr: version.stderr}).to.deep.equal({code: 0, stderr: ''})
      expect(version.stdout).to.match(/^synapse-cli\/0\.1\.0 /)
    })
  })
})
