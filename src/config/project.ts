import {stat} from 'node:fs/promises'
import path from 'node:path'

import {ConfigError} from '../core/errors.js'
import {displayPath, findProjectFile, type FoundProjectFile, importConfigModule, PACKAGE_KEY, userConfigDir} from './files.js'
import {isSafeInProject, KNOWN_KEYS, MODEL_OPTIONS} from './keys.js'
import {type Assignment, fromFile} from './sources.js'
import {readTrustRecord, sha256, trustKey, trustStateOf, type TrustState, writeTrustRecord} from './trust.js'

/**
 * What a project file (one in the working directory or above it, usually a repository someone else
 * wrote) may do. Until the user trusts it, it may set only the keys marked `safeInProject`; every other
 * key is ignored with a warning, and a JavaScript file is not run at all. The environment and the
 * user's own file are trusted as they are.
 */

/** The fixed keys an untrusted project file may set, in table order; besides them, the model options in PROJECT_SAFE_MODEL_OPTIONS. */
export const PROJECT_SAFE_KEYS: readonly string[] = KNOWN_KEYS.filter(spec => spec.safeInProject).map(spec => spec.key)

/** What an untrusted project file may set in a `[models."<name>"]` table. */
export const PROJECT_SAFE_MODEL_OPTIONS: readonly string[] = MODEL_OPTIONS.filter(option => option.safeInProject).map(option => option.name)

export interface ProjectLayer {
  /** What applies: everything when trusted, else only the safe keys. */
  assignments: Assignment[]
  trust: TrustState
  warnings: string[]
}

/** Reads what a found project file sets and keeps what its trust allows, with one warning per key left out. */
export async function projectLayer(found: FoundProjectFile, userDir: string, env: NodeJS.ProcessEnv): Promise<ProjectLayer> {
  const record = await readTrustRecord(userDir, env)
  const trust = await trustStateOf(record, found.path, found.bytes)
  const shown = displayPath(found.path, env)
  const remedy = `run "synapse config trust ${shellWord(displayPath(path.dirname(found.path), env))}"${trust === 'changed' ? ' again' : ''} to allow it`
  const why = trust === 'changed' ? 'the file is not the one you trusted there, or changed since' : 'a project file may not set it until you trust it'

  if (found.isCode && trust !== 'trusted') {
    const reason =
      trust === 'changed' ? 'it is not the file you trusted there, or changed since' : "synapse runs a project's JavaScript config only once you trust it"
    return {assignments: [], trust, warnings: [`not running ${shown}: ${reason}; ${remedy}.`]}
  }

  const assignments = fromFile(found.isCode ? await importConfigModule(found.path, env) : found.content, originOf(found.path, env))
  if (trust === 'trusted') return {assignments, trust, warnings: []}
  const allowed = assignments.filter(assignment => isSafeInProject(assignment.key, assignment.path))
  const warnings = assignments
    .filter(assignment => !allowed.includes(assignment))
    .map(assignment => `ignoring ${keyAsWritten(found.path, assignment.key)} in ${shown}: ${why}; ${remedy}.`)
  return {assignments: allowed, trust, warnings}
}

export function originOf(file: string, env: NodeJS.ProcessEnv): Parameters<typeof fromFile>[1] {
  const keyPrefix = path.basename(file) === 'package.json' ? PACKAGE_KEY : undefined
  return {keyPrefix, shown: displayPath(file, env), source: {file, kind: 'project'}}
}

export interface TrustProjectOptions {
  /** Where to look for the project file, upward; process.cwd() by default. */
  cwd?: string
  env?: NodeJS.ProcessEnv
  now?: Date
}

export interface TrustResult {
  /** The directory now trusted: the project file's, symlinks resolved. */
  directory: string
  file: string
  /** The keys the file sets; null for a JavaScript file, whose keys are known only by running it. */
  keys: null | string[]
  sha256: string
  /** Of `keys`, those that applied only now that the file is trusted. */
  unlocked: null | string[]
}

/**
 * Trusts the project file found from `cwd` upward, exactly as it is now: its sha256 is recorded with
 * its directory, so an edited file needs trusting again. A data file is checked first (a broken one is
 * not trusted); a JavaScript file is not run here.
 */
export async function trustProject(options: TrustProjectOptions = {}): Promise<TrustResult> {
  const env = options.env ?? process.env
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const userDir = userConfigDir(env)
  // The search climbs: a mistyped directory would otherwise trust whatever file sits above it.
  if (
    !(await stat(cwd).then(
      s => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new ConfigError(`${displayPath(cwd, env)} is not a directory.`, {suggestions: ['Name the project directory, or run it there without an argument.']})
  }

  const found = await findProjectFile(cwd, userDir, env)
  if (!found) throw noProjectFile(cwd, env)
  const assignments = found.isCode ? null : fromFile(found.content, originOf(found.path, env))
  const keys = assignments?.map(assignment => keyAsWritten(found.path, assignment.key)) ?? null
  const directory = await trustKey(found.path)
  const record = await readTrustRecord(userDir, env)
  const digest = sha256(found.bytes)
  record.set(directory, {file: path.basename(found.path), sha256: digest, trustedAt: (options.now ?? new Date()).toISOString()})
  await writeTrustRecord(userDir, record)
  const unlocked =
    assignments?.filter(assignment => !isSafeInProject(assignment.key, assignment.path)).map(assignment => keyAsWritten(found.path, assignment.key)) ?? null
  return {directory, file: found.path, keys, sha256: digest, unlocked}
}

export interface UntrustResult {
  directory: string
  /** False when the directory was not trusted. */
  removed: boolean
}

/** Forgets the trust of the project file's directory found from `cwd` upward (or of `cwd` itself when it has none). */
export async function untrustProject(options: TrustProjectOptions = {}): Promise<UntrustResult> {
  const env = options.env ?? process.env
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const userDir = userConfigDir(env)
  const record = await readTrustRecord(userDir, env)
  const found = await findProjectFile(cwd, userDir, env).catch(() => undefined)
  const candidates = [...new Set([...(found ? [await trustKey(found.path)] : []), await trustKey(path.join(cwd, 'x')), cwd])]
  const directory = candidates.find(dir => record.has(dir)) ?? candidates[0]
  const removed = record.delete(directory)
  if (removed) await writeTrustRecord(userDir, record)
  return {directory, removed}
}

function noProjectFile(cwd: string, env: NodeJS.ProcessEnv): ConfigError {
  return new ConfigError(`No project config file in ${displayPath(cwd, env)} or above it, up to the project root.`, {
    suggestions: ['Run it in the directory whose .synapserc (or package.json "synapse" key, synapse.config.*) you want to trust.'],
  })
}

function keyAsWritten(file: string, key: string): string {
  return path.basename(file) === 'package.json' ? `${PACKAGE_KEY}.${key}` : key
}

/** A path as a shell word, to paste the remedy as it is. */
function shellWord(text: string): string {
  if (/^[\w%+,./:=@~-]+$/.test(text)) return text
  // The tilde only expands outside the quotes.
  const [home, rest] = text.startsWith('~/') ? ['~/', text.slice(2)] : ['', text]
  return `${home}'${rest.replaceAll("'", String.raw`'\''`)}'`
}
