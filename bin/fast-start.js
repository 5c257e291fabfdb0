// `synapse --version`, `synapse --help` (and -h, and a bare `synapse` at a terminal) print what
// oclif computes from the installed plugins, the runtime, the terminal and the environment, and
// nothing else. Loading oclif and its plugins to compute it again costs ~60 ms; this answers from
// what oclif printed the last time, in the same situation, in ~1 ms. The situation is everything
// that output depends on: the command line, the runtime, the terminal, the whole environment (minus
// what a shell changes on every `cd`) and every file oclif read to know the plugins (package.json
// and manifest of each plugin, the data directory's list of installed and linked plugins), stamped
// with inode, size, mtime and ctime. Anything different is a miss, and oclif answers as ever.

// Built-in modules as the runtime holds them: importing them as ES modules costs ~5 ms, a third of
// what a replay may take (Node 22.3+, Deno 2).
const {mkdirSync, readFileSync, renameSync, statSync, writeFileSync, writeSync} = process.getBuiltinModule('node:fs')
const {homedir, release} = process.getBuiltinModule('node:os')
const {dirname, join} = process.getBuiltinModule('node:path')
const {isatty} = process.getBuiltinModule('node:tty')
const {format} = process.getBuiltinModule('node:util')

const STREAMS = ['stdin', 'stdout', 'stderr']
/**
 * Whether fd 0, 1 or 2 is a terminal, and its width: asked of the descriptor, so that a replay does
 * not make Node build stdin and stderr streams it never uses (~5 ms for pipes).
 */
function terminalOf(fd) {
  return isatty(fd) ? (process[STREAMS[fd]].columns ?? 0) : -1
}

/** What a shell changes as it goes (oclif's output depends on none of it). */
const VOLATILE = new Set(['_', 'OLDPWD', 'PWD', 'SHLVL'])
/** Situations remembered: terminals of other widths, a pipe, another runtime. */
const KEPT = 8

/** A command line whose whole answer oclif takes from its configuration. */
export function isInformational(argv, stdinIsTTY) {
  if (argv.length === 0) return stdinIsTTY === true
  return argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === '--version')
}

/** In the cache directory oclif uses (SYNAPSE_CACHE_DIR, else XDG's): a file of synapse's own. */
export function startCacheFile(env = process.env) {
  const home = env.HOME || homedir()
  if (env.SYNAPSE_CACHE_DIR) return join(env.SYNAPSE_CACHE_DIR, 'start.json')
  const base = process.platform === 'darwin' ? join(home, 'Library', 'Caches') : env.XDG_CACHE_HOME || join(home, '.cache')
  return join(base, 'synapse', 'start.json')
}

/**
 * Everything but files that oclif's answer to `argv` depends on, taken before the CLI sets any
 * variable of its own, as a 64-bit digest: the environment holds API keys and database passwords,
 * which must not be written to a file. (node:crypto would cost ~5 ms to load; a collision of two
 * situations is as likely as 2^-64.)
 */
export function situationOf(argv, root) {
  const env = Object.keys(process.env)
    .filter(name => !VOLATILE.has(name))
    .sort()
    .map(name => [name, process.env[name]])
  const terminal = [0, 1, 2].map(terminalOf)
  return digest(
    JSON.stringify({
      argv,
      env,
      root,
      runtime: [process.execPath, process.execArgv, process.version, process.platform, process.arch, release()],
      terminal,
    }),
  )
}

/** Two 32-bit multiplicative hashes of `text` side by side (cyrb53's mixing, 64 bits kept). */
function digest(text) {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ code, 2654435761)
    h2 = Math.imul(h2 ^ code, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return `${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`
}

function stamp(file) {
  const stats = statSync(file, {throwIfNoEntry: false})
  return stats ? [stats.ino, stats.size, stats.mtimeMs, stats.ctimeMs] : null
}

function readEntries(file) {
  try {
    const entries = JSON.parse(readFileSync(file, 'utf8'))
    return Array.isArray(entries) ? entries : []
  } catch {
    return []
  }
}

