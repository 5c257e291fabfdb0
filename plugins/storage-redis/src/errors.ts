import {ClientClosedError, ClientOfflineError, ConnectionTimeoutError, SocketClosedUnexpectedlyError} from '@redis/client'
import {StorageUnavailableError, SynapseError, scrubSecret} from 'synapse-cli'

import type {RedisTarget} from './target.js'

/**
 * Redis's and the network's failures as errors a user can act on: one line, naming the server by
 * its URL with the password removed. Anything unrecognised is returned as it was.
 */
export function describeRedisError(error: unknown, target: RedisTarget): unknown {
  if (error instanceof SynapseError) return error
  const {code = '', message = String(error)} = (error ?? {}) as {code?: string; message?: string}
  const reason = scrubSecret(message.split('\n')[0].replace(/\.$/, ''), target.password)
  const at = `Redis at ${target.location}`
  const unavailable = (text: string, suggestions: string[]) => new StorageUnavailableError(text, {cause: error, suggestions})
  const otherwise = 'Or unset DATABASE_URL / [storage] url to use the built-in SQLite file.'

  if (code === 'ECONNREFUSED')
    return unavailable(`Cannot connect to ${at}: connection refused.`, ['Check that redis-server is running and listens on that host and port.', otherwise])
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return unavailable(`Cannot connect to ${at}: unknown host.`, ['Check the host name in the URL.', otherwise])
  if (code === 'ETIMEDOUT' || error instanceof ConnectionTimeoutError) {
    return unavailable(`Cannot connect to ${at}: no answer in time.`, [
      'Check the host, port, firewall and whether the server expects TLS (rediss://); raise ?connect_timeout=<seconds> for a slow network.',
      otherwise,
    ])
  }
  if (/^(WRONGPASS|NOAUTH)\b/.test(reason) || /AUTH.*(without any password|invalid password)/i.test(reason)) {
    return unavailable(`${at} refused the login: ${reason}.`, [
      'Check the user name and password in the URL against the server’s ACL (ACL LIST) or requirepass.',
    ])
  }
  if (/^NOPERM\b/.test(reason))
    return unavailable(`${at} denied a command: ${reason}.`, [
      'Allow the ACL user the commands and keys the plugin README lists (~<prefix>* +@read +@write +@scripting).',
    ])
  if (/DB index is out of range/i.test(reason))
    return unavailable(`${at} has no such database: ${reason}.`, ['Use a database number below the server’s "databases" setting (0 to 15 by default).'])
  if (/^OOM\b/.test(reason))
    return unavailable(`${at} is out of memory: ${reason}.`, [
      'Raise maxmemory, prune old sessions (synapse sessions prune), or give synapse a server of its own.',
    ])
  if (/^READONLY\b/.test(reason)) return unavailable(`${at} is a read-only replica: ${reason}.`, ['Point the URL at the primary.'])
  if (/^MISCONF\b/.test(reason))
    return unavailable(`${at} refuses writes because it cannot persist: ${reason}.`, ['Check the server’s log and its dir/appendonly settings.'])
  if (/^(LOADING|BUSY)\b/.test(reason)) {
    return new SynapseError('STORAGE_BUSY', `${at} is busy: ${reason}.`, {cause: error, suggestions: ['Try again in a moment.']})
  }
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ClientClosedError ||
    error instanceof ClientOfflineError
  ) {
    return unavailable(`Lost the connection to ${at}: ${reason}.`, [
      'Try again; check the server’s log if it keeps happening (a TLS server reached with redis:// closes the connection too).',
      otherwise,
    ])
  }
  if (/SSL|TLS|certificate/i.test(reason))
    return unavailable(`Cannot connect to ${at}: ${reason}.`, [
      'Check that the server speaks TLS (rediss://) and that its certificate is trusted (NODE_EXTRA_CA_CERTS).',
    ])
  return error
}
