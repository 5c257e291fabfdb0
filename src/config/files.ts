import {existsSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {ConfigError, SynapseError} from '../core/errors.js'
import {isTable} from './values.js'

/** Looked for in this order in the user config dir; the first that exists is read. */
export const USER_CONFIG_FILES: readonly string[] = ['config.toml', 'config.json', 'config.yaml', 'config.yml']

/** Looked for in this order in each directory from the cwd up to the project root. */
export const PROJECT_SEARCH_PLACES: readonly string[] = [
  'package.json',
  '.synapserc',
  '.synapserc.json',
  '.synapserc.yaml',
  '.synapserc.yml',
  '.synapserc.toml',
  '.synapserc.js',
  '.synapserc.mjs',
  '.synapserc.cjs',
  'synapse.config.js',
  'synapse.config.mjs',
  'synapse.config.cjs',
  'synapse.config.json',
  'synapse.config.yaml',
  'synapse.config.toml',
]

/** The key of package.json that holds synapse's settings. */
export const PACKAGE_KEY = 'synapse'

/** A directory holding one of these is a project root: the search for a project file goes no higher. */
export const PROJECT_ROOT_MARKERS = ['package.json', 'package.yaml', '.git']

export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || os.homedir()
}

export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'synapse')
  return path.join(homeDir(env), '.config', 'synapse')
}

/** How a path appears in messages: under HOME as `~/…`, so messages stay short and copyable. */
export function displayPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = path.resolve(homeDir(env))
  const relative = path.relative(home, file)
  if (relative === '') return '~'
  if (relative.startsWith('..') || path.isAbsolute(relative)) return file
  return `~${path.sep}${relative}`
}

export interface LoadedFile {
  /** The parsed content; undefined for an empty file. */
  content: unknown
  path: string
}

/** A project file as found on disk, before anything in it is believed. */
export interface FoundProjectFile {
  /** The bytes read, hashed for the trust record; data files are parsed from these same bytes. */
  bytes: Buffer
  /** The parsed settings of a data file (package.json: its "synapse" value); absent for JavaScript, which is never run here. */
  content?: unknown
  /** A JavaScript file: only imported, by `importConfigModule`, once its directory is trusted. */
  isCode: boolean
  path: string
}

type Loader = (filepath: string, content: string) => unknown

/**
 * The parsers, by extension. cosmiconfig's loaders give the error messages users know, but its
 * explorer is not used: creating one reads a "meta config" from the working directory
 * (`.config/config.js` is executed, `package.json` "cosmiconfig" can add search places) and every file
 * it loads may `$import` others, JavaScript included, all before synapse has seen a byte of them.
 * Imported here, not at the top, so modules that only need the config types do not pay for loading them.
 */
async function dataLoaders(): Promise<Record<string, Loader>> {
  const [{defaultLoaders}, {parse}] = await Promise.all([import('cosmiconfig'), import('smol-toml')])
  return {
    '': defaultLoaders.noExt,
    '.json': defaultLoaders['.json'],
    '.toml': (_filepath: string, content: string) => parse(content),
    '.yaml': defaultLoaders['.yaml'],
    '.yml': defaultLoaders['.yml'],
  }
}

/** A name whose content is code: synapse would have to run it to know what it sets. */
export function isCodeFile(file: string): boolean {
  return /\.[cm]?[jt]s$/.test(file)
}

export async function readUserFile(userDir: string, env: NodeJS.ProcessEnv): Promise<LoadedFile | undefined> {
  for (const name of USER_CONFIG_FILES) {
    const file = path.join(userDir, name)
    if (!(await isFile(file))) continue
    const bytes = await readFile(file)
    return {content: await parseData(file, bytes, env), path: file}
  }

  return undefined
}

/**
 * The nearest project file from `cwd` upward, read but not believed: the caller decides what of it
 * applies. The walk stops at the project root (package.json, package.yaml or .git), and before HOME:
 * a ~/.synapserc would otherwise act as a second user file that outranks the real one. The user config
 * dir is never searched as a project. As cosmiconfig did, an empty file and a package.json without a
 * "synapse" key are passed over.
 */
