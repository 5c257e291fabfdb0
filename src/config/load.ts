import path from 'node:path'

import {redactUrl} from '../core/redact.js'
import {buildDefaults, isSecretKey, KNOWN_KEYS, MODELS_SECTION, PROVIDERS_SECTION, sectionOf, setAtPath} from './keys.js'
import {displayPath, findProjectFile, readUserFile, userConfigDir} from './files.js'
import {projectLayer} from './project.js'
import {type Assignment, fromEnv, fromFile} from './sources.js'
import type {ConfigEntry, LoadConfigOptions, LoadedConfig} from './types.js'

const MASK = '********'

/**
 * Reads every source and merges them key by key: environment > project file > user file >
 * defaults. Throws ConfigError, naming the file or variable and the key, on the first bad value.
 * A project file the user has not trusted sets only the keys a project may (see project.ts); what it
 * may not set is listed in `warnings`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env
  const cwd = path.resolve(options.cwd ?? process.cwd())
  const userDir = userConfigDir(env)

  const userFile = await readUserFile(userDir, env)
  const projectFile = await findProjectFile(cwd, userDir, env)

  const files: LoadedConfig['files'] = []
  const layers: Assignment[][] = []
  const warnings: string[] = []
  if (userFile) {
    files.push({kind: 'user', path: userFile.path})
    layers.push(fromFile(userFile.content, {shown: displayPath(userFile.path, env), source: {file: userFile.path, kind: 'user'}}))
  }

  if (projectFile) {
    const project = await projectLayer(projectFile, userDir, env)
    files.push({kind: 'project', path: projectFile.path, trust: project.trust})
    layers.push(project.assignments)
    warnings.push(...project.warnings)
  }

  layers.push(fromEnv(env))

  const winners = new Map<string, Assignment>()
  for (const assignment of layers.flat()) winners.set(assignment.key, assignment)

  const settings = buildDefaults()
  for (const {path: at, value} of winners.values()) setAtPath(settings as unknown as Record<string, unknown>, at, value)

  return {
    entries: () => entries(winners),
    files,
    settings,
    userDir,
    warnings,
  }
}

function entries(winners: Map<string, Assignment>): ConfigEntry[] {
  const fixed: ConfigEntry[] = []
  const providers = new Map<string, ConfigEntry>()
  for (const spec of KNOWN_KEYS) {
    const winner = winners.get(spec.key)
    const entry = {key: spec.key, source: winner?.source ?? {kind: 'default' as const}, value: winner ? winner.value : spec.default}
    if (sectionOf(spec.key) === PROVIDERS_SECTION) providers.set(spec.key, entry)
    else fixed.push(entry)
  }

  const models: ConfigEntry[] = []
  for (const [key, {path: at, source, value}] of winners) {
    if (sectionOf(key) === PROVIDERS_SECTION) providers.set(key, {key, source, value})
    else if (at[0] === MODELS_SECTION) models.push({key, source, value})
  }

  // Sorted so the same settings always print the same way, whatever order the files wrote them in.
  const byKey = (a: ConfigEntry, b: ConfigEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  // Models before providers, as `config show` orders them once it has added the API keys' entries.
  return [...fixed, ...models.sort(byKey), ...[...providers.values()].sort(byKey)].map(entry => ({...entry, value: mask(entry.key, entry.value)}))
}

function mask(key: string, value: unknown): unknown {
  if (value === undefined) return value
  if (isSecretKey(key)) return MASK
  // A database URL often carries a password: keep the rest readable, hide only that.
  if (typeof value === 'string') return redactUrl(value, MASK)
  return value
}

/**
 * Entries whose key nothing set and that have no fixed default (`storage.url`, `provider.model`) with
 * the value in effect instead of a blank: the database file, the provider's own default model.
 * Their source stays `default`.
 */
export function withEffectiveDefaults(entries: ConfigEntry[], effective: Record<string, unknown>): ConfigEntry[] {
  return entries.map(entry =>
    entry.source.kind === 'default' && entry.value === undefined && effective[entry.key] !== undefined
      ? {...entry, value: mask(entry.key, effective[entry.key])}
      : entry,
  )
}
