// The one build of synapse: the CLI and the library API it offers plugins, bundled together by
// esbuild with code splitting, so that a plugin importing "synapse-cli" loads the very chunks the
// CLI's commands and hooks run from: one copy of each module in the process. Importing @oclif/core,
// TypeORM and cosmiconfig as hundreds of separate node_modules files costs ~250 ms per run; as a
// few chunks, ~45 ms. tsc only type-checks and writes the declarations (dist/**/*.d.ts) beside it.
// A package bundled here is a devDependency: nothing in dist/ loads it from node_modules, so a user's
// install need not have it (openai and gpt-tokenizer alone were 65 MB of it). `dependencies` hold only
// what does load from there: the `external` packages below that synapse needs (better-sqlite3), the
// core plugins (package.json oclif.plugins, which oclif finds by name among `dependencies`), and
// @oclif/core, which @oclif/plugin-plugins and @oclif/plugin-autocomplete import; test/install checks
// that the install holds none of the others. typeorm is also an optional peer, for the declarations of
// synapse-cli/typeorm: installed as synapse's dependency, TypeORM's optional peer better-sqlite3 ^12
// made npm warn on every user's install.
//
//   dist/index.js, dist/testing/index.js, dist/store/typeorm/index.js
//                                     the library entries (package.json exports)
//   dist/cli/launcher.js              what bin/run.js needs from @oclif/core
//   dist/cli/commands/<topic>/<verb>.js   found by oclif's usual pattern (package.json oclif.commands)
//   dist/cli/hooks/<event>.js         in dist/cli/, a directory with no src/ twin, so oclif loads them
//                                     even under a TypeScript loader (tests run under tsx)
//   dist/cli/help.js                  the help class (package.json oclif.helpClass)
//   dist/chunks/*.js                  shared code; dynamic import()s stay split points, so the
//                                     chunk holding TypeORM loads only when the init hook opens a store
//   (no file)                         the page of `synapse ui` (src/ui/web), bundled for the browser
//                                     first and inlined into that command's file (synapse-ui:assets),
//                                     so that no other command loads a byte of it
//   dist/bundle-contents.json         which packages and src/ modules each output file holds
//                                     (test/fixtures/trace-imports.mjs)
import {build, transform} from 'esbuild'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {MODEL_DATA_FILE, writeModelData} from './model-data.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist')

