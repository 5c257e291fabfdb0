import {ClientClosedError, ClientOfflineError, ConnectionTimeoutError, SocketClosedUnexpectedlyError} from '@redis/client'
import {type ConnectionErrorDialect, describeConnectionError, type ServerRefusal} from 'synapse-cli'

import type {RedisTarget} from './target.js'

// Redis starts a refusal with a word of its own (WRONGPASS, NOPERM, OOM...): what it says, and what to do about it.
const REFUSALS: Array<[RegExp, ServerRefusal]> = [
  [
    /^(WRONGPASS|NOAUTH)\b|AUTH.*(without any password|invalid password)/i,
    {remedies: ['Check the user name and password in the URL against the server’s ACL (ACL LIST) or requirepass.'], says: 'refused the login'},
  ],
  [
    /^NOPERM\b/,
    {remedies: ['Allow the ACL user the commands and keys the plugin README lists (~<prefix>* +@read +@write +@scripting).'], says: 'denied a command'},
  ],
  [
    /DB index is out of range/i,
    {remedies: ['Use a database number below the server’s "databases" setting (0 to 15 by default).'], says: 'has no such database'},
  ],
  [/^OOM\b/, {remedies: ['Raise maxmemory, prune old sessions (synapse sessions prune), or give synapse a server of its own.'], says: 'is out of memory'}],
  [/^READONLY\b/, {remedies: ['Point the URL at the primary.'], says: 'is a read-only replica'}],
  [/^MISCONF\b/, {remedies: ['Check the server’s log and its dir/appendonly settings.'], says: 'refuses writes because it cannot persist'}],
  [/^(LOADING|BUSY)\b/, {busy: true, remedies: ['Try again in a moment.'], says: 'is busy'}],
]

const REDIS: ConnectionErrorDialect = {
  networkFailure(error, _code, reason) {
    if (error instanceof ConnectionTimeoutError) return 'timeout'
    const closed = [SocketClosedUnexpectedlyError, ClientClosedError, ClientOfflineError].some(type => error instanceof type)
    return closed ? 'lost' : /SSL|TLS|certificate/i.test(reason) ? 'tls' : undefined
  },
  product: 'Redis',
  refusal: (_code, reason) => REFUSALS.find(([pattern]) => pattern.test(reason))?.[1],
  remedies: {
    lost: ['Try again; check the server’s log if it keeps happening (a TLS server reached with redis:// closes the connection too).'],
    refused: ['Check that redis-server is running and listens on that host and port.'],
    timeout: ['Check the host, port, firewall and whether the server expects TLS (rediss://); raise ?connect_timeout=<seconds> for a slow network.'],
    tls: ['Check that the server speaks TLS (rediss://) and that its certificate is trusted (NODE_EXTRA_CA_CERTS).'],
  },
}

/** Redis's and the network's failures as errors a user can act on (core's `describeConnectionError`). */
export function describeRedisError(error: unknown, target: RedisTarget): unknown {
  return describeConnectionError(error, target, REDIS)
}
