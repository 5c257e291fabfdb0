import type {DataSource} from 'typeorm'

import {AmbiguousSessionIdError, InvalidInputError, MessageNotFoundError, SessionNotFoundError} from '../../core/errors.js'
import {normalizeIdPrefix, shortestUniquePrefix} from '../../core/ids.js'
import {
  type ListOptions,
  type LoadOptions,
  type Message,
  type MessagePatch,
  type Metadata,
  type NewMessage,
  type NewSession,
  PREVIEW_LENGTH,
  type PruneResult,
  type RetentionPolicy,
  type Session,
  type SessionPatch,
  type SessionSnapshot,
  type SessionStore,
  type SessionSummary,
  type StoreMaintenance,
  type StoreOptions,
} from '../session-store.js'
import {checkLast, checkMessagePatch, checkNewMessages, checkPolicy, checkSnapshotBatch, closedStoreError, monotonicClock, newMessageRecord, newSessionRecord, pageOf} from '../store-helpers.js'
import type {Row, SqlExecutor} from './sql-executor.js'

const SESSION_COLUMNS = 's.id, s.title, s.provider, s.model, s.system_prompt, s.metadata, s.created_at, s.updated_at, s.kept'
const INSERT_SESSION = 'INSERT INTO sessions (id, title, provider, model, system_prompt, metadata, created_at, updated_at, kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
const MESSAGE_COLUMNS =
  'id, session_id, position, role, content, provider, model, input_tokens, output_tokens, status, finish_reason, duration_ms, metadata, created_at, reply_to'
const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
const ID_BATCH = 500

/** The queries whose text depends on the dialect, built once per store. */
interface DialectSql {
  byteOrder: string
  newestFirst: string
  summaryColumns: string
}

function dialectSql(dialect: SqlExecutor['dialect']): DialectSql {
  // Ids must compare byte by byte: ULID order, and "[" right after "Z" for the prefix range. SQLite
  // compares text that way; PostgreSQL uses the database's collation, which need not (ICU and most
  // libc locales sort "[" before the letters, Danish sorts "AA" after "Z").
  const byteOrder = dialect === 'postgres' ? ' COLLATE "C"' : ''
  return {
    byteOrder,
    newestFirst: `ORDER BY s.updated_at DESC, s.id${byteOrder} DESC`,
    // Count, preview and the neighbouring ids (for the short id) come from index seeks per listed row,
    // never from a join over every message. (On PostgreSQL the neighbours are seeks only where the
    // executor may leave COLLATE "C" out, the ids' own collation being byte order already.)
    summaryColumns: `${SESSION_COLUMNS},
  (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS message_count,
  (SELECT substr(m.content, 1, ${PREVIEW_LENGTH}) FROM messages m WHERE m.session_id = s.id AND m.role = 'user' ORDER BY m.position LIMIT 1) AS preview,
  (SELECT MAX(p.id${byteOrder}) FROM sessions p WHERE p.id${byteOrder} < s.id) AS previous_id,
  (SELECT MIN(n.id${byteOrder}) FROM sessions n WHERE n.id${byteOrder} > s.id) AS next_id`,
  }
}

export interface TypeormStoreOptions extends StoreOptions {
  /** "sqlite", "postgres"...: what `backend` reports. */
  backend: string
  /** Destroyed by close(). A store read through a bare connection has none and passes `onClose`. */
  dataSource?: DataSource
  executor: SqlExecutor
  maintenance?: StoreMaintenance
  /** What close() releases besides the DataSource. */
  onClose?: () => Promise<void> | void
}

/**
 * The SessionStore on a TypeORM DataSource. The entities and migrations define the schema; the
 * queries here are hand-written SQL through an executor, because TypeORM's entity hydration costs
 * 8x raw on a load and 35x on a list, and these are the paths every command takes.
 */
export class TypeormSessionStore implements SessionStore {
  readonly backend: string
  readonly maintenance?: StoreMaintenance
  private closed = false
  private readonly dataSource?: DataSource
  private readonly onClose?: () => Promise<void> | void
  private readonly now: () => Date
  private readonly sql: SqlExecutor
  private readonly dialectSql: DialectSql

