import type {DataSource} from 'typeorm'

import {InvalidInputError} from '../../core/errors.js'
import {
  type Message,
  type MessagePatch,
  type Metadata,
  PREVIEW_LENGTH,
  type RetentionPolicy,
  type Session,
  type SessionPatch,
  type SessionSnapshot,
  type StoreMaintenance,
} from '../session-store.js'
import type {SearchFilter, SearchQuery, StoredHit} from '../search.js'
import {TITLE_KEY_LENGTH} from '../../migrations/1795300000030-AddSessionParentAndTitleIndex.js'
import type {
  AppendOptions,
  Missing,
  NeighbouredSummary,
  RestoreConflict,
  StorageAdapter,
  StoredSummary,
  UnplacedMessage,
  UsageQuery,
  UsageRow,
} from '../storage-adapter.js'
import type {SqlDialect} from './sql-dialect.js'
import type {Row, SqlExecutor} from './sql-executor.js'

const SESSION_COLUMNS = 's.id, s.title, s.provider, s.model, s.system_prompt, s.metadata, s.created_at, s.updated_at, s.kept, s.parent_id, s.parent_position'
const MESSAGE_COLUMNS =
  'id, session_id, position, role, content, provider, model, input_tokens, output_tokens, status, finish_reason, duration_ms, metadata, created_at, reply_to, cached_input_tokens, token_source, cost_usd, cost_source, hidden_at, superseded_by'
/** What a hit shows of its session and message (search.ts: HitSession, HitMessage), side by side; the preview is read for the page's rows only. */
const HIT_SESSION_COLUMNS = 's.id AS s_id, s.title AS s_title, s.provider AS s_provider, s.model AS s_model, s.updated_at AS s_updated_at'
const HIT_MESSAGE_COLUMNS =
  'm.id AS m_id, m.position AS m_position, m.role AS m_role, m.content AS m_content, m.created_at AS m_created_at, m.hidden_at AS m_hidden_at, m.reply_to AS m_reply_to'

/**
 * The condition that a message is in the conversation, as `currentMessages` (exchanges.ts) has it:
 * not hidden, and not a reply to a hidden question of its session. Given the columns' names, so that
 * it reads a joined `messages` row or a hit's selected columns alike. The question is a scalar
 * subquery, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an anti-join and may hash every hidden
 * message of the table for it, while a scalar subquery stays a primary-key look-up for each row
 * asked about (no question, or one not hidden: NULL), as SQLite does either way.
 */
function currentSql(message: {hiddenAt: string; replyTo: string; sessionId: string}): string {
  return `${message.hiddenAt} IS NULL AND (SELECT q.hidden_at FROM messages q WHERE q.id = ${message.replyTo} AND q.session_id = ${message.sessionId}) IS NULL`
}
/**
 * The preview of the session whose id is `sessionId` (a column name), as `previewOf` (exchanges.ts)
 * has it: the start of its first question still in the conversation, or NULL. An index seek on
 * (session_id, position) for each row it is asked for: a listing's page, a search's page.
 */
function previewSql(sessionId: string): string {
  return `(SELECT substr(pv.content, 1, ${PREVIEW_LENGTH}) FROM messages pv WHERE pv.session_id = ${sessionId} AND pv.role = 'user' AND pv.hidden_at IS NULL ORDER BY pv.position LIMIT 1)`
}
/** Ids per IN-list: far below every database's parameter limit. */
const ID_BATCH = 500

/** Columns a patch may set, by field: the same names in every dialect. */
const SESSION_FIELDS: Record<keyof SessionPatch, string> = {
  kept: 'kept',
  metadata: 'metadata',
  model: 'model',
  provider: 'provider',
  systemPrompt: 'system_prompt',
  title: 'title',
}
const MESSAGE_FIELDS: Record<keyof MessagePatch, string> = {
  cachedInputTokens: 'cached_input_tokens',
  content: 'content',
  costSource: 'cost_source',
  costUsd: 'cost_usd',
  durationMs: 'duration_ms',
  finishReason: 'finish_reason',
  inputTokens: 'input_tokens',
  metadata: 'metadata',
  outputTokens: 'output_tokens',
  status: 'status',
  tokenSource: 'token_source',
}

