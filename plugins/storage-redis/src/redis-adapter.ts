import {ConnectionTimeoutError, createClient, type RedisClientType} from '@redis/client'
import type {
  Message,
  AppendOptions,
  MessagePatch,
  Missing,
  NeighbouredSummary,
  RestoreConflict,
  Session,
  SessionPatch,
  SessionSnapshot,
  StorageAdapter,
  StoredSummary,
  UnplacedMessage,
} from 'synapse-cli'
import {applyPatch, NO_USAGE, PREVIEW_LENGTH, SynapseError} from 'synapse-cli'

import {describeRedisError} from './errors.js'
import * as scripts from './scripts.js'
import {type RedisTarget, redisTarget, type RedisTargetOptions} from './target.js'

type Reply = null | number | Reply[] | string

export interface RedisAdapterOptions extends RedisTargetOptions {
  url: string
}

/** How often an update retries after another process changed the same message between its read and its write. */
const UPDATE_ATTEMPTS = 50

/**
 * Sessions in Redis (see README: key layout). Every write is one Lua script, atomic on the server;
 * reads are single commands or a MULTI. The connection is opened once and never shared.
 */
export class RedisStorageAdapter implements StorageAdapter {
  readonly backend = 'redis'
  readonly freshRecords = true
  private readonly keys: {ids: string; messages: (id: string) => string; session: (id: string) => string; sessions: string}

  private constructor(
    private readonly client: RedisClientType,
    readonly target: RedisTarget,
  ) {
    const p = target.prefix
    this.keys = {ids: `${p}session-ids`, messages: id => `${p}messages:${id}`, session: id => `${p}session:${id}`, sessions: `${p}sessions`}
  }

