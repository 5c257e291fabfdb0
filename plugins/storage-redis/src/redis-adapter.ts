import {ConnectionTimeoutError, createClient, type RedisClientType} from '@redis/client'
import {once} from 'node:events'
import type {
  Message,
  AppendOptions,
  MessagePatch,
  Missing,
  RestoreConflict,
  Session,
  SessionPatch,
  SessionSnapshot,
  StorageAdapter,
  StoredSummary,
  StoreOptions,
  UnplacedMessage,
} from 'synapse-cli'
import {fieldFromText, messageFromText, messageText, SessionStore, sessionFields, sessionFromFields} from 'synapse-cli'

import {describeRedisError} from './errors.js'
import * as scripts from './scripts.js'
import {type RedisTarget, redisTarget} from './target.js'

/** A change to a stored message: its id and the fields that change. */
type Change = [id: string, fields: Partial<Message>]
/** What the `writeMessages` script answers: the first new position and each changed record as written, or what is missing. */
type Written = ['missing', Missing['missing']] | ['ok', number, ...string[]]

export interface RedisAdapterOptions {
  /** redis:// or rediss://, with the database, key prefix and connect timeout it names (README: the URL). */
  url: string
}

/** A SessionStore over Redis: connects, and reports an unreachable or refusing server as STORAGE_UNAVAILABLE. */
export async function openRedisStore(options: RedisAdapterOptions & StoreOptions): Promise<SessionStore> {
  return new SessionStore(await RedisStorageAdapter.open(options), {clock: options.clock})
}

/**
 * Sessions in Redis (see README: key layout). Every write is one Lua script, atomic on the server;
 * reads are single commands. The connection is opened once and never shared.
 */
export class RedisStorageAdapter implements StorageAdapter {
  readonly backend = 'redis'
  readonly freshRecords = true

  private constructor(
    private readonly client: RedisClientType,
    readonly target: RedisTarget,
  ) {}

  static async open(options: RedisAdapterOptions): Promise<RedisStorageAdapter> {
    const target = redisTarget(options.url)
    let connected = false
    const socket = {
      connectTimeout: target.connectTimeoutMs,
      host: target.host,
      port: target.port,
      // A dropped connection is retried a few times once it has worked; a first connection that fails is reported at once.
      reconnectStrategy: (retries: number) => (connected && retries < 5 ? 100 * 2 ** retries : false),
    }
    const client = createClient({
      database: target.database,
      // Commands fail at once while the connection is down, instead of waiting in a queue for it.
      disableOfflineQueue: true,
      // Commands name keys without the prefix; the scripts, which build their keys themselves, get it as ARGV[1].
      keyPrefix: target.prefix,
      password: target.password || undefined,
      socket: target.tls ? {...socket, tls: true} : socket,
      username: target.username || undefined,
    })
    // Every failure reaches the caller through the command that met it; the event only must have a listener.
    client.on('error', () => {})
    // connectTimeout bounds only the TCP connection; a server that accepts and then says nothing
    // (a TLS port reached with redis://, a stuck proxy) is bounded by this deadline, whose timer holds no process open.
    const deadline = once(AbortSignal.timeout(target.connectTimeoutMs), 'abort').then(() => Promise.reject(new ConnectionTimeoutError()))
    try {
      // AUTH and SELECT run inside connect(); a PING proves the server answers commands as well.
      await Promise.race([client.connect().then(() => client.ping()), deadline])
      connected = true
    } catch (error) {
      client.destroy()
      throw describeRedisError(error, target)
    }
    return new RedisStorageAdapter(client, target)
  }

  async appendMessages(sessionId: string, messages: UnplacedMessage[], options: AppendOptions): Promise<Message[] | Missing> {
    const changes: Change[] = (options.hides ?? []).map(({id, supersededBy}) => [id, {hiddenAt: options.updatedAt, supersededBy}])
    if (options.completes !== undefined) changes.push([options.completes, {status: 'complete'}])
    const [outcome, first] = await this.writeMessages(sessionId, options.updatedAt, changes, messages)
    return outcome === 'missing' ? {missing: first} : messages.map((m, i) => ({...m, position: first + i}))
  }

  async clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined> {
    const count = await this.run(scripts.clearMessages, sessionId, updatedAt)
    return count === null ? undefined : Number(count)
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close()
  }

