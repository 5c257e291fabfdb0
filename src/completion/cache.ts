import type {Interfaces} from '@oclif/core'
import {existsSync, lstatSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join, parse, resolve} from 'node:path'

import {homeDir, PROJECT_ROOT_MARKERS, USER_CONFIG_FILES} from '../config/files.js'
import {type LoadedConfig, TRUST_FILE} from '../config/index.js'
import {replaceWithSync, writeTemporarySync} from '../core/atomic-write.js'
import {makePrivateDir} from '../core/private-dir.js'
import {hasControlCharacters, terminalSafe} from '../core/terminal-text.js'
import type {ProviderRegistry} from '../providers/registry.js'
import type {SessionStore, SessionSummary} from '../store/session-store.js'
import {CANDIDATE_LIMIT, type Candidate, modelCandidates, offerable, providerCandidates, SESSION_SCAN_LIMIT, sessionLabel} from './candidates.js'

/**
 * The completion cache: what `autocomplete values` would print for each kind, written by the last
 * synapse command that opened a SQLite store, so that the shell scripts answer a TAB without starting
 * Node (scripts.ts reads it). It holds what that command saw, and when it was right:
 *
 *   synapse-completion<TAB>1                   the format; a script that knows no other falls back
 *   cwd<TAB>DIR                                where it ran (a project file there could name other settings)
 *   env<TAB>NAME<TAB>VALUE                     each variable of ENVIRONMENT_FAMILY that was exported
 *   newer<TAB>PATH                             must exist, and the cache must be newer: the database, the config files
 *   maybe<TAB>PATH                             if it exists, the cache must be newer: the database's -wal
 *   absent<TAB>PATH                            must not exist: a config file that was not there
 *   s<TAB>ID<TAB>SHORT<TAB>UPDATED_MS<TAB>DATE<TAB>LABEL   sessions, most recently updated first
 *   t<TAB>TITLE<TAB>SHORT<TAB>UPDATED_MS<TAB>DATE          each title once, of its most recently updated session
 *   m<TAB>MODEL<TAB>DESCRIPTION                models, in `autocomplete values models` order, unlimited
 *   p<TAB>PROVIDER<TAB>DESCRIPTION
 *
 * A script uses it only when every line of the head holds in the shell's environment and directory,
 * and otherwise asks the hidden command, as before. Values are offerable() ones and every field is
 * free of control characters, so no field can hold a tab or a newline; a head that cannot be written
 * so (a path with a newline) means no cache. Only SQLite: the file's mtime says when the data last
 * changed; a server or a directory store gives no such signal, so those always take the hidden command.
 */
// 2: title rows, which a script of format 1 would not offer from a cache that lacked them.
export const CACHE_HEADER = 'synapse-completion\t2'

/** Variables that change what a command sees: the database, the config and data directories, every SYNAPSE_ setting. */
export const ENVIRONMENT_FAMILY = ['DATABASE_URL', 'HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME'] as const
const FAMILY_PREFIX = 'SYNAPSE_'

export function completionCacheFile(cacheDir: string): string {
  return join(cacheDir, 'completion', 'values.tsv')
}

/** When the cache describes the data: the conditions a script checks before it believes the rows. */
export interface CacheConditions {
  absent: string[]
  cwd: string
  env: Array<[string, string]>
  maybe: string[]
  newer: string[]
}

export interface CacheContents {
  models: Candidate[]
  providers: Candidate[]
  /** Most recently updated first. */
  sessions: SessionSummary[]
}

