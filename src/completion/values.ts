import type {Interfaces} from '@oclif/core'
import {existsSync} from 'node:fs'

import {storageUrl} from '../cli/open.js'
import {type LoadedConfig, loadConfig} from '../config/index.js'
import {loadProviderRegistry, loadStorageBackends} from '../plugins/extensions.js'
import {sqlitePathOf} from '../store/backends.js'
import type {SessionStore} from '../store/session-store.js'
import {completionCacheOptions, keepCompletionCache} from './cache.js'
import {type Candidate, CANDIDATE_LIMIT, modelCandidates, offerable, providerCandidates, sessionCandidates, type ValueKind} from './candidates.js'

/** A TAB must not wait for a writer's lock: reads in WAL mode rarely need one, and then we give up. */
const BUSY_TIMEOUT_MS = 200

export interface ValuesOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  prefix?: string
}

/**
 * The candidates for one kind of value, from the same configuration, plugins and database a command
 * run from here would use. Only reads: no migration, no retention, and no database is created where
 * there is none. Plugin warnings are dropped; failures are thrown and left to the caller, which in a
 * completion prints nothing.
 */
export async function completionValues(config: Interfaces.Config, kind: ValueKind, options: ValuesOptions = {}): Promise<Candidate[]> {
  return offerable(await candidatesOf(config, kind, options))
}

async function candidatesOf(config: Interfaces.Config, kind: ValueKind, options: ValuesOptions): Promise<Candidate[]> {
  const env = options.env ?? process.env
  const prefix = options.prefix ?? ''
  switch (kind) {
    case 'models': {
      const [settings, {registry}] = await Promise.all([loadConfig({cwd: options.cwd, env}), loadProviderRegistry(config)])
      // Saved sessions add the models someone actually used (a local server's, say); a database that
      // cannot be read only costs those.
      const sessions = await withStore(config, {cwd: options.cwd, env, settings}, store => store.list({limit: CANDIDATE_LIMIT})).catch(() => undefined)
      return modelCandidates(registry, {configured: settings.settings.provider.model, sessions}, prefix)
    }

    case 'providers': {
      const {registry} = await loadProviderRegistry(config)
      return providerCandidates(registry, prefix)
    }

    case 'sessions': {
      return (await withStore(config, {cwd: options.cwd, env}, store => sessionCandidates(store, prefix))) ?? []
    }
  }
}

/** Runs `work` on the configured store, or returns undefined when the SQLite file does not exist. */
async function withStore<T>(
  config: Interfaces.Config,
  options: {cwd?: string; env: NodeJS.ProcessEnv; settings?: LoadedConfig},
  work: (store: SessionStore) => Promise<T>,
): Promise<T | undefined> {
  const [settings, {backends}] = await Promise.all([options.settings ?? loadConfig({cwd: options.cwd, env: options.env}), loadStorageBackends(config)])
  const url = storageUrl(settings, options.env)
  const backend = backends.for(url)
  const database = backend.name === 'sqlite' ? sqlitePathOf(url, options.cwd) : undefined
  if (database !== undefined && !existsSync(database)) return undefined
  const opened = await backend.open(url, {busyTimeoutMs: BUSY_TIMEOUT_MS, cwd: options.cwd, migrate: false})
  // The TAB that found the cache out of date leaves it current for the next one.
  const store =
    database && database !== ':memory:'
      ? keepCompletionCache(opened, completionCacheOptions(config, settings, database, {cwd: options.cwd, env: options.env}))
      : opened
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