/** Every TypeScript module under `dir` (recursively), so a new command file needs no build change. */
function sources(dir) {
  return readdirSync(join(root, dir), {recursive: true, withFileTypes: true})
    .filter(entry => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map(entry => relative(root, join(entry.parentPath, entry.name)))
    .sort()
}

/**
 * Entry points that are no file in src/. The launcher re-exports what bin/main.js needs from
 * @oclif/core and its routing of a command line (src/cli/routing.ts), so that it and the commands
 * share one copy. `help` is @oclif/plugin-help's command,
 * bundled as one of ours rather than loaded as a core plugin (package.json oclif.plugins), which
 * would import a second, unbundled @oclif/core (~40 ms) for `synapse help ...`.
 */
const virtualEntries = {
  'commands/help': "import {commands} from '@oclif/plugin-help'\nexport default commands.help\n",
  launcher: "export {Config, execute, flush, handle} from '@oclif/core'\nexport {route, routingIO} from './src/cli/routing.ts'\n",
}

const commandFiles = sources('src/commands')
const cliEntry = file => ({in: file, out: `cli/${file.slice('src/'.length, -'.ts'.length)}`})
/** What package.json `exports` names, at the paths the declarations tsc writes have. */
const libraryEntries = ['src/index.ts', 'src/testing/index.ts', 'src/store/typeorm/index.ts'].map(file => ({
  in: file,
  out: file.slice('src/'.length, -'.ts'.length),
}))
const entryPoints = [
  ...libraryEntries,
  ...commandFiles.map(cliEntry),
  ...sources('src/hooks').map(cliEntry),
  // package.json oclif.helpClass: bundled so that it extends the commands' copy of @oclif/core.
  {in: 'src/cli/help.ts', out: 'cli/help'},
  // A command of our own with the same name wins.
  ...Object.keys(virtualEntries)
    .filter(out => !commandFiles.includes(`src/${out}.ts`))
    .map(out => ({in: `synapse:${out}`, out: `cli/${out}`})),
]

// Loaded at run time from node_modules, never bundled: better-sqlite3 is a native addon (its
// binding is found relative to its own files), and TypeORM's drivers for other databases are
// optional peers it require()s only when asked for that database. `typescript` is what
// cosmiconfig and oclif load only for TypeScript config files and development mode.
const external = [
  'better-sqlite3',
  // TypeORM's optional drivers and their helpers (see typeorm/platform/PlatformTools.js).
  '@capacitor-community/sqlite',
  '@google-cloud/spanner',
  '@sap/hana-client',
  '@sap/hana-client/extension/Stream',
  '@sqlitecloud/drivers',
  'expo-sqlite',
  'hdb-pool',
  'ioredis',
  'mongodb',
  'mssql',
  'mysql',
  'mysql2',
  'oracledb',
  'pg',
  'pg-native',
  'pg-query-stream',
  'react-native-sqlite-storage',
  'redis',
  'sql.js',
  'sqlite3',
  'typeorm-aurora-data-api-driver',
  // The conformance suites (synapse-cli/testing) assert with the chai of the plugin's own tests.
  'chai',
  'mocha',
  // Development-time only.
  'ts-node',
  'tsx',
  'tsx/*',
  'typescript',
]

const virtual = {
  name: 'synapse-virtual-entries',
  setup(b) {
    b.onResolve({filter: /^synapse:/}, args => ({namespace: 'synapse', path: args.path.slice('synapse:'.length)}))
    b.onLoad({filter: /.*/, namespace: 'synapse'}, args => ({contents: virtualEntries[args.path], loader: 'js', resolveDir: root}))
  },
}

/** @oclif/core's plugin loader matches package names with a literal comparison (scripts/literal-minimatch.cjs). */
const literalMinimatch = {
  name: 'literal-minimatch',
  setup(b) {
    b.onResolve({filter: /^minimatch$/}, args =>
      /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin-loader\.js$/.test(args.importer) ? {path: join(root, 'scripts', 'literal-minimatch.cjs')} : undefined,
    )
  },
}

/**
 * TypeORM's DriverFactory requires the driver of every database it knows, its EntityManagerFactory
 * and EntityManager the MongoDB and sql.js managers and repository, and its index re-exports them:
 * bundled as they are, about 1 MB of the TypeORM chunk that a synapse process parses and never
 * runs. synapse opens better-sqlite3 (its SQLite store) and postgres (plugins/storage-postgres, through
 * synapse-cli/typeorm) only. Each other driver's class, and those managers, are replaced by a class
 * of the same name whose constructor throws a TypeORMError saying so: `new DataSource({type: 'mysql'})`
 * fails at once, with that message, instead of TypeORM's own "package has not been found installed".
 * What those modules import (their query runners, schema code) then is not bundled either.
 */
const TYPEORM_BUNDLED_DRIVERS = ['better-sqlite3', 'postgres']
const TYPEORM_LEFT_OUT =
  /[\\/]node_modules[\\/]typeorm[\\/](?:driver[\\/](?:aurora-mysql|aurora-postgres|capacitor|cockroachdb|cordova|expo|mongodb|mysql|nativescript|oracle|react-native|sap|spanner|sqljs|sqlserver)[\\/][A-Za-z]+Driver|entity-manager[\\/](?:Mongo|Sqljs)EntityManager|repository[\\/]MongoRepository)\.js$/
const typeormTrimmed = {
  name: 'typeorm-trimmed',
  setup(b) {
    b.onResolve({filter: /^\./}, args => {
      if (args.namespace !== 'file' || !/[\\/]node_modules[\\/]typeorm[\\/]/.test(args.importer)) return
      const path = createRequire(args.importer).resolve(args.path)
      return TYPEORM_LEFT_OUT.test(path) ? {namespace: 'typeorm-left-out', path} : undefined
    })
    b.onLoad({filter: /.*/, namespace: 'typeorm-left-out'}, args => {
      // tsc's CommonJS names each export once as `exports.Name = void 0`.
      const names = [...new Set([...readFileSync(args.path, 'utf8').matchAll(/\bexports\.([A-Za-z_$][\w$]*) = /g)].map(match => match[1]))]
      const [typeorm] = /^.*[\\/]node_modules[\\/]typeorm/.exec(args.path)
      const what = relative(typeorm, args.path).slice(0, -'.js'.length)
      const message = `TypeORM's ${what} is not bundled with synapse, which opens ${TYPEORM_BUNDLED_DRIVERS.join(' and ')} databases only.`
      return {
        contents: [
          "const {TypeORMError} = require('./error/TypeORMError.js')",
          ...names.map(name => `exports.${name} = class ${name} { constructor() { throw new TypeORMError(${JSON.stringify(message)}) } }`),
        ].join('\n'),
        loader: 'js',
        resolveDir: typeorm,
      }
    })
  },
}

/**
 * `await import('cosmiconfig')` of a CommonJS package: Node gives the named exports that it detects
 * in the source, but a chunk esbuild makes for a CommonJS module only has `export default`, so
 * `const {cosmiconfig} = await import('cosmiconfig')` would get undefined. Such imports go through a
 * facade that re-exports, by name, what the package exports (read by loading it here, at build time).
 */
const commonjsDynamicImports = {
  name: 'commonjs-dynamic-imports',
  setup(b) {
    b.onResolve({filter: /^[^./]/}, async args => {
      if (args.kind !== 'dynamic-import' || args.pluginData?.facade) return
      const resolved = await b.resolve(args.path, {kind: 'import-statement', pluginData: {facade: true}, resolveDir: args.resolveDir})
      if (resolved.errors.length > 0 || resolved.external || !isCommonJs(resolved.path)) return
      return {namespace: 'commonjs-facade', path: resolved.path, pluginData: {specifier: args.path}}
    })
    b.onLoad({filter: /.*/, namespace: 'commonjs-facade'}, args => {
      const names = Object.keys(createRequire(args.path)(args.path)).filter(name => name !== 'default' && /^[A-Za-z_$][\w$]*$/.test(name))
      return {
        contents: `const m = require(${JSON.stringify(args.path)})\nexport default m\nexport const {${names.join(', ')}} = m\n`,
        loader: 'js',
        resolveDir: dirname(args.path),
      }
    })
  },
}

function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true
  if (!file.endsWith('.js')) return false
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pjson = join(dir, 'package.json')
    if (existsSync(pjson)) return JSON.parse(readFileSync(pjson, 'utf8')).type !== 'module'
  }
  return true
}

