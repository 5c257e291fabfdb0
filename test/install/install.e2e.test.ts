import {expect} from 'chai'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
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

async function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  const child = spawn(command, args, {env})
  child.stdin.end()
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise(resolve => child.on('close', (code, signal) => resolve({code, signal, stderr, stdout})))
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

  const synapse = async (args: string[], extra: NodeJS.ProcessEnv = {}) => run(join(prefix, 'bin', 'synapse'), args, {...env, ...extra})

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

  it('installs without a peer-dependency warning and without TypeORM, which dist/ bundles', () => {
    // TypeORM's optional peer is better-sqlite3 12; synapse needs 13. Installed as synapse's
    // dependency, it made npm print twenty lines of "ERESOLVE overriding peer dependency".
    expect(installStderr.split('\n').filter(line => /ERESOLVE|peer/i.test(line))).to.deep.equal([])
    const installed = installedPackages(prefix)
    expect(installed.has('better-sqlite3'), 'the SQLite driver, which dist/ loads from node_modules').to.equal(true)
    expect(['typeorm', 'reflect-metadata'].filter(name => installed.has(name))).to.deep.equal([])
  })

  it('gives a TypeScript plugin the types of synapse-cli without TypeORM, and of synapse-cli/typeorm once its author installs TypeORM', () => {
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
    for (const entry of ['main', 'typeorm'])
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

  it('installs the packed example plugin and answers through it', async () => {
    const install = await synapse(['plugins', 'install', `file:${echoTarball}`])
    // oclif's progress line is all: no warning, no error.
    expect({code: install.code, stderr: install.stderr}).to.deep.equal({
      code: 0,
      stderr: `synapse-cli: Installing plugin file:${echoTarball}... installed v1.0.0\n`,
    })
    expect(await synapse(['plugins'])).to.deep.equal({code: 0, signal: null, stderr: '', stdout: 'synapse-plugin-echo 1.0.0\n'})
    expect(await synapse(['-p', 'echo', 'echoed from an installed synapse'])).to.deep.equal({
      code: 0,
      signal: null,
      stderr: '',
      stdout: 'echoed from an installed synapse\n',
    })
  })

  describe('under Deno', () => {
    const installedRunJs = () => join(prefix, 'lib', 'node_modules', 'synapse-cli', 'bin', 'run.js')
    const denoEnv = () => ({...env, DENO_DIR: join(work, 'deno-dir')})
    // --node-modules-dir=manual: Deno resolves imports through the installed node_modules as Node
    // does. Without it, Deno refuses the bundled plugins' import of "synapse-cli" ("not a dependency").

    it('runs the installed files: --version, sessions list, a chat and the core plugins', async () => {
      const deno = async (args: string[]) => run(DENO, ['run', '-A', '--node-modules-dir=manual', installedRunJs(), ...args], denoEnv())
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