  async countSessions(): Promise<number> {
    return this.guard(() => this.client.zCard(scripts.KEYS.sessions))
  }

  async deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]> {
    if (targets.length === 0) return []
    return (await this.run(scripts.deleteSessions, ...targets.flatMap(t => [t.id, t.updatedAt ?? '']))) as string[]
  }

  async readMessages(sessionId: string, {last}: {last?: number}): Promise<Message[] | undefined> {
    // LRANGE 1 0 is empty: the last 0 messages. Scripts write and delete a list with its session: one with records exists.
    const [from, to] = last === undefined ? [0, -1] : last === 0 ? [1, 0] : [-last, -1]
    const records = await this.guard(() => this.client.lRange(scripts.KEYS.messages + sessionId, from, to))
    if (records.length === 0 && (await this.guard(() => this.client.exists(scripts.KEYS.session + sessionId))) === 0) return undefined
    return records.map(record => messageFromText(record, sessionId))
  }

  async readSession(sessionId: string): Promise<Session | undefined> {
    const fields = await this.guard(() => this.client.hGetAll(scripts.KEYS.session + sessionId))
    return Object.keys(fields).length === 0 ? undefined : sessionFromFields(sessionId, fields)
  }

  async restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined> {
    const entries = snapshots.map(({messages, session}) => {
      return JSON.stringify({fields: Object.entries(sessionFields(session)).flat(), id: session.id, records: messages.map(messageText)})
    })
    const conflict = (await this.run(scripts.restoreSessions, options.replace ? '1' : '0', ...entries)) as [RestoreConflict['taken'], string] | null
    return conflict ? {id: conflict[1], taken: conflict[0]} : undefined
  }

  async sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    // Ids are Crockford base32, so every id starting with the prefix sorts below prefix + DEL (0x7f).
    return this.guard(() => this.client.zRangeByLex(scripts.KEYS.ids, `[${prefix}`, `(${prefix}\u007F`, {LIMIT: {count: limit, offset: 0}}))
  }

  // The one listing primitive: the core sorts, pages and picks what to prune (no `listSummaries`, no
  // `prune`: a sorted page with its neighbours would cost a script of its own, for listings of a few
  // thousand sessions that the core sorts in milliseconds).
  async summaries(): Promise<StoredSummary[]> {
    const rows = (await this.run(scripts.summaries)) as Array<[string, string[], number]>
    return rows.map(([id, flat, messageCount]) => {
      const fields = pairsOf(flat)
      return {...sessionFromFields(id, fields), messageCount, preview: fieldFromText('optionalText', fields.preview) as null | string}
    })
  }

  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing> {
    const [outcome, missing, record] = await this.writeMessages(sessionId, updatedAt, [[messageId, patch]], [])
    return outcome === 'missing' ? {missing} : messageFromText(record as string, sessionId)
  }

  async updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined> {
    const fields = Object.entries(sessionFields(patch)).flat()
    const stored = (await this.run(scripts.updateSession, sessionId, updatedAt ?? '', ...fields)) as null | string[]
    return stored ? sessionFromFields(sessionId, pairsOf(stored)) : undefined
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw describeRedisError(error, this.target)
    }
  }

  /** EVALSHA, and EVAL once when the server has not seen the script (a restart, SCRIPT FLUSH). A Date goes as milliseconds. */
  private async run(script: {sha: string; source: string}, ...args: Array<Date | number | string>): Promise<unknown> {
    const options = {arguments: [this.target.prefix, ...args.map(arg => String(arg instanceof Date ? arg.getTime() : arg))], keys: []}
    return this.guard(async () => {
      try {
        return await this.client.evalSha(script.sha, options)
      } catch (error) {
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
        return this.client.eval(script.source, options)
      }
    })
  }

  /** The `writeMessages` script: `changes` spliced onto messages of the session, then `messages` appended after its last. */
  private async writeMessages(sessionId: string, updatedAt: Date, changes: Change[], messages: UnplacedMessage[]): Promise<Written> {
    const args = [sessionId, updatedAt, changes.length, ...changes.flatMap(([id, fields]) => [id, messageText(fields)])]
    return (await this.run(scripts.writeMessages, ...args, ...messages.map(messageText))) as Written
  }
}

function pairsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1]
  return fields
}
