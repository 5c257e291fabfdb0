import {newId, shortestUniquePrefix} from '../src/core/ids.js'
import type {Message, Metadata, SessionSummary} from '../src/store/session-store.js'
import type {RawDatabase, RawStatement, Row} from './fixtures.js'

/**
 * The baseline: what a careful hand-written client does with better-sqlite3 prepared statements on
 * the same schema, returning the same shapes as the store. It borrows the store's id helpers
 * (`newId`, `shortestUniquePrefix`) because ULIDs and short ids are part of the data's contract, not
 * overhead of the store; any client would need the same few lines.
 */
export class RawClient {
  private readonly insertMessage: RawStatement
  private readonly lastPosition: RawStatement
  private readonly loadMessages: RawStatement
  private readonly listNewest: RawStatement
  private readonly pruneBeyond: RawStatement
  private readonly sessionExists: RawStatement
  private readonly touchSession: RawStatement
  private readonly appendOne: (sessionId: string, content: string) => void

  constructor(private readonly db: RawDatabase) {
    this.sessionExists = db.prepare('SELECT id FROM sessions WHERE id = ?')
    this.lastPosition = db.prepare('SELECT MAX(position) AS last FROM messages WHERE session_id = ?')
    this.insertMessage = db.prepare(
      'INSERT INTO messages (id, session_id, position, role, content, provider, model, input_tokens, output_tokens, status, finish_reason, duration_ms, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.touchSession = db.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?')
    this.loadMessages = db.prepare(
      'SELECT id, session_id, position, role, content, provider, model, input_tokens, output_tokens, status, finish_reason, duration_ms, metadata, created_at, reply_to, cached_input_tokens, token_source, cost_usd, cost_source, hidden_at, superseded_by FROM messages WHERE session_id = ? ORDER BY position',
    )
    this.listNewest =
      db.prepare(`SELECT s.id, s.title, s.provider, s.model, s.system_prompt, s.metadata, s.created_at, s.updated_at, s.kept, s.parent_id, s.parent_position,
        (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS message_count,
        (SELECT substr(m.content, 1, 100) FROM messages m WHERE m.session_id = s.id AND m.role = 'user' AND m.hidden_at IS NULL ORDER BY m.position LIMIT 1) AS preview,
        (SELECT MAX(p.id) FROM sessions p WHERE p.id < s.id) AS previous_id,
        (SELECT MIN(n.id) FROM sessions n WHERE n.id > s.id) AS next_id
      FROM sessions s ORDER BY s.updated_at DESC, s.id DESC LIMIT ?`)
    this.pruneBeyond = db.prepare(
      'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE kept = 0 ORDER BY updated_at DESC, id DESC LIMIT -1 OFFSET ?)',
    )

    // The write lock first, as the store does: a deferred transaction that reads and then writes can
    // fail with SQLITE_BUSY_SNAPSHOT when another process writes in between.
    this.appendOne = db.transaction((sessionId: string, content: string) => {
      if (!this.sessionExists.get(sessionId)) throw new Error(`No session ${sessionId}`)
      const last = this.lastPosition.get(sessionId)?.last
      const position = last === null || last === undefined ? 0 : Number(last) + 1
      // Wall-clock time, as a hand-written client would stamp. The store's clock is strictly increasing
      // instead (its contract), so when appends outpace the millisecond it runs ahead: every append gets
      // a new timestamp, a fresh random id part and a changed updated_at. Giving this client such a
      // clock cost it about 20 us per append on a 2-core machine; at one append per prompt, nothing.
      const now = Date.now()
      this.insertMessage.run(newId(now), sessionId, position, 'user', content, null, null, null, null, 'complete', null, null, null, now)
      this.touchSession.run(now, sessionId)
    }).immediate
  }

  append(sessionId: string, content: string): void {
    this.appendOne(sessionId, content)
  }

  /**
   * Messages a caller can use: camelCase fields, Dates, parsed metadata. Mapped because rows with
   * snake_case keys and epoch numbers are not what any caller (a renderer, a provider request) takes,
   * so every real client pays for this step; `messageRows` is the unmapped floor, for information.
   */
  messages(sessionId: string): Message[] {
    return this.loadMessages.all(sessionId).map(row => ({
      cachedInputTokens: row.cached_input_tokens as null | number,
      content: row.content as string,
      costSource: row.cost_source as null | string,
      costUsd: row.cost_usd as null | number,
      createdAt: new Date(row.created_at as number),
      durationMs: row.duration_ms as null | number,
      finishReason: row.finish_reason as null | string,
      hiddenAt: row.hidden_at === null ? null : new Date(row.hidden_at as number),
      id: row.id as string,
      inputTokens: row.input_tokens as null | number,
      metadata: parseMetadata(row.metadata),
      model: row.model as null | string,
      outputTokens: row.output_tokens as null | number,
      position: row.position as number,
      provider: row.provider as null | string,
      replyTo: row.reply_to as null | string,
      role: row.role as Message['role'],
      sessionId: row.session_id as string,
      status: row.status as Message['status'],
      supersededBy: row.superseded_by as null | string,
      tokenSource: row.token_source as Message['tokenSource'],
    }))
  }

  messageRows(sessionId: string): Row[] {
    return this.loadMessages.all(sessionId)
  }

  /** The same fields as the store's list, short id included. */
  list(limit: number): SessionSummary[] {
    return this.listNewest.all(limit).map(row => ({
      createdAt: new Date(row.created_at as number),
      id: row.id as string,
      kept: row.kept === 1,
      messageCount: row.message_count as number,
      metadata: parseMetadata(row.metadata),
      model: row.model as null | string,
      parentId: row.parent_id as null | string,
      parentPosition: row.parent_position as null | number,
      preview: row.preview as null | string,
      provider: row.provider as null | string,
      shortId: shortestUniquePrefix(row.id as string, [(row.previous_id as null | string) ?? undefined, (row.next_id as null | string) ?? undefined]),
      systemPrompt: row.system_prompt as null | string,
      title: row.title as null | string,
      updatedAt: new Date(row.updated_at as number),
    }))
  }

  /** Deletes all but the `keep` most recently updated sessions (messages go by cascade); returns how many went. */
  prune(keep: number): number {
    return this.pruneBeyond.run(keep).changes
  }

  close(): void {
    this.db.close()
  }
}

function parseMetadata(value: unknown): Metadata {
  return typeof value === 'string' && value.length > 0 ? (JSON.parse(value) as Metadata) : {}
}