  constructor(options: TypeormStoreOptions) {
    this.backend = options.backend
    this.dataSource = options.dataSource
    this.onClose = options.onClose
    this.sql = options.executor
    this.dialectSql = dialectSql(options.executor.dialect)
    this.maintenance = options.maintenance
    this.now = monotonicClock(options.clock)
  }

  async append(sessionId: string, messages: NewMessage[]): Promise<Message[]> {
    this.open()
    checkNewMessages(messages)
    return this.sql.writeTransaction(async (tx) => {
      await this.lockSession(tx, sessionId)
      const [{last}] = await tx.all('SELECT MAX(position) AS last FROM messages WHERE session_id = ?', [sessionId])
      let position = last === null || last === undefined ? 0 : Number(last) + 1
      const now = this.now()
      const added: Message[] = []
      for (const input of messages) {
        const message = newMessageRecord(input, sessionId, position++, now)
        await tx.run(INSERT_MESSAGE, messageRow(message))
        added.push({...message, metadata: structuredClone(message.metadata)})
      }
      if (added.length > 0) await tx.run('UPDATE sessions SET updated_at = ? WHERE id = ?', [now.getTime(), sessionId])
      return added
    })
  }

  async appendReply(sessionId: string, questionId: string, reply: NewMessage): Promise<Message> {
    this.open()
    checkNewMessages([reply])
    return this.sql.writeTransaction(async (tx) => {
      // The session's row first, as append, clear and updateMessage lock it, so this never deadlocks with them.
      await this.lockSession(tx, sessionId)
      const changed = await tx.run("UPDATE messages SET status = 'complete' WHERE id = ? AND session_id = ?", [questionId, sessionId])
      if (changed === 0) throw new MessageNotFoundError(questionId)
      const [{last}] = await tx.all('SELECT MAX(position) AS last FROM messages WHERE session_id = ?', [sessionId])
      const now = this.now()
      const message = newMessageRecord({...reply, replyTo: questionId}, sessionId, Number(last) + 1, now)
      await tx.run(INSERT_MESSAGE, messageRow(message))
      await tx.run('UPDATE sessions SET updated_at = ? WHERE id = ?', [now.getTime(), sessionId])
      return {...message, metadata: structuredClone(message.metadata)}
    })
  }

  async clear(sessionId: string): Promise<number> {
    this.open()
    return this.sql.writeTransaction(async (tx) => {
      await this.lockSession(tx, sessionId)
      const deleted = await tx.run('DELETE FROM messages WHERE session_id = ?', [sessionId])
      await tx.run('UPDATE sessions SET updated_at = ? WHERE id = ?', [this.now().getTime(), sessionId])
      return deleted
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.dataSource?.isInitialized) await this.dataSource.destroy()
    await this.onClose?.()
  }

  async count(): Promise<number> {
    this.open()
    const [{total}] = await this.sql.all('SELECT COUNT(*) AS total FROM sessions')
    return Number(total)
  }

  async create(input: NewSession = {}): Promise<Session> {
    this.open()
    const now = this.now()
    const session = newSessionRecord(input, now)
    await this.sql.writeTransaction(async (tx) => {
      const existing = await tx.all('SELECT id FROM sessions WHERE id = ?', [session.id])
      if (existing.length > 0) throw new InvalidInputError(`A session with the id ${session.id} already exists.`)
      await tx.run(INSERT_SESSION, sessionRow(session))
    })
    return {...session, metadata: structuredClone(session.metadata)}
  }

  async delete(sessionIds: string[]): Promise<number> {
    this.open()
    const ids = [...new Set(sessionIds)]
    if (ids.length === 0) return 0
    return this.sql.writeTransaction((tx) => deleteByIds(tx, ids))
  }

  async get(idOrPrefix: string): Promise<Session> {
    this.open()
    const prefix = normalizeIdPrefix(idOrPrefix)
    if (!prefix) throw new SessionNotFoundError(idOrPrefix)
    const [exact] = await this.sql.all(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ?`, [prefix])
    if (exact) return toSession(exact)
    // Ids are upper-case ASCII, and "[" sorts right after "Z" in byte order: a range scan on the primary key.
    const {byteOrder} = this.dialectSql
    const matches = await this.sql.all(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id${byteOrder} >= ? AND s.id${byteOrder} < ? ORDER BY s.id${byteOrder} LIMIT 6`, [
      prefix,
      `${prefix}[`,
    ])
    if (matches.length === 0) throw new SessionNotFoundError(idOrPrefix)
    if (matches.length > 1) throw new AmbiguousSessionIdError(idOrPrefix, matches.map((row) => String(row.id)))
    return toSession(matches[0])
  }

  async latest(): Promise<Session | undefined> {
    this.open()
    const [row] = await this.sql.all(`SELECT ${SESSION_COLUMNS} FROM sessions s ${this.dialectSql.newestFirst} LIMIT 1`)
    return row ? toSession(row) : undefined
  }

  async list(options: ListOptions = {}): Promise<SessionSummary[]> {
    this.open()
    const {limit, offset} = pageOf(options)
    const {newestFirst, summaryColumns} = this.dialectSql
    const rows = await this.sql.all(`SELECT ${summaryColumns} FROM sessions s ${newestFirst} LIMIT ? OFFSET ?`, [limit, offset])
    return rows.map((row) => toSummary(row))
  }

  async messages(sessionId: string, options: LoadOptions = {}): Promise<Message[]> {
    this.open()
    checkLast(options.last)
    const rows =
      options.last === undefined
        ? await this.sql.all(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY position`, [sessionId])
        : (await this.sql.all(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY position DESC LIMIT ?`, [sessionId, options.last])).reverse()
    // An empty result is either an empty session or no session: only then is the extra look-up paid.
    // A read takes no lock: it neither waits for a writer nor needs more than SELECT rights.
    if (rows.length === 0 && (await this.sql.all('SELECT id FROM sessions WHERE id = ?', [sessionId])).length === 0) throw new SessionNotFoundError(sessionId)
    return rows.map((row) => toMessage(row))
  }

