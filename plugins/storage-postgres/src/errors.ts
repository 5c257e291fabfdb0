import {InvalidInputError, StorageUnavailableError, SynapseError, scrubSecret} from 'synapse-cli'

import type {PostgresTarget} from './target.js'

/** What pg and Node report: a server error (SQLSTATE `code`) or a socket error (`code` like ECONNREFUSED). */
interface DriverError {
  code?: string
  detail?: string
  errors?: unknown[]
  message?: string
  table?: string
}

/** The error pg raised, unwrapped from TypeORM's QueryFailedError and Node's AggregateError. */
export function driverErrorOf(error: unknown): DriverError {
  let current = (error ?? {}) as DriverError & {driverError?: unknown}
  if (current.driverError) current = current.driverError as DriverError
  if (!current.code && Array.isArray(current.errors) && current.errors.length > 0) current = current.errors[0] as DriverError
  return current
}

/** SQLSTATEs after which running the whole transaction again can succeed. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof SynapseError) return false
  const {code} = driverErrorOf(error)
  // serialization_failure, deadlock_detected, and unique_violation: a row another process inserted
  // meanwhile, which the store's own check reports properly on the next try.
  return code === '40001' || code === '40P01' || code === '23505'
}

/**
 * PostgreSQL's and the network's failures as errors a user can act on: one line, naming the server
 * by its URL with the password removed. Anything unrecognised is returned as it was.
 */
export function describePostgresError(error: unknown, target: PostgresTarget, lockTimeoutMs: number): unknown {
  if (error instanceof SynapseError) return error
  const driverError = driverErrorOf(error)
  const code = driverError.code ?? ''
  // Server errors carry a five-character SQLSTATE; the message-based tests below are for the rest.
  const fromServer = /^[0-9A-Z]{5}$/.test(code) && code !== 'EPIPE'
  const reason = scrubSecret(firstLine(driverError.message ?? String(error)), target.password)
  const at = `PostgreSQL at ${target.location}`
  const unavailable = (message: string, suggestions: string[]) => new StorageUnavailableError(message, {cause: error, suggestions})
  const otherwise = 'Or unset DATABASE_URL / [storage] url to use the built-in SQLite file.'

  if (code === '23505') {
    const id = /\(id\)=\(([^)]*)\)/.exec(driverError.detail ?? '')?.[1]
    if (id && driverError.table === 'sessions') return new InvalidInputError(`A session with the id ${id} already exists.`, {cause: error})
    if (id && driverError.table === 'messages') return new InvalidInputError(`A message with the id ${id} already exists.`, {cause: error})
    return error
  }
  if (code === '55P03' || code === '40P01' || code === '40001') {
    return new SynapseError('STORAGE_BUSY', `The session database at ${target.location} stayed locked by another process for ${lockTimeoutMs / 1000} s.`, {
      cause: error,
      suggestions: ['Try again; if it keeps happening, look for a stuck session in pg_stat_activity (state "idle in transaction").'],
    })
  }
  if (code === 'ECONNREFUSED')
    return unavailable(`Cannot connect to ${at}: connection refused.`, ['Check that the server is running and listens on that host and port.', otherwise])
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return unavailable(`Cannot connect to ${at}: unknown host.`, ['Check the host name in the URL.', otherwise])
  if (code === 'ETIMEDOUT' || (!fromServer && /timeout/i.test(reason))) {
    return unavailable(`Cannot connect to ${at}: no answer in time (${reason}).`, [
      'Check the host, port and any firewall; raise ?connect_timeout=<seconds> for a slow network.',
      otherwise,
    ])
  }
  if (code === '28P01' || code === '28000' || (!fromServer && /password|SASL|SCRAM/i.test(reason))) {
    return unavailable(`${at} refused the login: ${reason}.`, ['Check the user name and password in the URL (or ~/.pgpass) and the server’s pg_hba.conf.'])
  }
  if (code === '3D000') return unavailable(`${at} has no such database: ${reason}.`, ['Create it (createdb <name>) or fix the database name in the URL.'])
  if (code === '42501') {
    return unavailable(`${at} denied access: ${reason}.`, [
      'Grant the user USAGE and CREATE on the schema, and SELECT, INSERT, UPDATE, DELETE on its tables (see the plugin README).',
    ])
  }
  if (code === '42P01') return unavailable(`The session tables are missing at ${target.location}: ${reason}.`, ['Run "synapse db migrate".'])
  if (code === '53300' || code === '57P03') return unavailable(`${at} accepts no more connections now: ${reason}.`, ['Try again shortly.'])
  if (code === 'ECONNRESET' || code === 'EPIPE' || code.startsWith('08') || code.startsWith('57P') || /Connection terminated/i.test(reason)) {
    return unavailable(`Lost the connection to ${at}: ${reason}.`, ['Try again; check the server’s log if it keeps happening.'])
  }
  if (!fromServer && /SSL|TLS|certificate/i.test(reason))
    return unavailable(`Cannot connect to ${at}: ${reason}.`, ['Check the sslmode and certificate parameters in the URL.'])
  return error
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/\.$/, '')
}