/**
 * esbuild wraps each bundled CommonJS module in a method, `"path"(exports, module) { ... }`, which V8
 * compiles lazily, on first call, so Node's compile cache (made when a file is compiled, before it
 * runs) never holds the modules' code: every run compiles @oclif/core and TypeORM module by module.
 * Written as a parenthesized function, `"path": (function(exports, module) { ... })`, the body is
 * compiled with the file (V8's heuristic for functions about to be called) and lands in the cache.
 * Measured here: about 7 ms off importing @oclif/core, as much again off TypeORM.
 */
function compileModulesEagerly(code, file) {
  let rewritten = 0
  const out = code.replace(/(= __(?:commonJS|esm)\(\{\n {2}"[^"\n]+")\(([^)\n]*)\) \{\n([\s\S]*?)\n {2}\}\n\}\);/g, (_, head, params, body) => {
    rewritten++
    return `${head}: (function(${params}) {\n${body}\n  })\n});`
  })
  const wrappers = code.match(/= __(?:commonJS|esm)\(\{\n/g)?.length ?? 0
  if (rewritten !== wrappers)
    console.warn(`scripts/build.mjs: ${file}: ${wrappers - rewritten} of ${wrappers} module wrappers left lazy (esbuild's output changed?)`)
  return out
}

/**
 * The page of `synapse ui`: its script (markdown-it, highlight.js and the views) and stylesheet,
 * bundled for the browser, become the strings that `import('synapse-ui:assets')` gives the command.
 */
async function buildPage() {
  const page = await build({
    absWorkingDir: root,
    bundle: true,
    entryPoints: ['src/ui/web/main.ts'],
    format: 'esm',
    logLevel: 'warning',
    minify: true,
    outdir: join(outdir, 'ui'),
    platform: 'browser',
    target: ['chrome111', 'firefox114', 'safari16.4'],
    metafile: true,
    tsconfig: join(root, 'src/ui/web/tsconfig.json'),
    write: false,
  })
  const text = extension => page.outputFiles.find(file => file.path.endsWith(extension)).text
  return {
    contents: `export const script = ${JSON.stringify(text('.js'))}\nexport const stylesheet = ${JSON.stringify(text('.css'))}\n`,
    inputs: Object.keys(page.metafile.inputs),
  }
}

const pageAssets = await buildPage()
const PAGE_ASSETS_INPUT = 'synapse-ui:synapse-ui:assets'
const uiAssets = {
  name: 'synapse-ui-assets',
  setup(b) {
    b.onResolve({filter: /^synapse-ui:assets$/}, args => ({namespace: 'synapse-ui', path: args.path}))
    b.onLoad({filter: /.*/, namespace: 'synapse-ui'}, () => ({contents: pageAssets.contents, loader: 'js'}))
  },
}

// Before the bundle, which imports it.
await writeModelData(root)

/**
 * The model data (~250 KB) as one JSON.parse of a string rather than esbuild's object literal: V8
 * parses JSON faster than the same literal as code, and a chat turn loads it. Measured: ~5 ms of CPU.
 */
const modelDataAsJson = {
  name: 'model-data-as-json',
  setup(b) {
    b.onLoad({filter: /[\\/]model-data\.generated\.json$/}, args => {
      if (args.path !== join(root, MODEL_DATA_FILE)) return
      const text = JSON.stringify(JSON.parse(readFileSync(args.path, 'utf8')))
      return {contents: `export default JSON.parse(${JSON.stringify(text)})\n`, loader: 'js'}
    })
  },
}

// tsc's declarations may already be in dist/ (package.json scripts.build): replace only what esbuild writes.
for (const dir of ['cli', 'chunks']) rmSync(join(outdir, dir), {force: true, recursive: true})
const result = await build({
  absWorkingDir: root,
  // The bundled CommonJS packages call require() (for externals and Node built-ins).
  banner: {js: "import {createRequire as __synapseCreateRequire} from 'node:module'; const require = __synapseCreateRequire(import.meta.url);"},
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryNames: '[dir]/[name]',
  entryPoints,
  external,
  format: 'esm',
  // TypeORM names migrations (and oclif names a command without an id) after the class: keep
  // class names as written, whatever esbuild renames to avoid clashes in a shared chunk.
  keepNames: true,
  logLevel: 'warning',
  metafile: true,
  outdir,
  platform: 'node',
  plugins: [virtual, uiAssets, commonjsDynamicImports, literalMinimatch, typeormTrimmed, modelDataAsJson],
  // Node reads the maps only when asked: bin/run.js turns them on under DEBUG.
  sourcemap: 'linked',
  sourcesContent: false,
  splitting: true,
  target: 'node22',
  // esbuild takes experimentalDecorators and useDefineForClassFields from here (TypeORM's legacy
  // decorators). It emits no decorator metadata, which is why every column names its type.
  tsconfig: join(root, 'tsconfig.json'),
  write: false,
})

for (const file of result.outputFiles) {
  mkdirSync(dirname(file.path), {recursive: true})
  if (!file.path.endsWith('.js')) {
    writeFileSync(file.path, file.contents)
    continue
  }
  const code = compileModulesEagerly(file.text, relative(root, file.path))
  // A rewrite gone wrong must fail here, not in a user's terminal.
  if (code !== file.text) await transform(code, {format: 'esm', loader: 'js', logLevel: 'silent'})
  writeFileSync(file.path, code)
}

// Which packages and which of our modules each output file holds, for the tests' tracer: with
// TypeORM bundled, a chunk is what gets imported, not a file under node_modules/typeorm/; and a
// module of src/ in two loaded files would be two copies of it.
const contents = {}
/** The packages and src/ modules among esbuild's inputs. */
function sourcesOf(inputs) {
  const packages = new Set()
  const modules = []
  for (const input of inputs) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match) packages.add(match[1])
    else if (input.startsWith('src/')) modules.push(input)
  }
  return {modules: modules.sort(), packages: [...packages].sort()}
}
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  if (!output.endsWith('.js')) continue
  const held = sourcesOf(Object.keys(meta.inputs))
  // The page's bundle is a string in the file that holds it, run by the browser, not by this
  // process: its modules are listed apart (`page`), its packages with the file's, for the tracer.
  if (PAGE_ASSETS_INPUT in meta.inputs) {
    const page = sourcesOf(pageAssets.inputs)
    Object.assign(held, {packages: [...new Set([...held.packages, ...page.packages])].sort(), page: page.modules})
  }
  contents[relative(outdir, join(root, output))] = held
}
writeFileSync(join(outdir, 'bundle-contents.json'), `${JSON.stringify(contents, null, 2)}\n`)