  async prune(policy: RetentionPolicy): Promise<PruneResult> {
    this.open()
    checkPolicy(policy)
    const {byteOrder, summaryColumns} = this.dialectSql
    const limits: string[] = []
    const params: unknown[] = []
    if (policy.olderThan) {
      limits.push('s.updated_at < ?')
      params.push(policy.olderThan.getTime())
    }
    if (policy.maxSessions !== undefined) {
      // Age-expired sessions are the oldest, so "beyond the newest N" of all unkept sessions is the
      // same set as "beyond the newest N" of the survivors: one condition covers both limits.
      limits.push(`s.id IN (SELECT k.id FROM sessions k WHERE k.kept = 0 ORDER BY k.updated_at DESC, k.id${byteOrder} DESC LIMIT ? OFFSET ?)`)
      params.push(Number.MAX_SAFE_INTEGER, policy.maxSessions)
    }
    const conditions = limits.length === 0 ? [] : ['s.kept = 0', `(${limits.join(' OR ')})`]
    const spared = [...new Set(policy.protect ?? [])]
    if (conditions.length > 0 && spared.length > 0) {
      // Bound as parameters in batches, as deletes are: a long import protects every session it wrote.
      for (let start = 0; start < spared.length; start += ID_BATCH) {
        const batch = spared.slice(start, start + ID_BATCH)
        conditions.push(`s.id NOT IN (${batch.map(() => '?').join(', ')})`)
        params.push(...batch)
      }
    }
    if (conditions.length === 0) return {deleted: [], dryRun: policy.dryRun ?? false}
    const select = `SELECT ${summaryColumns} FROM sessions s WHERE ${conditions.join(' AND ')} ORDER BY s.updated_at ASC, s.id${byteOrder} ASC`
    if (policy.dryRun) {
      const rows = await this.sql.all(select, params)
      return {deleted: rows.map((row) => toSummary(row)), dryRun: true}
    }
    const postgres = this.sql.dialect === 'postgres'
    // The write lock is only worth taking when something is due: retention runs before every
    // command, and most find nothing; a reader neither waits for a writer nor makes one wait.
    if ((await this.sql.all(select, params)).length === 0) return {deleted: [], dryRun: false}
    return this.sql.writeTransaction(async (tx) => {
      // No session may change between being chosen and being deleted (an append makes an old session
      // new). SQLite's write lock sees to that; on PostgreSQL an EXCLUSIVE table lock does: writers
      // wait for the prune, readers go on.
      if (postgres) await tx.run('LOCK TABLE sessions IN EXCLUSIVE MODE')
      const deleted = (await tx.all(select, params)).map((row) => toSummary(row))
      await deleteByIds(
        tx,
        deleted.map((s) => s.id),
      )
      return {deleted, dryRun: false}
    })
  }

