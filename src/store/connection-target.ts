/**
 * What the backends of network servers (PostgreSQL, Redis) share about their storage URL and their
 * failures: the URL read the same way before anything touches the network, and a driver's error
 * turned into one line a user can act on, naming the server by its URL with the password removed.
 * Each backend adds only what is its own: its parameters, and what its server's replies mean.
 */
import {ConfigError, StorageUnavailableError, SynapseError} from '../core/errors.js'
import {redactUrl, scrubSecret} from '../core/redact.js'

/** Where a store connects, as far as every network backend reads its URL. */
export interface ConnectionTarget {
  /** Milliseconds: the caller's, else the URL's libpq-style `connect_timeout` (seconds), else 10 s. */
  connectTimeoutMs: number
  /** The URL as given, password replaced by "***": the only form that reaches a message. */
  location: string
  /** Empty when the URL has none; messages are scrubbed of it as a second line of defence. */
  password: string
  /** The URL as parsed, for what only one backend reads (a database number, a schema). */
  url: URL
  /** Percent-decoded; empty when the URL has none. */
  username: string
}

/** What a backend accepts as its URL, and how it tells a user to write one. */
export interface ConnectionUrlForm {
  /** How to write the URL: the remedy under every refusal of it. */
  example: string
  /** Query parameters the backend reads; any other is refused. Undefined: all pass (to a driver that reads them). */
  parameters?: string[]
  /** How messages name the server: "PostgreSQL", "Redis". */
  product: string
  /** Lower-case schemes without the colon; undefined: any (the backend router chose this backend already). */
  schemes?: string[]
}

/** Reads a storage URL; throws CONFIG_INVALID, with the password masked, for one the backend cannot use. */
export function connectionTarget(url: string, form: ConnectionUrlForm, options: {connectTimeoutMs?: number} = {}): ConnectionTarget {
  const location = redactUrl(url)
  const invalid = (why: string) => new ConfigError(`The storage URL ${location} ${why}.`, {suggestions: [form.example]})
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw invalid(`is not a valid ${form.product} URL`)
  }
  if (form.schemes && !form.schemes.includes(parsed.protocol.slice(0, -1))) throw invalid(`is not a ${form.schemes.map(s => `${s}://`).join(' or ')} URL`)
  for (const name of form.parameters ? parsed.searchParams.keys() : []) {
    if (!form.parameters!.includes(name)) throw invalid(`has the parameter "${name}", which synapse does not know (it knows ${form.parameters!.join(' and ')})`)
  }
  const timeoutSeconds = Number(parsed.searchParams.get('connect_timeout'))
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? (timeoutSeconds > 0 ? timeoutSeconds * 1000 : 10_000),
    location,
    password: decoded(parsed.password),
    url: parsed,
    username: decoded(parsed.username),
  }
}

/**
 * `name` (a schema, a key prefix) if `pattern` accepts it, else CONFIG_INVALID: such names reach SQL
 * or key patterns unquoted, so the pattern is the whole defence. `what` names it: "a schema name".
 */
export function checkedName(name: string, pattern: RegExp, what: string, remedy: string): string {
  if (!pattern.test(name)) throw new ConfigError(`"${name}" is not ${what} synapse accepts.`, {suggestions: [remedy]})
  return name
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

// ---- Failures -------------------------------------------------------------------------------------

/** Failures of reaching a server, which every network backend meets and words the same way. */
export type NetworkFailure = 'lost' | 'refused' | 'timeout' | 'tls' | 'unknownHost'

/** A refusal in the server's own words, shown as "<product> at <url> <says>: <reason>.". */
export interface ServerRefusal {
  /** A state that passes (a server loading its data, a busy script): STORAGE_BUSY instead of STORAGE_UNAVAILABLE. */
  busy?: boolean
  remedies: string[]
  /** "refused the login", "has no such database", "is out of memory". */
  says: string
}

/** How one backend's driver reports failures: the part of `describeConnectionError` that is its own. */
export interface ConnectionErrorDialect {
  /** A network failure the socket's code does not tell (a driver's own error class or wording). */
  networkFailure?(error: unknown, code: string, reason: string): NetworkFailure | undefined
  product: string
  /** The remedies for each network failure (an unknown host has its own); the way back to SQLite is added where it helps. */
  remedies: Record<Exclude<NetworkFailure, 'unknownHost'>, string[]>
  /** What the server's reply means, when it is a refusal a user can act on. */
  refusal(code: string, reason: string): ServerRefusal | undefined
}

const SOCKET_CODES: Record<string, NetworkFailure> = {
  EAI_AGAIN: 'unknownHost',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'lost',
  ENOTFOUND: 'unknownHost',
  EPIPE: 'lost',
  ETIMEDOUT: 'timeout',
}
const OTHERWISE = 'Or unset DATABASE_URL / [storage] url to use the built-in SQLite file.'

/**
 * A driver's failure as an error a user can act on: one line, naming the server by its URL with the
 * password removed; `driverError` is the error's code and message where the driver wraps them.
 * A SynapseError passes through; anything unrecognised is returned as it was.
 */
export function describeConnectionError(
  error: unknown,
  target: Pick<ConnectionTarget, 'location' | 'password'>,
  dialect: ConnectionErrorDialect,
  driverError: {code?: string; message?: string} = (error ?? {}) as never,
): unknown {
  if (error instanceof SynapseError) return error
  const code = driverError.code ?? ''
  const reason = scrubSecret((driverError.message ?? String(error)).split('\n')[0].replace(/\.$/, ''), target.password)
  const at = `${dialect.product} at ${target.location}`
  const refusal = dialect.refusal(code, reason)
  if (refusal) {
    const message = `${at} ${refusal.says}: ${reason}.`
    const options = {cause: error, suggestions: refusal.remedies}
    return refusal.busy ? new SynapseError('STORAGE_BUSY', message, options) : new StorageUnavailableError(message, options)
  }
  const failure = SOCKET_CODES[code] ?? dialect.networkFailure?.(error, code, reason)
  if (!failure) return error
  const messages: Record<NetworkFailure, string> = {
    lost: `Lost the connection to ${at}: ${reason}.`,
    refused: `Cannot connect to ${at}: connection refused.`,
    timeout: `Cannot connect to ${at}: no answer in time (${reason}).`,
    tls: `Cannot connect to ${at}: ${reason}.`,
    unknownHost: `Cannot connect to ${at}: unknown host.`,
  }
  if (failure === 'tls') return new StorageUnavailableError(messages.tls, {cause: error, suggestions: dialect.remedies.tls})
  const suggestions = [...(failure === 'unknownHost' ? ['Check the host name in the URL.'] : dialect.remedies[failure]), OTHERWISE]
  return new StorageUnavailableError(messages[failure], {cause: error, suggestions})
}