  static async open(options: RedisAdapterOptions): Promise<RedisStorageAdapter> {
    const target = redisTarget(options.url, options)
    let connected = false
    const common = {
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
      password: target.password || undefined,
      socket: target.tls ? {...common, tls: true} : common,
      username: target.username || undefined,
    })
    // Every failure reaches the caller through the command that met it; the event only must have a listener.
    client.on('error', () => {})
    // connectTimeout bounds only the TCP connection; a server that accepts and then says nothing
    // (a TLS port reached with redis://, a stuck proxy) is bounded by this deadline.
    let deadline: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        (async () => {
          await client.connect()
          // AUTH and SELECT run inside connect(); a PING proves the server answers commands as well.
          await client.ping()
          connected = true
        })(),
        new Promise((_resolve, reject) => (deadline = setTimeout(() => reject(new ConnectionTimeoutError()), target.connectTimeoutMs))),
      ])
    } catch (error) {
      client.destroy()
      throw describeRedisError(error, target)
    } finally {
      clearTimeout(deadline)
    }
    return new RedisStorageAdapter(client, target)
  }

  async appendMessages(sessionId: string, messages: UnplacedMessage[], options: AppendOptions): Promise<Message[] | Missing> {
    const hides = options.hides ?? []
    const args = [sessionId, ms(options.updatedAt), options.completes ?? '', String(hides.length)]
    for (const hide of hides) args.push(hide.id, hide.supersededBy ?? '')
    for (const m of messages) args.push(m.id, m.status, m.role === 'user' ? `u${previewOf(m.content)}` : '-', tailOf(m))
    const [outcome, value] = (await this.run(scripts.appendMessages, args)) as [string, Reply]
    if (outcome === 'missing') return {missing: value as Missing['missing']}
    return messages.map((m, i) => ({...m, position: Number(value) + i}))
  }

  async clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined> {
    const count = await this.run(scripts.clearMessages, [sessionId, ms(updatedAt)])
    return count === null ? undefined : Number(count)
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close()
  }

  async countSessions(): Promise<number> {
    return this.guard(() => this.client.zCard(this.keys.sessions))
  }

  async deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]> {
    if (targets.length === 0) return []
    return (await this.run(
      scripts.deleteSessions,
      targets.flatMap(t => [t.id, t.updatedAt ? ms(t.updatedAt) : '']),
    )) as string[]
  }

  async insertSession(session: Session): Promise<boolean> {
    return (await this.run(scripts.insertSession, [session.id, ms(session.updatedAt), ...sessionFields(session)])) === 1
  }

  async listSummaries(page: {limit: number; offset: number}): Promise<NeighbouredSummary[]> {
    return this.summariesBetween(page.offset, page.offset + page.limit - 1)
  }

  async readMessages(sessionId: string, options: {last?: number}): Promise<Message[] | undefined> {
    const {last} = options
    const [exists, records] = await this.guard(() =>
      last === 0
        ? this.client.multi().exists(this.keys.session(sessionId)).exec()
        : this.client
            .multi()
            .exists(this.keys.session(sessionId))
            .lRange(this.keys.messages(sessionId), last === undefined ? 0 : -last, -1)
            .exec(),
    )
    if (Number(exists) === 0) return undefined
    return ((records ?? []) as unknown as string[]).map(record => messageOf(record, sessionId))
  }

  async readSession(sessionId: string): Promise<Session | undefined> {
    const fields = await this.guard(() => this.client.hGetAll(this.keys.session(sessionId)))
    return Object.keys(fields).length === 0 ? undefined : sessionOf(sessionId, fields)
  }

  async restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined> {
    const args = [options.replace ? '1' : '0']
    for (const {messages, session} of snapshots) {
      const fields = sessionFields(session)
      const question = messages.find(m => m.role === 'user')
      if (question) fields.push('preview', previewOf(question.content), 'previewId', question.id)
      args.push(session.id, ms(session.updatedAt), String(fields.length), ...fields, String(messages.length))
      for (const m of messages) args.push(m.id, recordOf(m))
    }
    const conflict = (await this.run(scripts.restoreSessions, args)) as [RestoreConflict['taken'], string] | null
    return conflict ? {id: conflict[1], taken: conflict[0]} : undefined
  }

  async sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    // Ids are Crockford base32, so every id starting with the prefix sorts below prefix + DEL (0x7f).
    return this.guard(() => this.client.zRangeByLex(this.keys.ids, `[${prefix}`, `(${prefix}\u007F`, {LIMIT: {count: limit, offset: 0}}))
  }

  async summaries(): Promise<StoredSummary[]> {
    return this.summariesBetween(0, -1)
  }

  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing> {
    // Optimistic: read, change in JavaScript, and write only if the record is still the one read.
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const [outcome, index, before] = (await this.run(scripts.findMessage, [sessionId, messageId])) as [string, number | string, string]
      if (outcome === 'missing') return {missing: index as Missing['missing']}
      const message = messageOf(before, sessionId)
      applyPatch(message, patch)
      const written = await this.run(scripts.replaceMessage, [
        sessionId,
        messageId,
        String(index),
        before,
        recordOf(message),
        ms(updatedAt),
        previewOf(message.content),
      ])
      if (written === 'ok') return message
      if (written === 'missing') return {missing: 'session'}
    }
    throw new SynapseError('STORAGE_BUSY', `Message ${messageId} kept changing under other writers at Redis ${this.target.location}.`, {
      suggestions: ['Try again.'],
    })
  }

  async updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined> {
    const fields = Object.entries(patch).flatMap(([field, value]) => (value === undefined ? [] : [field, JSON.stringify(value)]))
    const stored = (await this.run(scripts.updateSession, [sessionId, updatedAt ? ms(updatedAt) : '', ...fields])) as null | string[]
    return stored ? sessionOf(sessionId, pairsOf(stored)) : undefined
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw describeRedisError(error, this.target)
    }
  }

  /** EVALSHA, and EVAL once when the server has not seen the script (a restart, SCRIPT FLUSH). */
  private async run(script: scripts.Script, args: string[]): Promise<Reply> {
    const options = {arguments: [this.target.prefix, ...args], keys: []}
    return this.guard(async () => {
      try {
        return (await this.client.evalSha(script.sha, options)) as Reply
      } catch (error) {
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
        return (await this.client.eval(script.source, options)) as Reply
      }
    })
  }

  private async summariesBetween(first: number, last: number): Promise<NeighbouredSummary[]> {
    const rows = (await this.run(scripts.summaries, [String(first), String(last)])) as Array<[string, string[], number, string[]]>
    return rows.map(([id, flat, messageCount, around]) => {
      const fields = pairsOf(flat)
      const at = around.indexOf(id)
      return {
        ...sessionOf(id, fields),
        messageCount,
        nextId: around[at + 1],
        preview: fields.preview === undefined ? null : JSON.parse(fields.preview),
        previousId: around[at - 1],
      }
    })
  }
}