  async restore(snapshot: SessionSnapshot, options: {replace?: boolean} = {}): Promise<Session> {
    const [session] = await this.restoreAll([snapshot], options)
    return session
  }

  /** One write transaction: any failure, a taken id found on the way or the database's own, rolls all of it back. */
  async restoreAll(snapshots: SessionSnapshot[], options: {replace?: boolean} = {}): Promise<Session[]> {
    this.open()
    checkSnapshotBatch(snapshots)
    return this.sql.writeTransaction(async (tx) => {
      const ids = snapshots.map(({session}) => session.id)
      for (let start = 0; start < ids.length; start += ID_BATCH) {
        const batch = ids.slice(start, start + ID_BATCH)
        const [existing] = await tx.all(`SELECT id FROM sessions WHERE id IN (${batch.map(() => '?').join(', ')}) LIMIT 1`, batch)
        if (existing && !options.replace) throw new InvalidInputError(`A session with the id ${String(existing.id)} already exists.`)
      }
      if (options.replace) await deleteByIds(tx, ids)
      const restored: Session[] = []
      for (const {messages, session} of snapshots) {
        for (let start = 0; start < messages.length; start += ID_BATCH) {
          const batch = messages.slice(start, start + ID_BATCH).map((m) => m.id)
          const [taken] = await tx.all(`SELECT id FROM messages WHERE id IN (${batch.map(() => '?').join(', ')}) LIMIT 1`, batch)
          if (taken) throw new InvalidInputError(`A message with the id ${String(taken.id)} already exists.`)
        }
        await tx.run(INSERT_SESSION, sessionRow(session))
        for (const message of messages) await tx.run(INSERT_MESSAGE, messageRow({...message, sessionId: session.id}))
        restored.push({...session, kept: session.kept === true, metadata: structuredClone(session.metadata)})
      }
      return restored
    })
  }