/** Prints oclif's answer from the cache and returns true; false when it has none for this situation. */
export function replay(argv, root) {
  if (!isInformational(argv, isatty(0))) return false
  const situation = situationOf(argv, root)
  const entry = readEntries(startCacheFile()).find(candidate => candidate.situation === situation)
  if (!entry?.files.every(([file, expected]) => JSON.stringify(stamp(file)) === JSON.stringify(expected))) return false
  writeStdout(entry.stdout)
  return true
}

/**
 * Straight to fd 1: a replay makes no process.stdout (for a pipe, a socket: ~4 ms). A reader gone
 * (EPIPE) ends the run as bin/run.js's handler does, with 141; a pipe that would block hands the
 * rest to process.stdout.
 */
function writeStdout(text) {
  const bytes = Buffer.from(text)
  let offset = 0
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset)
  } catch (error) {
    if (error.code === 'EPIPE' || error.code === 'ECONNRESET') process.exit(141)
    if (error.code !== 'EAGAIN') throw error
    process.stdout.write(bytes.subarray(offset))
  }
}

/**
 * The files whose contents decide oclif's answer, or undefined when they cannot be named: a plugin
 * without a manifest has its commands read from its files, and a plugin's own init or finally hook
 * may do what a replay would not.
 */
function inputsOf(config) {
  const files = [join(config.dataDir, 'package.json'), join(config.configDir, 'theme.json')]
  for (const plugin of config.plugins.values()) {
    if (!plugin.isRoot && (plugin.hooks.init?.length > 0 || plugin.hooks.finally?.length > 0)) return undefined
    if (!plugin.hasManifest && plugin.commands.length > 0) return undefined
    files.push(join(plugin.root, 'package.json'), join(plugin.root, 'oclif.manifest.json'))
  }
  return files
}

/**
 * Runs `answer` (oclif answering an informational command line in `situation`, with `config`
 * loaded from `loadStartedMs` on) and remembers what it printed, when it printed only to stdout and
 * succeeded. The cache is a convenience: failing to write it changes nothing.
 */
export async function remember(situation, config, loadStartedMs, answer) {
  const files = inputsOf(config)
  if (!files) return answer()
  const chunks = []
  let clean = true
  // Node's console writes through process.stdout, Deno's does not: both are watched, and what the
  // console writes is counted once, as the bytes written where they are seen.
  let viaConsole
  const {stderr, stdout} = process
  const writeOut = stdout.write
  const writeErr = stderr.write
  const consoleMethods = {}
  stdout.write = function (chunk, ...rest) {
    ;(viaConsole ?? chunks).push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
    return writeOut.call(this, chunk, ...rest)
  }
  stderr.write = function (...args) {
    clean = false
    return writeErr.apply(this, args)
  }
  for (const method of ['debug', 'dir', 'error', 'info', 'log', 'table', 'trace', 'warn']) {
    const original = console[method]
    consoleMethods[method] = original
    console[method] = (...args) => {
      if (method !== 'log' && method !== 'info') clean = false
      viaConsole = []
      try {
        return original.apply(console, args)
      } finally {
        if (method === 'log' || method === 'info') chunks.push(...(viaConsole.length > 0 ? viaConsole : [`${format(...args)}\n`]))
        viaConsole = undefined
      }
    }
  }
  try {
    await answer()
  } finally {
    stdout.write = writeOut
    stderr.write = writeErr
    Object.assign(console, consoleMethods)
  }
  if (!clean || (process.exitCode ?? 0) !== 0) return
  try {
    const file = startCacheFile()
    const stamps = files.map(path => [path, stamp(path)])
    // A file changed while (or just before) oclif read it may hold what the output does not show.
    if (stamps.some(([, found]) => found && found[3] >= loadStartedMs - 1)) return
    const entry = {files: stamps, situation, stdout: chunks.join('')}
    const entries = [entry, ...readEntries(file).filter(other => other.situation !== situation)].slice(0, KEPT)
    mkdirSync(dirname(file), {mode: 0o700, recursive: true})
    const temporary = `${file}.${process.pid}.tmp`
    writeFileSync(temporary, JSON.stringify(entries), {mode: 0o600})
    renameSync(temporary, file)
  } catch {
    // Unwritable cache directory: the next run asks oclif again.
  }
}
