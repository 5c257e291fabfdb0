import {homedir} from 'node:os'
import {isAbsolute, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ConfigError, SynapseError} from '../core/errors.js'
import type {SessionStore, StoreOptions} from './session-store.js'

export interface OpenStoreOptions extends StoreOptions {
  busyTimeoutMs?: number
  /** Relative file paths resolve against this; default process.cwd(). */
  cwd?: string
  /** Apply pending migrations on open (default true). */
  migrate?: boolean
  /**
   * Open for reading only, creating and changing nothing: used when the database cannot be written
   * (locked, read-only, full) and a command can still do with its contents. A backend whose
   * ordinary open writes nothing but migrations (given `migrate: false`) may ignore it.
   */
  readOnly?: boolean
}

/**
 * A storage backend: which URL schemes it serves and how to open a store for one. The SQLite
 * backend is built in; plugins add more through the same descriptor.
 */
export interface StorageBackend {
  description: string
  name: string
  open(url: string, options: OpenStoreOptions): Promise<SessionStore>
  /** Lower-case URL schemes without the colon: ["postgres", "postgresql"]. */
  schemes: string[]
}

/** Schemes that a known plugin serves, for the error that tells a user what to install. */
const PLUGIN_FOR_SCHEME: Record<string, string> = {
  file: '@synapse-cli/storage-filesystem',
  postgres: '@synapse-cli/storage-postgres',
  postgresql: '@synapse-cli/storage-postgres',
  redis: '@synapse-cli/storage-redis',
  rediss: '@synapse-cli/storage-redis',
}

export const sqliteBackend: StorageBackend = {
  description: 'SQLite file (built in)',
  name: 'sqlite',
  async open(url, options) {
    const {openSqliteStore} = await import('./typeorm/sqlite.js')
    return openSqliteStore({...options, path: sqlitePathOf(url, options.cwd)})
  },
  schemes: ['sqlite'],
}

/**
 * What a storage URL means for SQLite: `:memory:`, a plain path (absolute, `~/` for the home
 * directory, or relative to cwd), or a `sqlite:` URL (`sqlite:///abs/file.db`, `sqlite:relative.db`,
 * `sqlite:~/file.db`, `sqlite::memory:`).
 */
export function sqlitePathOf(url: string, cwd: string = process.cwd(), home: string = homedir()): string {
  if (url === ':memory:' || url === 'sqlite::memory:' || url === 'sqlite://:memory:') return ':memory:'
  let path = url
  if (/^sqlite:\/\//i.test(url)) path = fileURLToPath(`file://${url.slice('sqlite://'.length)}`)
  else if (/^sqlite:/i.test(url)) path = url.slice('sqlite:'.length)
  // A shell expands ~ only where it stands unquoted; from a config file or a quoted variable it
  // arrives as it is, and would otherwise become a directory named "~".
  if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1))
  if (path.startsWith('~')) {
    throw new ConfigError(`The database path ${path} starts with "~user", which synapse does not expand.`, {
      suggestions: ['Write the full path, or ~/ for your own home directory.'],
    })
  }
  return isAbsolute(path) ? path : join(cwd, path)
}

/** The URL scheme, or undefined for a plain path (Windows drive letters count as paths). */
export function schemeOf(url: string): string | undefined {
  if (url === ':memory:') return undefined
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url)
  if (!match || match[1].length === 1) return undefined
  return match[1].toLowerCase()
}

export class StorageBackends {
  private readonly byScheme = new Map<string, StorageBackend>()

  constructor(backends: StorageBackend[] = [sqliteBackend]) {
    for (const backend of backends) this.register(backend)
  }

  /** The backend for a URL; plain paths are SQLite files. Throws UNKNOWN_STORAGE_SCHEME. */
  for(url: string): StorageBackend {
    const scheme = schemeOf(url) ?? 'sqlite'
    const backend = this.byScheme.get(scheme)
    if (backend) return backend
    const plugin = PLUGIN_FOR_SCHEME[scheme]
    throw new SynapseError('UNKNOWN_STORAGE_SCHEME', `No storage backend handles "${scheme}:" URLs (known: ${[...this.byScheme.keys()].join(', ')}).`, {
      suggestions: [
        plugin
          ? `Install the plugin that provides it: synapse plugins install ${plugin}`
          : 'Install a storage plugin that provides it: synapse plugins install <package>',
        'Or unset DATABASE_URL / [storage] url to use the built-in SQLite file.',
      ],
    })
  }

  list(): StorageBackend[] {
    return [...new Set(this.byScheme.values())]
  }

  /** Later registrations of a scheme replace earlier ones. */
  register(backend: StorageBackend): void {
    for (const scheme of backend.schemes) this.byScheme.set(scheme.toLowerCase(), backend)
  }
}

export async function openStore(url: string, options: OpenStoreOptions = {}, backends = new StorageBackends()): Promise<SessionStore> {
  return backends.for(url).open(url, options)
}