/** The column each usage grouping sums by. */
const USAGE_KEYS = {model: 'm.model', provider: 'm.provider', session: 'm.session_id'} as const

/** Builds a statement with the dialect's placeholders: `p()` is the next parameter. */
function statement(dialect: SqlDialect, build: (p: () => string) => string): string {
  let n = 0
  return build(() => dialect.placeholder(++n))
}

function list(p: () => string, count: number): string {
  return Array.from({length: count}, p).join(', ')
}

/** Every fixed statement of the adapter, built once per store for its dialect. */
function statements(d: SqlDialect) {
  const s = (build: (p: () => string) => string) => statement(d, build)
  const summaryColumns = `${SESSION_COLUMNS},
  (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS message_count,
  ${previewSql('s.id')} AS preview`
  // Count, preview and the neighbouring ids (for the short id) come from index seeks per listed row,
  // never from a join over every message.
  const neighbouredColumns = `${summaryColumns},
  (SELECT MAX(p.id${d.byteOrder}) FROM sessions p WHERE p.id${d.byteOrder} < s.id) AS previous_id,
  (SELECT MIN(n.id${d.byteOrder}) FROM sessions n WHERE n.id${d.byteOrder} > s.id) AS next_id`
  const newestFirst = `ORDER BY s.updated_at DESC, s.id${d.byteOrder} DESC`
  return {
    clearMessages: s(p => `DELETE FROM messages WHERE session_id = ${p()}`),
    completeQuestion: s(p => `UPDATE messages SET status = 'complete' WHERE id = ${p()} AND session_id = ${p()}`),
    countSessions: 'SELECT COUNT(*) AS total FROM sessions',
    // Still due: unchanged since retention chose it, and not kept since (keep leaves updated_at alone).
    deleteIfUnchanged: s(p => `DELETE FROM sessions WHERE id = ${p()} AND updated_at = ${p()} AND kept = 0`),
    hideMessage: s(p => `UPDATE messages SET hidden_at = ${p()}, superseded_by = ${p()} WHERE id = ${p()} AND session_id = ${p()}`),
    insertMessage: s(p => `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (${list(p, 21)})`),
    insertSession: s(
      p =>
        `INSERT INTO sessions (id, title, provider, model, system_prompt, metadata, created_at, updated_at, kept, parent_id, parent_position) VALUES (${list(p, 11)})`,
    ),
    lastMessages: s(p => `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ${p()} ORDER BY position DESC LIMIT ${p()}`),
    listPage: s(p => `SELECT ${neighbouredColumns} FROM sessions s ${newestFirst} LIMIT ${p()} OFFSET ${p()}`),
    lockSession: s(p => `SELECT id FROM sessions WHERE id = ${p()}${d.lockRow}`),
    maxPosition: s(p => `SELECT MAX(position) AS last FROM messages WHERE session_id = ${p()}`),
    message: s(p => `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ${p()} AND session_id = ${p()}`),
    messages: s(p => `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = ${p()} ORDER BY position`),
    neighbouredColumns,
    prefixRange: s(
      p => `SELECT s.id FROM sessions s WHERE s.id${d.byteOrder} >= ${p()} AND s.id${d.byteOrder} < ${p()} ORDER BY s.id${d.byteOrder} LIMIT ${p()}`,
    ),
    session: s(p => `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ${p()}`),
    sessionExists: s(p => `SELECT id FROM sessions WHERE id = ${p()}`),
    summaries: `SELECT ${summaryColumns} FROM sessions s`,
    // The first condition is the indexed expression (see the migration); the second makes it exact.
    titled: s(
      p =>
        `SELECT s.id FROM sessions s WHERE substr(s.title, 1, ${TITLE_KEY_LENGTH}) = substr(CAST(${p()} AS TEXT), 1, ${TITLE_KEY_LENGTH}) AND s.title = ${p()} ORDER BY s.id${d.byteOrder} LIMIT ${p()}`,
    ),
    touchSession: s(p => `UPDATE sessions SET updated_at = ${p()} WHERE id = ${p()}`),
  }
}