  async update(sessionId: string, patch: SessionPatch): Promise<Session> {
    this.open()
    const columns: Array<[string, unknown]> = []
    if (patch.title !== undefined) columns.push(['title', patch.title])
    if (patch.provider !== undefined) columns.push(['provider', patch.provider])
    if (patch.model !== undefined) columns.push(['model', patch.model])
    if (patch.systemPrompt !== undefined) columns.push(['system_prompt', patch.systemPrompt])
    if (patch.metadata !== undefined) columns.push(['metadata', encodeMetadata(patch.metadata)])
    if (patch.kept !== undefined) columns.push(['kept', patch.kept ? 1 : 0])
    return this.sql.writeTransaction(async (tx) => {
      if (columns.length === 0) {
        const [row] = await tx.all(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ?`, [sessionId])
        if (!row) throw new SessionNotFoundError(sessionId)
        return toSession(row)
      }
      const changed = await tx.run(`UPDATE sessions SET ${columns.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`, [
        ...columns.map(([, value]) => value),
        sessionId,
      ])
      if (changed === 0) throw new SessionNotFoundError(sessionId)
      const [row] = await tx.all(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ?`, [sessionId])
      return toSession(row)
    })
  }

  async updateMessage(messageId: string, patch: MessagePatch): Promise<Message> {
    this.open()
    checkMessagePatch(patch)
    const columns: Array<[string, unknown]> = []
    if (patch.content !== undefined) columns.push(['content', patch.content])
    if (patch.status !== undefined) columns.push(['status', patch.status])
    if (patch.inputTokens !== undefined) columns.push(['input_tokens', patch.inputTokens])
    if (patch.outputTokens !== undefined) columns.push(['output_tokens', patch.outputTokens])
    if (patch.finishReason !== undefined) columns.push(['finish_reason', patch.finishReason])
    if (patch.durationMs !== undefined) columns.push(['duration_ms', patch.durationMs])
    if (patch.metadata !== undefined) columns.push(['metadata', encodeMetadata(patch.metadata)])
    return this.sql.writeTransaction(async (tx) => {
      const [current] = await tx.all('SELECT session_id FROM messages WHERE id = ?', [messageId])
      if (!current) throw new MessageNotFoundError(messageId)
      // On PostgreSQL, lock the session row before the message's, in the order append, clear and
      // delete take them, so that this never deadlocks with them; a message they deleted meanwhile is
      // then found gone below.
      if (tx.dialect === 'postgres') await tx.all('SELECT id FROM sessions WHERE id = ? FOR UPDATE', [current.session_id])
      if (columns.length > 0) {
        await tx.run(`UPDATE messages SET ${columns.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`, [...columns.map(([, value]) => value), messageId])
      }
      await tx.run('UPDATE sessions SET updated_at = ? WHERE id = ?', [this.now().getTime(), current.session_id])
      const [row] = await tx.all(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`, [messageId])
      if (!row) throw new MessageNotFoundError(messageId)
      return toMessage(row)
    })
  }

  /** Throws SessionNotFoundError unless the session exists; on PostgreSQL it also locks its row. */
  private async lockSession(tx: SqlExecutor, sessionId: string): Promise<void> {
    const rows = await tx.all(`SELECT id FROM sessions WHERE id = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [sessionId])
    if (rows.length === 0) throw new SessionNotFoundError(sessionId)
  }

  private open(): void {
    if (this.closed) throw closedStoreError(this.backend)
  }
}

async function deleteByIds(tx: SqlExecutor, ids: string[]): Promise<number> {
  let deleted = 0
  for (let start = 0; start < ids.length; start += ID_BATCH) {
    const batch = ids.slice(start, start + ID_BATCH)
    deleted += await tx.run(`DELETE FROM sessions WHERE id IN (${batch.map(() => '?').join(', ')})`, batch)
  }
  return deleted
}

/** The parameters of INSERT_SESSION. */
function sessionRow(s: Session): unknown[] {
  return [s.id, s.title, s.provider, s.model, s.systemPrompt, encodeMetadata(s.metadata), s.createdAt.getTime(), s.updatedAt.getTime(), s.kept === true ? 1 : 0]
}

/** The parameters of INSERT_MESSAGE, in MESSAGE_COLUMNS order. */
function messageRow(m: Message): unknown[] {
  return [m.id, m.sessionId, m.position, m.role, m.content, m.provider, m.model, m.inputTokens, m.outputTokens, m.status, m.finishReason, m.durationMs, encodeMetadata(m.metadata), m.createdAt.getTime(), m.replyTo]
}

function encodeMetadata(metadata: Metadata): null | string {
  return Object.keys(metadata).length === 0 ? null : JSON.stringify(metadata)
}

function decodeMetadata(value: unknown): Metadata {
  return typeof value === 'string' && value.length > 0 ? (JSON.parse(value) as Metadata) : {}
}

function nullableNumber(value: unknown): null | number {
  return value === null || value === undefined ? null : Number(value)
}

function nullableString(value: unknown): null | string {
  return value === null || value === undefined ? null : String(value)
}

function toSession(row: Row): Session {
  return {
    createdAt: new Date(Number(row.created_at)),
    id: String(row.id),
    kept: Number(row.kept) === 1,
    metadata: decodeMetadata(row.metadata),
    model: nullableString(row.model),
    provider: nullableString(row.provider),
    systemPrompt: nullableString(row.system_prompt),
    title: nullableString(row.title),
    updatedAt: new Date(Number(row.updated_at)),
  }
}

function toSummary(row: Row): SessionSummary {
  const id = String(row.id)
  return {
    ...toSession(row),
    messageCount: Number(row.message_count),
    preview: nullableString(row.preview),
    shortId: shortestUniquePrefix(id, [nullableString(row.previous_id) ?? undefined, nullableString(row.next_id) ?? undefined]),
  }
}

function toMessage(row: Row): Message {
  return {
    content: String(row.content),
    createdAt: new Date(Number(row.created_at)),
    durationMs: nullableNumber(row.duration_ms),
    finishReason: nullableString(row.finish_reason),
    id: String(row.id),
    inputTokens: nullableNumber(row.input_tokens),
    metadata: decodeMetadata(row.metadata),
    model: nullableString(row.model),
    outputTokens: nullableNumber(row.output_tokens),
    position: Number(row.position),
    provider: nullableString(row.provider),
    replyTo: nullableString(row.reply_to),
    role: row.role as Message['role'],
    sessionId: String(row.session_id),
    status: row.status as Message['status'],
  }
}
