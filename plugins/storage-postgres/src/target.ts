import {checkedName, connectionTarget} from 'synapse-cli'

/** Where a store connects, worked out from the storage URL before anything touches the network. */
export interface PostgresTarget {
  /** What pg connects with: the URL without `schema`, with the search path and lock timeout added. */
  connectionUrl: string
  connectTimeoutMs: number
  /** The URL as given, password replaced by "***": the only form that reaches a message. */
  location: string
  /** Empty when the URL has none; messages are scrubbed of it as a second line of defence. */
  password: string
  /** Undefined: the server's default (the first existing schema of the user's search_path). */
  schema?: string
}

export interface TargetOptions {
  /** Milliseconds; default 10 s, or the URL's libpq-style `connect_timeout` (seconds). */
  connectTimeoutMs?: number
  /** How long a statement waits for a row another process has locked; default 5 s. */
  lockTimeoutMs?: number
  /** Wins over `?schema=` in the URL. */
  schema?: string
}

// Lower-case identifiers only: they need no quoting in SQL or in the search_path startup option,
// and PostgreSQL folds unquoted names to lower case anyway.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function postgresTarget(url: string, options: TargetOptions = {}): PostgresTarget {
  // Every other parameter is pg's (sslmode, options...): it passes through.
  const target = connectionTarget(
    url,
    {example: 'Write it as postgres://user:password@host:5432/database (percent-encode special characters in the password).', product: 'PostgreSQL'},
    options,
  )
  const parsed = target.url
  const named = options.schema ?? (parsed.searchParams.get('schema') || undefined)
  const schema =
    named === undefined
      ? undefined
      : checkedName(named, SCHEMA_NAME, 'a schema name', 'Use lower-case letters, digits and underscores, starting with a letter or underscore (at most 63).')
  parsed.searchParams.delete('schema')
  // Session settings travel in the startup packet, so every pooled connection has them from the start.
  const settings = [parsed.searchParams.get('options') ?? '', `-c lock_timeout=${Math.max(1, Math.round(options.lockTimeoutMs ?? 5000))}`]
  if (schema) settings.push(`-c search_path=${schema}`)
  parsed.searchParams.set('options', settings.join(' ').trim())
  return {connectTimeoutMs: target.connectTimeoutMs, connectionUrl: parsed.toString(), location: target.location, password: target.password, schema}
}
