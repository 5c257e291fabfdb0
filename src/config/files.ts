import {existsSync} from 'node:fs'
import {stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {ConfigError, SynapseError} from '../core/errors.js'

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

/** A directory holding one of these is a project root: the search for a project file goes no higher. */
const PROJECT_ROOT_MARKERS = ['package.json', 'package.yaml', '.git']

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

interface Explorer {
  load(filepath: string): Promise<{config: unknown; filepath: string; isEmpty?: boolean} | null>
  search(from?: string): Promise<{config: unknown; filepath: string; isEmpty?: boolean} | null>
}

/**
 * One cosmiconfig explorer for both kinds of file, so JSON, YAML, TOML and JS read the same way in each.
 * cosmiconfig and smol-toml are imported here, not at the top, so modules that only need the config
 * types do not pay for loading them.
 */
export async function createExplorer(): Promise<Explorer> {
  const [{cosmiconfig}, {parse}] = await Promise.all([import('cosmiconfig'), import('smol-toml')])
  return cosmiconfig('synapse', {
    cache: false,
    loaders: {'.toml': (_filepath: string, content: string) => parse(content)},
    searchPlaces: [...PROJECT_SEARCH_PLACES],
    // Only the directory given: findProjectFile walks upward itself, because 'project' would climb past
    // HOME to / when there is no package.json, and 'global' would also read the real ~/.config/synapse.
    searchStrategy: 'none',
  })
}

export async function readUserFile(explorer: Explorer, userDir: string, env: NodeJS.ProcessEnv): Promise<LoadedFile | undefined> {
  for (const name of USER_CONFIG_FILES) {
    const file = path.join(userDir, name)
    if (!(await isFile(file))) continue
    try {
      const result = await explorer.load(file)
      return {content: result?.isEmpty ? undefined : result?.config, path: file}
    } catch (error) {
      throw fileError(error, file, env)
    }
  }

  return undefined
}

/**
 * The nearest project file from `cwd` upward. The walk stops at the project root (package.json,
 * package.yaml or .git), and before HOME: a ~/.synapserc would otherwise act as a second user file
 * that outranks the real one. The user config dir is never searched as a project.
 */
export async function findProjectFile(explorer: Explorer, cwd: string, userDir: string, env: NodeJS.ProcessEnv): Promise<LoadedFile | undefined> {
  const home = path.resolve(homeDir(env))
  const skip = path.resolve(userDir)
  let dir = path.resolve(cwd)
  for (;;) {
    if (dir === home) return undefined
    if (dir !== skip) {
      let result
      try {
        result = await explorer.search(dir)
      } catch (error) {
        throw fileError(error, (error as {filepath?: string}).filepath ?? dir, env)
      }

      if (result && !result.isEmpty) return {content: result.config, path: result.filepath}
      if (PROJECT_ROOT_MARKERS.some((marker) => existsSync(path.join(dir, marker)))) return undefined
    }

    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
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
  const err = (error ?? {}) as {codeblock?: unknown; column?: unknown; line?: unknown; mark?: {column: number; line: number}; message?: unknown; reason?: unknown}
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
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean)
  if (lines.length > 1 && lines[0].endsWith(':')) return `${lines[0]} ${lines[1]}`
  return lines[0] ?? ''
}