export async function findProjectFile(cwd: string, userDir: string, env: NodeJS.ProcessEnv): Promise<FoundProjectFile | undefined> {
  const home = path.resolve(homeDir(env))
  const skip = path.resolve(userDir)
  let dir = path.resolve(cwd)
  for (;;) {
    if (dir === home) return undefined
    if (dir !== skip) {
      for (const name of PROJECT_SEARCH_PLACES) {
        const file = path.join(dir, name)
        if (!(await isFile(file))) continue
        const bytes = await readFile(file)
        if (bytes.toString('utf8').trim() === '') continue
        if (isCodeFile(name)) return {bytes, isCode: true, path: file}
        const content = await parseData(file, bytes, env)
        if (content !== undefined) return {bytes, content, isCode: false, path: file}
      }

      if (PROJECT_ROOT_MARKERS.some(marker => existsSync(path.join(dir, marker)))) return undefined
    }

    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** Runs a JavaScript config file and returns its default export. Only for a file the user trusts. */
export async function importConfigModule(file: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  const {defaultLoaders} = await import('cosmiconfig')
  try {
    const content = await defaultLoaders[path.extname(file) as '.js'](file, '')
    return content ?? undefined
  } catch (error) {
    throw fileError(error, file, env)
  }
}

/** The settings in a data file; undefined when it sets nothing (empty, or a package.json without "synapse"). */
async function parseData(file: string, bytes: Buffer, env: NodeJS.ProcessEnv): Promise<unknown> {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '')
  if (text.trim() === '') return undefined
  const loaders = await dataLoaders()
  const loader = loaders[path.extname(file)]
  if (!loader) throw new ConfigError(`${displayPath(file, env)}: synapse cannot read ${path.extname(file)} files.`, {suggestions: ['Use TOML, JSON or YAML.']})
  let content: unknown
  try {
    content = await loader(file, text)
  } catch (error) {
    throw fileError(error, file, env)
  }

  if (path.basename(file) === 'package.json') {
    return isTable(content) && Object.hasOwn(content, PACKAGE_KEY) ? (content[PACKAGE_KEY] ?? undefined) : undefined
  }

  return content ?? undefined
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile()
  } catch {
    return false
  }
}

/** Parser errors span several lines (code frames); ours are one line with the file and the place. */
function fileError(error: unknown, file: string, env: NodeJS.ProcessEnv): ConfigError {
  if (error instanceof SynapseError) return error
  const shown = displayPath(file, env)
  const options = {cause: error, suggestions: [`Fix ${shown}, or move it aside to run without it.`]}
  const err = (error ?? {}) as {
    codeblock?: unknown
    column?: unknown
    line?: unknown
    mark?: {column: number; line: number}
    message?: unknown
    reason?: unknown
  }
  const message = typeof err.message === 'string' ? err.message : String(error)

  // smol-toml's TomlError keeps the name "Error"; its code frame is what tells it apart.
  if (typeof err.codeblock === 'string' && typeof err.line === 'number') {
    const what = firstLine(message).replace(/^Invalid TOML document:\s*/, '')
    return new ConfigError(`${shown}: TOML syntax error at line ${err.line}, column ${err.column}: ${what}.`, options)
  }

  if (err.mark && typeof err.mark.line === 'number') {
    const what = typeof err.reason === 'string' ? err.reason : firstLine(message)
    return new ConfigError(`${shown}: YAML syntax error at line ${err.mark.line + 1}, column ${err.mark.column + 1}: ${what}.`, options)
  }

  // cosmiconfig prefixes "JSON Error in <path>:\n" to JSON.parse's own message.
  if (error instanceof SyntaxError && message.startsWith('JSON Error')) {
    return new ConfigError(`${shown}: JSON syntax error: ${message.split('\n').at(-1)!.replace(/\.$/, '')}.`, options)
  }

  return new ConfigError(`${shown}: could not be loaded: ${firstLine(message).replace(/\.$/, '')}.`, options)
}

/** The first line, joined to the next when it only introduces it ("Transform failed with 1 error:"). */
function firstLine(text: string): string {
  const lines = text
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
  if (lines.length > 1 && lines[0].endsWith(':')) return `${lines[0]} ${lines[1]}`
  return lines[0] ?? ''
}