/** The variables of ENVIRONMENT_FAMILY that are set, by name, as a child process would receive them. */
export function environmentFingerprint(env: NodeJS.ProcessEnv): Array<[string, string]> {
  return Object.entries(env)
    .filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (entry[0].startsWith(FAMILY_PREFIX) || (ENVIRONMENT_FAMILY as readonly string[]).includes(entry[0])),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

export interface ConditionsInput {
  /** The oclif config: its data dir (plugins installed there) and root (synapse's own package). */
  config: Pick<Interfaces.Config, 'dataDir' | 'root'>
  cwd: string
  database: string
  env: NodeJS.ProcessEnv
  settings: LoadedConfig
}

/**
 * What must still hold for the cache to be right. Every directory the project file search walks, from
 * `cwd` up to the project root or HOME, is one whose change (a project file created, removed or
 * renamed) could change the settings: a change there sends TAB to the hidden command. So does any
 * change in a busy directory such as /tmp: correct, only slower.
 */
export function cacheConditions({config, cwd, database, env, settings}: ConditionsInput): CacheConditions {
  const newer = new Set<string>([database, join(config.root, 'package.json')])
  const absent = new Set<string>()
  const asFound = (file: string) => (exists(file) ? newer.add(file) : absent.add(file))
  for (const name of [...USER_CONFIG_FILES, TRUST_FILE]) asFound(join(settings.userDir, name))
  for (const file of settings.files) asFound(file.path)
  asFound(join(config.dataDir, 'package.json'))
  const home = resolve(homeDir(env))
  for (let dir = resolve(cwd); dir !== home; dir = dirname(dir)) {
    newer.add(dir)
    if (dir === parse(dir).root || PROJECT_ROOT_MARKERS.some(marker => exists(join(dir, marker)))) break
  }
  return {absent: [...absent], cwd: shellDirectory(cwd, env), env: environmentFingerprint(env), maybe: [`${database}-wal`], newer: [...newer]}
}

/** The directory as the shell names it in $PWD (which may go through a symbolic link), when it is the same one. */
function shellDirectory(cwd: string, env: NodeJS.ProcessEnv): string {
  const pwd = env.PWD
  try {
    if (pwd && realpathSync(pwd) === realpathSync(cwd)) return pwd
  } catch {
    // A $PWD that is gone is not where this ran.
  }
  return cwd
}

function exists(file: string): boolean {
  try {
    lstatSync(file)
    return true
  } catch {
    return false
  }
}

/** The head of the cache: everything but the rows. Undefined when a field cannot be written on one line. */
export function formatConditions(conditions: CacheConditions): string | undefined {
  const lines = [
    CACHE_HEADER,
    `cwd\t${conditions.cwd}`,
    ...conditions.env.map(([name, value]) => `env\t${name}\t${value}`),
    ...conditions.newer.map(file => `newer\t${file}`),
    ...conditions.maybe.map(file => `maybe\t${file}`),
    ...conditions.absent.map(file => `absent\t${file}`),
  ]
  const fields = [conditions.cwd, ...conditions.env.flat(), ...conditions.newer, ...conditions.maybe, ...conditions.absent]
  if (fields.some(field => hasControlCharacters(field)) || conditions.env.some(([name]) => !/^[A-Za-z_]\w*$/.test(name))) return undefined
  return `${lines.join('\n')}\n`
}

/** The rows: the same candidates `autocomplete values` prints, before any prefix is applied. */
export function formatRows({models, providers, sessions}: CacheContents): string {
  const field = (text: string) => terminalSafe(text)
  const when = (s: SessionSummary) => [String(s.updatedAt.getTime()), s.updatedAt.toISOString().slice(0, 10)]
  // A title with a control character is not offered (offerable): it has no row.
  const titled = new Map<string, SessionSummary>()
  for (const s of sessions) if (s.title && !hasControlCharacters(s.title) && !titled.has(s.title)) titled.set(s.title, s)
  const rows = [
    ...sessions.map(s => ['s', s.id, s.shortId, ...when(s), field(sessionLabel(s))]),
    ...[...titled].map(([title, s]) => ['t', title, s.shortId, ...when(s)]),
    ...offerable(models).map(({description, value}) => ['m', value, description]),
    ...offerable(providers).map(({description, value}) => ['p', value, description]),
  ]
  return rows.map(row => `${row.join('\t')}\n`).join('')
}

export interface RefreshInput extends ConditionsInput {
  /** Where the cache goes: completionCacheFile(config.cacheDir). */
  file: string
  /** The providers, for model and provider names. */
  registry: ProviderRegistry
}

/**
 * Writes the cache atomically (a private temporary file renamed over it), 0600 in a 0700 directory
 * whatever the umask, after the store is closed (closing SQLite writes the database file, which would
 * make the cache older than it). Never throws: a cache that cannot be written is removed, and TAB
 * asks the hidden command.
 */
export function writeCompletionCache(input: RefreshInput, sessions: SessionSummary[]): boolean {
  const {file, registry, settings} = input
  try {
    const conditions = cacheConditions(input)
    const head = formatConditions(conditions)
    if (head === undefined) {
      rmSync(file, {force: true})
      return false
    }
    const models = modelCandidates(
      registry,
      {configured: settings.settings.provider.model, sessions: sessions.slice(0, CANDIDATE_LIMIT)},
      '',
      Number.POSITIVE_INFINITY,
    )
    const text = head + formatRows({models, providers: providerCandidates(registry), sessions})
    makePrivateDir(dirname(file))
    const temporary = writeTemporarySync(file, text)
    if (!newerThanAll(temporary, text, conditions)) {
      rmSync(temporary, {force: true})
      rmSync(file, {force: true})
      return false
    }
    replaceWithSync(temporary, file)
    return true
  } catch {
    try {
      rmSync(file, {force: true})
    } catch {
      // Nothing more to do: a script checks the head, and falls back.
    }
    return false
  }
}

/**
 * The scripts believe the cache only when it is strictly newer than what it depends on, so that a
 * write within the same clock tick as the cache (file times come from a clock that ticks every few
 * ms) counts as newer. The database was just written by closing it: wait for the tick to pass.
 */
function newerThanAll(temporary: string, text: string, conditions: CacheConditions): boolean {
  const watched = [...conditions.newer, ...conditions.maybe]
  const newest = () =>
    watched.reduce((max, path) => {
      try {
        const {mtimeNs} = statSync(path, {bigint: true})
        return mtimeNs > max ? mtimeNs : max
      } catch {
        return max
      }
    }, 0n)
  const deadline = Date.now() + 50
  while (statSync(temporary, {bigint: true}).mtimeNs <= newest()) {
    if (Date.now() > deadline) return false
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
    writeFileSync(temporary, text, {mode: 0o600})
  }
  return true
}

/**
 * Whether the cache, as the file holds it now, would be believed under these conditions (its head and
 * times). `storeOpen`: asked by a process that has the database open, whose own connection keeps the
 * -wal file (`maybe`), made at the open, until it closes; that file's time then says nothing, and a
 * -wal another writer leaves behind makes the scripts fall back.
 */
export function cacheIsCurrent(file: string, conditions: CacheConditions, {storeOpen = false} = {}): boolean {
  const head = formatConditions(conditions)
  if (head === undefined || !existsSync(file)) return false
  try {
    if (!readFileSync(file, 'utf8').startsWith(head)) return false
    const cache = statSync(file, {bigint: true}).mtimeNs
    const olderThanCache = (path: string) => statSync(path, {bigint: true}).mtimeNs < cache
    return (
      conditions.newer.every(path => exists(path) && olderThanCache(path)) &&
      (storeOpen || conditions.maybe.every(path => !exists(path) || olderThanCache(path)))
    )
  } catch {
    return false
  }
}

/** Methods of the SessionStore port that never change what completion offers. Any other one may. */
const READS = new Set<PropertyKey>(['backup', 'check', 'count', 'exists', 'get', 'lastExchange', 'latest', 'list', 'messages', 'migrations', 'search', 'usage'])

export interface KeepOptions extends Omit<RefreshInput, 'registry'> {
  /** The data changed before the store was handed over (retention deleted sessions). */
  changed: boolean
  /** The providers; read only when the cache is written. */
  registry: () => Promise<ProviderRegistry>
}

/**
 * The store, as a command sees it, with the completion cache kept current: when the command closes
 * it after a call that may have written (anything but READS), or when the cache is missing or out of
 * date, the sessions are listed once before the close and the cache is written after it. A failure
 * there costs the command nothing.
 */
export function keepCompletionCache(store: SessionStore, options: KeepOptions): SessionStore {
  let changed = options.changed
  const close = async () => {
    let sessions: SessionSummary[] | undefined
    try {
      if (changed || !cacheIsCurrent(options.file, cacheConditions(options), {storeOpen: true})) sessions = await store.list({limit: SESSION_SCAN_LIMIT})
    } catch {
      sessions = undefined
    }
    await store.close()
    if (!sessions) return
    try {
      writeCompletionCache({...options, registry: await options.registry()}, sessions)
    } catch {
      // As above: TAB falls back to the hidden command.
    }
  }
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'close') return close
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (!READS.has(key)) changed = true
        return value.apply(target, args)
      }
    },
  })
}

/** Opens nothing: for the init hook, the cache file and the providers of the running CLI. */
export function completionCacheOptions(
  config: Interfaces.Config,
  settings: LoadedConfig,
  database: string,
  options: {changed?: boolean; cwd?: string; env?: NodeJS.ProcessEnv} = {},
): KeepOptions {
  return {
    changed: options.changed ?? false,
    config,
    cwd: options.cwd ?? process.cwd(),
    database,
    env: options.env ?? process.env,
    file: completionCacheFile(config.cacheDir),
    registry: async () => (await (await import('../plugins/extensions.js')).loadProviderRegistry(config)).registry,
    settings,
  }
}