/** Thrown inside a transaction to roll it back, and caught outside it to return the conflict. */
class Conflict extends InvalidInputError {
  constructor(readonly conflict: RestoreConflict) {
    super(`A ${conflict.taken} with the id ${conflict.id} already exists.`)
  }
}

/** Thrown inside a transaction to roll it back when a message it changes is not in the session. */
class MissingMessage extends Error {}

export interface SqlAdapterOptions {
  /** "sqlite", "postgres"...: what `backend` reports. */
  backend: string
  /** Destroyed by close(). A store read through a bare connection has none and passes `onClose`. */
  dataSource?: DataSource
  dialect: SqlDialect
  executor: SqlExecutor
  maintenance?: StoreMaintenance
  /** What close() releases besides the DataSource. */
  onClose?: () => Promise<void> | void
}

/**
 * The storage adapter on a TypeORM DataSource. The entities and migrations define the schema; the
 * statements here are hand-written SQL through an executor, because TypeORM's entity hydration costs
 * 8x raw on a load and 35x on a list, and these are the paths every command takes. It lists and
 * prunes natively, and every row it returns is decoded afresh (`freshRecords`).
 */
export class SqlStorageAdapter implements StorageAdapter {
  readonly backend: string
  readonly freshRecords = true
  readonly maintenance?: StoreMaintenance
  private readonly dataSource?: DataSource
  private readonly dialect: SqlDialect
  private readonly onClose?: () => Promise<void> | void
  private readonly sql: SqlExecutor
  private readonly q: ReturnType<typeof statements>

  constructor(options: SqlAdapterOptions) {
    this.backend = options.backend
    this.dataSource = options.dataSource
    this.dialect = options.dialect
    this.maintenance = options.maintenance
    this.onClose = options.onClose
    this.sql = options.executor
    this.q = statements(options.dialect)
  }

  async appendMessages(sessionId: string, messages: UnplacedMessage[], options: AppendOptions): Promise<Message[] | Missing> {
    const hides = options.hides ?? []
    try {
      return await this.sql.writeTransaction(async tx => {
        // The session's row first, as every writer of a session locks it, so that none deadlocks with another.
        if ((await tx.all(this.q.lockSession, [sessionId])).length === 0) return {missing: 'session'}
        if (options.completes !== undefined && (await tx.run(this.q.completeQuestion, [options.completes, sessionId])) === 0) return {missing: 'message'}
        for (const hide of hides) {
          // Thrown, not returned, so that hides already made roll back with the transaction.
          if ((await tx.run(this.q.hideMessage, [options.updatedAt.getTime(), hide.supersededBy, hide.id, sessionId])) === 0) throw new MissingMessage()
        }
        if (messages.length === 0) {
          if (hides.length > 0) await tx.run(this.q.touchSession, [options.updatedAt.getTime(), sessionId])
          return []
        }
        const [{last}] = await tx.all(this.q.maxPosition, [sessionId])
        let position = last === null || last === undefined ? 0 : Number(last) + 1
        const added = messages.map(m => ({...m, position: position++}))
        for (const message of added) await tx.run(this.q.insertMessage, messageRow(message))
        await tx.run(this.q.touchSession, [options.updatedAt.getTime(), sessionId])
        return added
      })
    } catch (error) {
      if (error instanceof MissingMessage) return {missing: 'message'}
      throw error
    }
  }

  async clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined> {
    return this.sql.writeTransaction(async tx => {
      if ((await tx.all(this.q.lockSession, [sessionId])).length === 0) return undefined
      const deleted = await tx.run(this.q.clearMessages, [sessionId])
      await tx.run(this.q.touchSession, [updatedAt.getTime(), sessionId])
      return deleted
    })
  }

