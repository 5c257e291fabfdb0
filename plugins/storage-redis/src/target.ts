import {ConfigError, checkedName, connectionTarget} from 'synapse-cli'

/** Where a store connects and which keys it owns, worked out from the storage URL before any network use. */
export type RedisTarget = ReturnType<typeof redisTarget>

const FORMS = 'Write it as redis://[user:password@]host:6379/0?prefix=synapse (rediss:// for TLS; percent-encode special characters in the password).'
// Printable, no spaces or quotes: the prefix shows up in `redis-cli --scan --pattern` lines users type.
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/
export const DEFAULT_PREFIX = 'synapse'

export function redisTarget(url: string) {
  const form = {example: FORMS, parameters: ['prefix', 'connect_timeout'], product: 'Redis', schemes: ['redis', 'rediss']}
  const {url: parsed, ...target} = connectionTarget(url, form)
  const invalid = (why: string) => new ConfigError(`The storage URL ${target.location} ${why}.`, {suggestions: [FORMS]})
  if (!parsed.hostname) throw invalid('names no host')
  const path = parsed.pathname.replace(/^\//, '')
  if (!/^\d{0,5}$/.test(path)) throw invalid(`names database "${path}"; the path is a database number`)
  const remedy = 'Use 1 to 64 letters, digits and . _ : - (for example ?prefix=synapse or ?prefix=team.chat).'
  const prefix = checkedName(parsed.searchParams.get('prefix') ?? DEFAULT_PREFIX, PREFIX, 'a key prefix', remedy)
  return {
    ...target,
    /** 0 to 15 on a default server (its `databases` setting). */
    database: path === '' ? 0 : Number(path),
    // [::1] as the URL writes it; the socket wants the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 6379,
    /** Every key the store writes starts with this, e.g. "synapse:". */
    prefix: prefix.endsWith(':') ? prefix : `${prefix}:`,
    tls: parsed.protocol === 'rediss:',
  }
}