function ms(date: Date): string {
  return String(date.getTime())
}

/** JSON, so that a preview cut between the halves of a surrogate pair comes back as it was cut. */
function previewOf(content: string): string {
  return JSON.stringify(content.slice(0, PREVIEW_LENGTH))
}

function pairsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1]
  return fields
}

/** A session as hash fields: timestamps in milliseconds, everything else JSON (so null is "null"). */
function sessionFields(s: Session): string[] {
  const {kept, metadata, model, parentId, parentPosition, provider, systemPrompt, title} = s
  return [
    'createdAt',
    ms(s.createdAt),
    ...Object.entries({kept, metadata, model, parentId, parentPosition, provider, systemPrompt, title}).flatMap(([field, value]) => [
      field,
      JSON.stringify(value),
    ]),
  ]
}

function sessionOf(id: string, fields: Record<string, string>): Session {
  const [metadata, model, provider, systemPrompt, title] = ['metadata', 'model', 'provider', 'systemPrompt', 'title'].map(field => JSON.parse(fields[field]))
  // `kept` came after the first sessions were written: a hash without it is a session never kept;
  // the parent's fields came later still: a hash without them is no fork.
  return {
    createdAt: new Date(Number(fields.createdAt)),
    id,
    kept: fields.kept === 'true',
    metadata,
    model,
    parentId: fields.parentId === undefined ? null : JSON.parse(fields.parentId),
    parentPosition: fields.parentPosition === undefined ? null : JSON.parse(fields.parentPosition),
    provider,
    systemPrompt,
    title,
    updatedAt: new Date(Number(fields.updatedAt)),
  }
}

/** A message record after its fixed head (see scripts.ts): a comma, then the other fields as JSON. */
function tailOf(m: UnplacedMessage): string {
  const {content, createdAt, durationMs, finishReason, inputTokens, metadata, model, outputTokens, provider, replyTo, role, supersededBy} = m
  const hiddenAt = m.hiddenAt === null ? null : m.hiddenAt.getTime()
  const rest = {
    content,
    createdAt: createdAt.getTime(),
    durationMs,
    finishReason,
    hiddenAt,
    inputTokens,
    metadata,
    model,
    outputTokens,
    provider,
    replyTo,
    role,
    cachedInputTokens: m.cachedInputTokens,
    tokenSource: m.tokenSource,
    costUsd: m.costUsd,
    costSource: m.costSource,
    supersededBy,
  }
  return `,${JSON.stringify(rest).slice(1)}`
}

function recordOf(m: Message): string {
  return `{"position":${m.position},"id":"${m.id}","status":"${m.status}"${tailOf(m)}`
}

function messageOf(record: string, sessionId: string): Message {
  const parsed = JSON.parse(record)
  // Records written before replies recorded their usage have none of its fields, and those written
  // before messages could be hidden neither of those: in the conversation.
  return {
    ...NO_USAGE,
    ...parsed,
    createdAt: new Date(parsed.createdAt),
    hiddenAt: typeof parsed.hiddenAt === 'number' ? new Date(parsed.hiddenAt) : null,
    sessionId,
    supersededBy: parsed.supersededBy ?? null,
  }
}