  async close(): Promise<void> {
    if (this.dataSource?.isInitialized) await this.dataSource.destroy()
    await this.onClose?.()
  }

  async countSessions(): Promise<number> {
    const [{total}] = await this.sql.all(this.q.countSessions)
    return Number(total)
  }

  async deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]> {
    if (targets.length === 0) return []
    return this.sql.writeTransaction(async tx => {
      const deleted: string[] = []
      const unguarded = targets.filter(t => t.updatedAt === undefined).map(t => t.id)
      for (const {id, updatedAt} of targets) {
        if (updatedAt && (await tx.run(this.q.deleteIfUnchanged, [id, updatedAt.getTime()])) > 0) deleted.push(id)
      }
      for (let start = 0; start < unguarded.length; start += ID_BATCH) {
        const batch = unguarded.slice(start, start + ID_BATCH)
        const inList = statement(this.dialect, p => list(p, batch.length))
        const rows = await tx.all(`SELECT id FROM sessions WHERE id IN (${inList})`, batch)
        await tx.run(`DELETE FROM sessions WHERE id IN (${inList})`, batch)
        deleted.push(...rows.map(row => String(row.id)))
      }
      return deleted
    })
  }

  async listSummaries(page: {limit: number; offset: number}): Promise<NeighbouredSummary[]> {
    return (await this.sql.all(this.q.listPage, [page.limit, page.offset])).map(row => toSummary(row))
  }

  async prune(policy: RetentionPolicy): Promise<NeighbouredSummary[]> {
    const {byteOrder} = this.dialect
    const limits: string[] = []
    const params: unknown[] = []
    const select = statement(this.dialect, p => {
      if (policy.olderThan) {
        limits.push(`s.updated_at < ${p()}`)
        params.push(policy.olderThan.getTime())
      }
      if (policy.maxSessions !== undefined) {
        // Age-expired sessions are the oldest, so "beyond the newest N" of all unkept sessions is the
        // same set as "beyond the newest N" of the survivors: one condition covers both limits.
        limits.push(`s.id IN (SELECT k.id FROM sessions k WHERE k.kept = 0 ORDER BY k.updated_at DESC, k.id${byteOrder} DESC LIMIT ${p()} OFFSET ${p()})`)
        params.push(Number.MAX_SAFE_INTEGER, policy.maxSessions)
      }
      const conditions = ['s.kept = 0', `(${limits.join(' OR ')})`]
      // Protected ids still count toward maxSessions above; they are only spared here. Bound in
      // batches, as deletes are: a long import protects every session it wrote.
      const spared = [...new Set(policy.protect ?? [])]
      for (let start = 0; start < spared.length; start += ID_BATCH) {
        const batch = spared.slice(start, start + ID_BATCH)
        conditions.push(`s.id NOT IN (${list(p, batch.length)})`)
        params.push(...batch)
      }
      return `SELECT ${this.q.neighbouredColumns} FROM sessions s WHERE ${conditions.join(' AND ')} ORDER BY s.updated_at ASC, s.id${byteOrder} ASC`
    })
    const chosen = await this.sql.all(select, params)
    // The write lock is only worth taking when something is due: retention runs before every
    // command, and most find nothing; a reader neither waits for a writer nor makes one wait.
    if (policy.dryRun || chosen.length === 0) return chosen.map(row => toSummary(row))
    return this.sql.writeTransaction(async tx => {
      for (const lock of this.dialect.pruneLocks) await tx.run(lock)
      const deleted = (await tx.all(select, params)).map(row => toSummary(row))
      await this.deleteWithin(
        tx,
        deleted.map(s => s.id),
      )
      return deleted
    })
  }

  async readMessages(sessionId: string, options: {last?: number}): Promise<Message[] | undefined> {
    const rows =
      options.last === undefined
        ? await this.sql.all(this.q.messages, [sessionId])
        : (await this.sql.all(this.q.lastMessages, [sessionId, options.last])).reverse()
    // An empty result is either an empty session or no session: only then is the extra look-up paid.
    // A read takes no lock: it neither waits for a writer nor needs more than SELECT rights.
    if (rows.length === 0 && (await this.sql.all(this.q.sessionExists, [sessionId])).length === 0) return undefined
    return rows.map(row => toMessage(row))
  }

  async readSession(sessionId: string): Promise<Session | undefined> {
    const [row] = await this.sql.all(this.q.session, [sessionId])
    return row ? toSession(row) : undefined
  }

  /** One write transaction: any failure, a taken id found on the way or the database's own, rolls all of it back. */
  async restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined> {
    try {
      await this.sql.writeTransaction(async tx => {
        const ids = snapshots.map(({session}) => session.id)
        if (options.replace) await this.deleteWithin(tx, ids)
        else {
          const [existing] = await this.anyOf(tx, 'sessions', ids)
          if (existing) throw new Conflict({id: String(existing.id), taken: 'session'})
        }
        for (const {messages, session} of snapshots) {
          const [taken] = await this.anyOf(
            tx,
            'messages',
            messages.map(m => m.id),
          )
          if (taken) throw new Conflict({id: String(taken.id), taken: 'message'})
          await tx.run(this.q.insertSession, sessionRow(session))
          for (const message of messages) await tx.run(this.q.insertMessage, messageRow(message))
        }
      })
      return undefined
    } catch (error) {
      if (error instanceof Conflict) return error.conflict
      throw error
    }
  }

  /**
   * One page of hits through the dialect's full-text index. Title hits come before message hits
   * (search.ts), so a page is the titles' part of it, then the messages' part: two statements,
   * each ordered and paged by the database, which plans and sorts them far better apart than as
   * one UNION. Each row's neighbouring session ids (for its short id) are looked up only for the
   * rows of the page.
   */
  async search(query: SearchQuery, filter: SearchFilter, page: {limit: number; offset: number}): Promise<StoredHit[]> {
    const wanted = page.offset + page.limit
    // A role names messages: a title has none, so a search by role leaves titles out.
    const titles = filter.role === undefined ? await this.searchStatement('titles', query, filter, {limit: wanted, offset: 0}) : []
    const hits = titles.slice(page.offset, wanted)
    if (titles.length < wanted) {
      // Fewer title hits than the page reaches means these are all of them.
      const skip = Math.max(0, page.offset - titles.length)
      hits.push(...(await this.searchStatement('messages', query, filter, {limit: page.limit - hits.length, offset: skip})))
    }
    return hits
  }

  private async searchStatement(
    kind: 'messages' | 'titles',
    query: SearchQuery,
    filter: SearchFilter,
    page: {limit: number; offset: number},
    narrow = true,
  ): Promise<StoredHit[]> {
    const d = this.dialect
    const params: unknown[] = []
    const bind = (value: unknown) => {
      params.push(value)
      return d.placeholder(params.length)
    }
    const messages = kind === 'messages'
    const best = page.offset + page.limit
    const {includeReplaced, ...narrowing} = filter
    // Leaving out what is not current needs no narrowing of its own: it filters the candidates, and
    // a page it leaves short is read again whole (below).
    const narrowed = narrow && messages && d.search.bestMessages !== undefined && Object.values(narrowing).every(value => value === undefined)
    // More candidates than the page reaches, so that a run of equal scores rarely crosses the cut.
    const candidates = 2 * best + 10
    const match = messages ? (narrowed ? d.search.bestMessages!(bind, query, candidates) : d.search.messages(bind, query)) : d.search.titles(bind, query)
    const at = messages ? 'm.created_at' : 's.updated_at'
    const where = [match.where]
    if (filter.role !== undefined) where.push(`m.role = ${bind(filter.role)}`)
    if (filter.sessionId !== undefined) where.push(`s.id = ${bind(filter.sessionId)}`)
    if (filter.since !== undefined) where.push(`${at} >= ${bind(filter.since.getTime())}`)
    if (filter.until !== undefined) where.push(`${at} <= ${bind(filter.until.getTime())}`)
    if (filter.model !== undefined) where.push(`${messages ? 'COALESCE(m.model, s.model)' : 's.model'} = ${bind(filter.model)}`)
    if (filter.provider !== undefined) where.push(`${messages ? 'COALESCE(m.provider, s.provider)' : 's.provider'} = ${bind(filter.provider)}`)
    // In the statement, not after it: the database cuts the page from current messages only.
    if (messages && !includeReplaced) where.push(currentSql({hiddenAt: 'm.hidden_at', replyTo: 'm.reply_to', sessionId: 'm.session_id'}))
    // Worked out for the page's rows only; without includeReplaced every hit is current.
    const replaced =
      messages && includeReplaced
        ? `, CASE WHEN ${currentSql({hiddenAt: 'h.m_hidden_at', replyTo: 'h.m_reply_to', sessionId: 'h.s_id'})} THEN 0 ELSE 1 END AS replaced`
        : ''
    const cut = match.candidates ? `, ${match.candidates.count} AS cut_count, ${match.candidates.lowest} AS cut_lowest` : ''
    // hit_id carries the byte-order collation itself: ORDER BY takes an output column only bare.
    const order = 'ORDER BY score DESC, hit_at DESC, hit_id DESC'
    // Only the page's rows are read out and given their neighbours and preview, narrowed or not.
    const sql = `SELECT h.*,
        (SELECT MAX(p.id${d.byteOrder}) FROM sessions p WHERE p.id${d.byteOrder} < h.s_id) AS previous_id,
        (SELECT MIN(n.id${d.byteOrder}) FROM sessions n WHERE n.id${d.byteOrder} > h.s_id) AS next_id,
        ${previewSql('h.s_id')} AS s_preview${replaced}
      FROM (SELECT ${match.score} AS score, ${at} AS hit_at, ${messages ? 'm.id' : 's.id'}${d.byteOrder} AS hit_id${cut}, ${HIT_SESSION_COLUMNS}${messages ? `, ${HIT_MESSAGE_COLUMNS}` : ''}
              FROM ${match.from} WHERE ${where.join(' AND ')} ${order} LIMIT ${bind(page.limit)} OFFSET ${bind(page.offset)}) h
      ${order}`
    const rows = await this.sql.all(sql, params)
    // The page is exact when the candidates were all the matches, or when it is full and ends above
    // the lowest candidate score: that score's run of ties may go on past the cut, and which of them
    // is most recent only the join knows. Candidates the join left out (not current) may leave the
    // page short of its rows while matches past the cut would fill it; and a page of no rows says
    // nothing of the candidates, so it is read again whole too (for a query that matches nothing,
    // one more look-up in the index).
    const last = rows.at(-1)
    const cutShort = last !== undefined && Number(last.cut_count) === candidates && (rows.length < page.limit || Number(last.score) === Number(last.cut_lowest))
    if (narrowed && (last === undefined || cutShort)) return this.searchStatement(kind, query, filter, page, false)
    return rows.map(row => ({
      message: messages
        ? {
            content: String(row.m_content),
            createdAt: new Date(Number(row.m_created_at)),
            id: String(row.m_id),
            position: Number(row.m_position),
            role: row.m_role as Message['role'],
          }
        : null,
      nextId: nullableString(row.next_id) ?? undefined,
      previousId: nullableString(row.previous_id) ?? undefined,
      replaced: Number(row.replaced ?? 0) === 1,
      score: Number(row.score),
      session: {
        id: String(row.s_id),
        model: nullableString(row.s_model),
        preview: nullableString(row.s_preview),
        provider: nullableString(row.s_provider),
        title: nullableString(row.s_title),
        updatedAt: new Date(Number(row.s_updated_at)),
      },
    }))
  }

  async sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    // Ids are upper-case ASCII, and "[" sorts right after "Z" in byte order: a range scan on the primary key.
    return (await this.sql.all(this.q.prefixRange, [prefix, `${prefix}[`, limit])).map(row => String(row.id))
  }

  async sessionIdsWithTitle(title: string, limit: number): Promise<string[]> {
    return (await this.sql.all(this.q.titled, [title, title, limit])).map(row => String(row.id))
  }

  async summaries(): Promise<StoredSummary[]> {
    return (await this.sql.all(this.q.summaries)).map(row => toSummary(row))
  }

  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing> {
    const columns = columnsOf(patch, MESSAGE_FIELDS)
    return this.sql.writeTransaction(async tx => {
      if ((await tx.all(this.q.lockSession, [sessionId])).length === 0) return {missing: 'session'}
      if (columns.length > 0) {
        const update = statement(
          this.dialect,
          p => `UPDATE messages SET ${columns.map(([name]) => `${name} = ${p()}`).join(', ')} WHERE id = ${p()} AND session_id = ${p()}`,
        )
        if ((await tx.run(update, [...columns.map(([, value]) => value), messageId, sessionId])) === 0) return {missing: 'message'}
      }
      const [row] = await tx.all(this.q.message, [messageId, sessionId])
      if (!row) return {missing: 'message'}
      await tx.run(this.q.touchSession, [updatedAt.getTime(), sessionId])
      return toMessage(row)
    })
  }

  async updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined> {
    const columns = columnsOf(patch, SESSION_FIELDS)
    if (updatedAt) columns.push(['updated_at', updatedAt.getTime()])
    return this.sql.writeTransaction(async tx => {
      if (columns.length > 0) {
        const update = statement(this.dialect, p => `UPDATE sessions SET ${columns.map(([name]) => `${name} = ${p()}`).join(', ')} WHERE id = ${p()}`)
        if ((await tx.run(update, [...columns.map(([, value]) => value), sessionId])) === 0) return undefined
      }
      const [row] = await tx.all(this.q.session, [sessionId])
      return row ? toSession(row) : undefined
    })
  }

  /** Sums in the database, one row per group; bucket keys by integer division, which SQLite and PostgreSQL do alike on bigints. */
  async usageTotals(query: UsageQuery): Promise<UsageRow[]> {
    const params: unknown[] = []
    const select = statement(this.dialect, p => {
      // Placeholders are numbered in the order they are made: the key's comes first, as in the text.
      let key = 'NULL'
      if (query.group === 'bucket') {
        key = `m.created_at / ${p()}`
        params.push(query.bucketMs)
      } else if (query.group !== 'none') key = USAGE_KEYS[query.group]
      const conditions = ["(m.role = 'assistant' OR (m.role = 'system' AND m.token_source IS NOT NULL))"]
      if (query.since) {
        conditions.push(`m.created_at >= ${p()}`)
        params.push(query.since.getTime())
      }
      if (query.until) {
        conditions.push(`m.created_at < ${p()}`)
        params.push(query.until.getTime())
      }
      if (query.sessionIds) {
        conditions.push(query.sessionIds.length === 0 ? '1 = 0' : `m.session_id IN (${list(p, query.sessionIds.length)})`)
        params.push(...query.sessionIds)
      }
      return `SELECT ${key} AS usage_key, COUNT(*) AS replies,
  COALESCE(SUM(m.input_tokens), 0) AS input_tokens, COALESCE(SUM(m.output_tokens), 0) AS output_tokens,
  COALESCE(SUM(m.cached_input_tokens), 0) AS cached_input_tokens, SUM(m.cost_usd) AS cost_usd,
  COUNT(*) - COUNT(m.cost_usd) AS unpriced, SUM(CASE WHEN m.token_source IN ('tokenizer', 'estimate') THEN 1 ELSE 0 END) AS estimated
FROM messages m WHERE ${conditions.join(' AND ')}${query.group === 'none' ? '' : ' GROUP BY 1'}`
    })
    return (await this.sql.all(select, params))
      .filter(row => Number(row.replies) > 0)
      .map(row => ({
        cachedInputTokens: Number(row.cached_input_tokens),
        costUsd: nullableNumber(row.cost_usd),
        estimatedReplies: Number(row.estimated),
        inputTokens: Number(row.input_tokens),
        key: nullableString(row.usage_key),
        outputTokens: Number(row.output_tokens),
        replies: Number(row.replies),
        unpricedReplies: Number(row.unpriced),
      }))
  }

  /** The first row of `table` whose id is one of `ids`, a batch at a time. */
  private async anyOf(tx: SqlExecutor, table: 'messages' | 'sessions', ids: string[]): Promise<Row[]> {
    for (let start = 0; start < ids.length; start += ID_BATCH) {
      const batch = ids.slice(start, start + ID_BATCH)
      const found = await tx.all(
        statement(this.dialect, p => `SELECT id FROM ${table} WHERE id IN (${list(p, batch.length)}) LIMIT 1`),
        batch,
      )
      if (found.length > 0) return found
    }
    return []
  }

  private async deleteWithin(tx: SqlExecutor, ids: string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += ID_BATCH) {
      const batch = ids.slice(start, start + ID_BATCH)
      await tx.run(
        statement(this.dialect, p => `DELETE FROM sessions WHERE id IN (${list(p, batch.length)})`),
        batch,
      )
    }
  }
}

