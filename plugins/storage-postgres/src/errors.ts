import {type ConnectionErrorDialect, describeConnectionError, InvalidInputError, StorageUnavailableError, SynapseError, scrubSecret} from 'synapse-cli'

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

// Server errors carry a five-character SQLSTATE; the tests of wording are for pg's and Node's own.
const fromServer = (code: string) => /^[0-9A-Z]{5}$/.test(code) && code !== 'EPIPE'

const POSTGRES: ConnectionErrorDialect = {
  networkFailure(_error, code, reason) {
    if (fromServer(code) && !code.startsWith('08') && !code.startsWith('57P')) return undefined
    if (!fromServer(code) && /timeout/i.test(reason)) return 'timeout'
    if (fromServer(code) || /Connection terminated/i.test(reason)) return 'lost'
    return /SSL|TLS|certificate/i.test(reason) ? 'tls' : undefined
  },
  product: 'PostgreSQL',
  refusal(code, reason) {
    if (code === '28P01' || code === '28000' || (!fromServer(code) && /password|SASL|SCRAM/i.test(reason)))
      return {remedies: ['Check the user name and password in the URL (or ~/.pgpass) and the server’s pg_hba.conf.'], says: 'refused the login'}
    if (code === '3D000') return {remedies: ['Create it (createdb <name>) or fix the database name in the URL.'], says: 'has no such database'}
    if (code === '42501') {
      const remedy = 'Grant the user USAGE and CREATE on the schema, and SELECT, INSERT, UPDATE, DELETE on its tables (see the plugin README).'
      return {remedies: [remedy], says: 'denied access'}
    }
    if (code === '53300' || code === '57P03') return {remedies: ['Try again shortly.'], says: 'accepts no more connections now'}
    return undefined
  },
  remedies: {
    lost: ['Try again; check the server’s log if it keeps happening.'],
    refused: ['Check that the server is running and listens on that host and port.'],
    timeout: ['Check the host, port and any firewall; raise ?connect_timeout=<seconds> for a slow network.'],
    tls: ['Check the sslmode and certificate parameters in the URL.'],
  },
}

/**
 * PostgreSQL's and the network's failures as errors a user can act on (core's
 * `describeConnectionError`), and the two that are not about the connection: an id taken, a lock
 * held too long. Anything unrecognised is returned as it was.
 */
export function describePostgresError(error: unknown, target: PostgresTarget, lockTimeoutMs: number): unknown {
  const driverError = driverErrorOf(error)
  const code = driverError.code ?? ''
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
  if (code === '42P01') {
    const reason = scrubSecret(String(driverError.message).replace(/\.$/, ''), target.password)
    return new StorageUnavailableError(`The session tables are missing at ${target.location}: ${reason}.`, {
      cause: error,
      suggestions: ['Run "synapse db migrate".'],
    })
  }
  return describeConnectionError(error, target, POSTGRES, driverError)
}
