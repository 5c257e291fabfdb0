import {ConfigError, redactUrl} from 'synapse-cli'

/** Where a store connects and which keys it owns, worked out from the storage URL before any network use. */
export interface RedisTarget {
  connectTimeoutMs: number
  /** 0 to 15 on a default server (its `databases` setting). */
  database: number
  host: string
  /** The URL as given, password replaced by "***": the only form that reaches a message. */
  location: string
  /** Empty when the URL has none; messages are scrubbed of it as a second line of defence. */
  password: string
  port: number
  /** Every key the store writes starts with this, e.g. "synapse:". */
  prefix: string
  tls: boolean
  username: string
}

export interface RedisTargetOptions {
  /** Milliseconds; default 10 s, or the URL's `connect_timeout` (seconds). */
  connectTimeoutMs?: number
  /** Wins over `?prefix=` in the URL. */
  prefix?: string
}

const FORMS = 'Write it as redis://[user:password@]host:6379/0?prefix=synapse (rediss:// for TLS; percent-encode special characters in the password).'
// Printable, no spaces or quotes: the prefix shows up in `redis-cli --scan --pattern` lines users type.
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/
export const DEFAULT_PREFIX = 'synapse'

export function redisTarget(url: string, options: RedisTargetOptions = {}): RedisTarget {
  const location = redactUrl(url)
  const invalid = (why: string) => new ConfigError(`The storage URL ${location} ${why}.`, {suggestions: [FORMS]})
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw invalid('is not a valid Redis URL')
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalid('is not a redis:// or rediss:// URL')
  if (!parsed.hostname) throw invalid('names no host')

  const path = parsed.pathname.replace(/^\//, '')
  if (!/^\d{0,5}$/.test(path)) throw invalid(`names database "${decodeURIComponent(path)}"; the path is a database number`)
  for (const name of parsed.searchParams.keys()) {
    if (name !== 'prefix' && name !== 'connect_timeout')
      throw invalid(`has the parameter "${name}", which synapse does not know (it knows prefix and connect_timeout)`)
  }

  const prefix = options.prefix ?? parsed.searchParams.get('prefix') ?? DEFAULT_PREFIX
  if (!PREFIX.test(prefix)) {
    throw new ConfigError(`"${prefix}" is not a key prefix synapse accepts.`, {
      suggestions: ['Use 1 to 64 letters, digits and . _ : - (for example ?prefix=synapse or ?prefix=team.chat).'],
    })
  }
  const timeoutSeconds = Number(parsed.searchParams.get('connect_timeout'))
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? (timeoutSeconds > 0 ? timeoutSeconds * 1000 : 10_000),
    database: path === '' ? 0 : Number(path),
    // [::1] as the URL writes it; the socket wants the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    location,
    password: decoded(parsed.password),
    port: parsed.port ? Number(parsed.port) : 6379,
    prefix: prefix.endsWith(':') ? prefix : `${prefix}:`,
    tls: parsed.protocol === 'rediss:',
    username: decoded(parsed.username),
  }
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