function columnsOf<T extends object>(patch: T, names: Record<keyof T, string>): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = []
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || !(field in names)) continue
    columns.push([names[field as keyof T], field === 'metadata' ? encodeMetadata(value as Metadata) : typeof value === 'boolean' ? Number(value) : value])
  }
  return columns
}

/** The parameters of insertSession, in its column order. */
function sessionRow(s: Session): unknown[] {
  return [
    s.id,
    s.title,
    s.provider,
    s.model,
    s.systemPrompt,
    encodeMetadata(s.metadata),
    s.createdAt.getTime(),
    s.updatedAt.getTime(),
    s.kept ? 1 : 0,
    s.parentId,
    s.parentPosition,
  ]
}

/** The parameters of insertMessage, in MESSAGE_COLUMNS order. */
function messageRow(m: Message): unknown[] {
  return [
    m.id,
    m.sessionId,
    m.position,
    m.role,
    m.content,
    m.provider,
    m.model,
    m.inputTokens,
    m.outputTokens,
    m.status,
    m.finishReason,
    m.durationMs,
    encodeMetadata(m.metadata),
    m.createdAt.getTime(),
    m.replyTo,
    m.cachedInputTokens,
    m.tokenSource,
    m.costUsd,
    m.costSource,
    m.hiddenAt?.getTime() ?? null,
    m.supersededBy,
  ]
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
    parentId: nullableString(row.parent_id),
    parentPosition: nullableNumber(row.parent_position),
    provider: nullableString(row.provider),
    systemPrompt: nullableString(row.system_prompt),
    title: nullableString(row.title),
    updatedAt: new Date(Number(row.updated_at)),
  }
}

function toSummary(row: Row): NeighbouredSummary {
  return {
    ...toSession(row),
    messageCount: Number(row.message_count),
    nextId: nullableString(row.next_id) ?? undefined,
    preview: nullableString(row.preview),
    previousId: nullableString(row.previous_id) ?? undefined,
  }
}

function toMessage(row: Row): Message {
  return {
    cachedInputTokens: nullableNumber(row.cached_input_tokens),
    content: String(row.content),
    costSource: nullableString(row.cost_source),
    costUsd: nullableNumber(row.cost_usd),
    createdAt: new Date(Number(row.created_at)),
    durationMs: nullableNumber(row.duration_ms),
    finishReason: nullableString(row.finish_reason),
    hiddenAt: row.hidden_at === null || row.hidden_at === undefined ? null : new Date(Number(row.hidden_at)),
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
    supersededBy: nullableString(row.superseded_by),
    tokenSource: nullableString(row.token_source) as Message['tokenSource'],
  }
}
