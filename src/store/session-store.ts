/**
 * The SessionStore port: everything synapse keeps about conversations goes through this interface.
 * Adapters: TypeORM (SQLite built in, PostgreSQL as a plugin) and in-memory (the reference used by
 * fast tests). Every adapter runs the conformance suite in `src/testing/session-store-suite.ts`.
 *
 * Ids are ULIDs (26 characters, Crockford base32, sortable by creation time). Only `get` resolves a
 * prefix; every other method takes a full id. Timestamps are Dates with millisecond precision.
 */

export type MessageRole = 'assistant' | 'system' | 'tool' | 'user'
export const MESSAGE_ROLES: readonly MessageRole[] = ['system', 'user', 'assistant', 'tool']

/**
 * complete: a whole message; for a question, one that has its reply. pending: a question whose reply
 * has not been committed yet (its request is under way, or its process died); it is not sent as
 * context, not even by another process writing into the same session. interrupted: a reply cut short
 * (Ctrl-C, a dropped stream) and kept as far as it got. error: a user message whose request failed;
 * it is kept but not sent again as context.
 */
export type MessageStatus = 'complete' | 'error' | 'interrupted' | 'pending'
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['complete', 'pending', 'interrupted', 'error']

export type Metadata = Record<string, unknown>

export interface Session {
  createdAt: Date
  id: string
  /**
   * Kept from retention: `prune` never deletes it, and it does not count toward `maxSessions`.
   * False unless asked for (`sessions keep`).
   */
  kept: boolean
  /** Free-form: tenant, user, traits, working directory... Always an object, possibly empty. */
  metadata: Metadata
  model: null | string
  provider: null | string
  systemPrompt: null | string
  title: null | string
  /** When its messages last changed (or it was created): what "most recently updated" orders by. */
  updatedAt: Date
}

export interface SessionSummary extends Session {
  messageCount: number
  /** The start of the first user message (at most 100 characters), or null before there is one. */
  preview: null | string
  /**
   * The shortest prefix of the id, at least 8 characters, that matched no other session when the list
   * was made: what a person types back. ULIDs made in the same second share their first 8 characters.
   */
  shortId: string
}

export interface Message {
  content: string
  createdAt: Date
  durationMs: null | number
  finishReason: null | string
  id: string
  inputTokens: null | number
  metadata: Metadata
  model: null | string
  outputTokens: null | number
  /** 0-based, strictly increasing within a session, no gaps unless messages were cleared. */
  position: number
  provider: null | string
  /**
   * For a reply: the id of the question (a message of the same session) it answers. Null for
   * questions, and for replies stored before replies recorded their question (imports of old files).
   */
  replyTo: null | string
  role: MessageRole
  sessionId: string
  status: MessageStatus
}

export interface NewSession {
  /** For imports and tests; a fresh ULID otherwise. */
  id?: string
  /** Default false. */
  kept?: boolean
  metadata?: Metadata
  model?: null | string
  provider?: null | string
  systemPrompt?: null | string
  title?: null | string
}

export interface NewMessage {
  content: string
  durationMs?: null | number
  finishReason?: null | string
  inputTokens?: null | number
  metadata?: Metadata
  model?: null | string
  outputTokens?: null | number
  provider?: null | string
  /** Set by `appendReply`; see `Message.replyTo`. */
  replyTo?: null | string
  role: MessageRole
  status?: MessageStatus
}

/** Fields `update` may change; a key left out is left alone, null clears it. */
export interface SessionPatch {
  kept?: boolean
  metadata?: Metadata
  model?: null | string
  provider?: null | string
  systemPrompt?: null | string
  title?: null | string
}

/** Fields `updateMessage` may change: a reply is finished, or a request is marked as failed. */
export interface MessagePatch {
  content?: string
  durationMs?: null | number
  finishReason?: null | string
  inputTokens?: null | number
  metadata?: Metadata
  outputTokens?: null | number
  status?: MessageStatus
}

/** A whole session as stored: what export writes and import reads back. */
export interface SessionSnapshot {
  /** In ascending position order. */
  messages: Message[]
  session: Session
}

export interface ListOptions {
  /** Default 20; at most 10,000 at a time. */
  limit?: number
  /** Default 0. */
  offset?: number
}

export interface LoadOptions {
  /** Only the last N messages, still in ascending position order. */
  last?: number
}

/**
 * What `prune` deletes. Kept sessions are never deleted and do not count toward `maxSessions`;
 * protected ones are never deleted but do count (they hold their place by updatedAt).
 */
export interface RetentionPolicy {
  /** Delete sessions whose updatedAt is before this instant. Undefined: no age limit. */
  olderThan?: Date
  /** Keep at most this many unkept sessions, the most recently updated. Undefined: no count limit. */
  maxSessions?: number
  /** Report what would go, delete nothing. */
  dryRun?: boolean
  /**
   * Full ids never to delete in this prune: the sessions the running command created or imported,
   * which it must not take away from under itself. Unknown ids are ignored.
   */
  protect?: readonly string[]
}

export interface PruneResult {
  /** What was (or, on a dry run, would be) deleted, oldest first. */
  deleted: SessionSummary[]
  dryRun: boolean
}

export interface MigrationState {
  /** Whether this database has it. (TypeORM records no time of application.) */
  applied: boolean
  name: string
}

export interface IntegrityReport {
  checks: Array<{detail: string; name: string; ok: boolean}>
  ok: boolean
}

/**
 * What a backend with a schema offers the `db` commands. Optional: the in-memory store has none.
 */
export interface StoreMaintenance {
  /**
   * A consistent copy of the whole database in `file`, even while other processes write. An
   * existing file is refused unless `replace`, and then swapped for the copy only once it is whole.
   */
  backup(file: string, options?: {replace?: boolean}): Promise<{bytes: number; path: string}>
  /** Integrity and foreign-key checks, each with a plain verdict. */
  check(): Promise<IntegrityReport>
  /** Where the data lives, with any password removed: a file path or a URL. */
  readonly location: string
  /** Applies pending migrations; returns their names, oldest first. */
  migrate(): Promise<string[]>
  /** Every migration this version knows, oldest first, with when it was applied (null: pending). */
  migrations(): Promise<MigrationState[]>
  /** Reverts the newest applied migration, or all of them; returns their names, newest first. */
  revert(options?: {all?: boolean}): Promise<string[]>
}

export interface SessionStore {
  /** A short name of the backend for messages and `db status`: "sqlite", "memory", "postgres"... */
  readonly backend: string

  /** Schema and file operations, where the backend has them. */
  readonly maintenance?: StoreMaintenance

  /** Creates an empty session. Throws INVALID_INPUT if `id` is given and already taken. */
  create(input?: NewSession): Promise<Session>

  /**
   * Finds a session by full id or by a unique prefix, case-insensitively.
   * Throws SessionNotFoundError when nothing matches and AmbiguousSessionIdError (carrying the
   * candidates) when a prefix matches more than one session.
   */
  get(idOrPrefix: string): Promise<Session>

  /**
   * Sessions with their message count and preview, most recently updated first; ties broken by id,
   * newest first, so paging is stable. An offset past the end gives an empty array.
   */
  list(options?: ListOptions): Promise<SessionSummary[]>

  /** The most recently updated session, or undefined when there is none. */
  latest(): Promise<Session | undefined>

  /** How many sessions there are. */
  count(): Promise<number>

  /**
   * Appends messages at the end of a session in one transaction, assigning consecutive positions,
   * and sets the session's updatedAt. Either all are stored or none. Safe against other processes
   * appending to the same session at the same time: no position is taken twice, nothing is lost.
   * Throws SessionNotFoundError for an unknown session.
   */
  append(sessionId: string, messages: NewMessage[]): Promise<Message[]>

  /**
   * Commits the reply to a question in one transaction: appends `reply` at the end of the session
   * with `replyTo` set to `questionId`, sets the question's status to 'complete', and sets the
   * session's updatedAt. Either both change or neither does, so no process ever sees a question
   * marked answered without its answer, or an answer whose question still looks pending.
   * `reply.replyTo` is ignored. Safe against other processes appending to the same session, like
   * `append`. Throws SessionNotFoundError for an unknown session and MessageNotFoundError when
   * `questionId` is not a message of that session.
   */
  appendReply(sessionId: string, questionId: string, reply: NewMessage): Promise<Message>

  /**
   * A session's messages in ascending position order: all of them, or the last N.
   * Throws SessionNotFoundError for an unknown session (an existing empty session gives []).
   */
  messages(sessionId: string, options?: LoadOptions): Promise<Message[]>

  /**
   * Changes a session's fields (title, model, kept...). Leaves updatedAt alone: a session's place in
   * the list, in `latest` and in retention moves only when its messages change. Throws SessionNotFoundError.
   */
  update(sessionId: string, patch: SessionPatch): Promise<Session>

  /** Changes one message (e.g. a streamed reply completes). Throws MessageNotFoundError. */
  updateMessage(messageId: string, patch: MessagePatch): Promise<Message>

  /** Deletes every message of a session, keeps the session; returns how many went. Throws SessionNotFoundError. */
  clear(sessionId: string): Promise<number>

  /** Deletes sessions and, by cascade, their messages. Unknown ids are ignored; returns how many went. */
  delete(sessionIds: string[]): Promise<number>

  /**
   * Applies a retention policy: deletes sessions not updated since `olderThan`, then the least recently
   * updated beyond `maxSessions`, never a kept or protected one (see RetentionPolicy). One
   * transaction: a failure deletes nothing.
   */
  prune(policy: RetentionPolicy): Promise<PruneResult>

  /**
   * Writes a session exactly as given: ids, positions, statuses, metadata and timestamps included
   * (import). One transaction: all or nothing. Throws INVALID_INPUT when the session id, or any
   * message id, is taken, unless `replace` is set, in which case the session of that id is deleted
   * first (in the same transaction). Ids must be ULIDs; positions must strictly increase.
   */
  restore(snapshot: SessionSnapshot, options?: {replace?: boolean}): Promise<Session>

  /**
   * Restores several sessions as one transaction (import): either every one is written or the store
   * is left exactly as it was, whatever fails. The rules of `restore` apply to each, and across the
   * batch: no session twice, no message id in two of its sessions (`checkSnapshotBatch`), none taken
   * by a session outside the batch. With `replace`, the sessions of the batch that exist are deleted
   * first, so their message ids are free for any session of the batch. Returns the sessions in order.
   */
  restoreAll(snapshots: SessionSnapshot[], options?: {replace?: boolean}): Promise<Session[]>

  /** Releases the connection. Calling it twice is harmless; any other call after it throws. */
  close(): Promise<void>
}

/** Options every adapter accepts. */
export interface StoreOptions {
  /** The clock for createdAt/updatedAt; tests inject one to make sessions old. */
  clock?: () => Date
}

export const DEFAULT_LIST_LIMIT = 20
export const MAX_LIST_LIMIT = 10_000
export const PREVIEW_LENGTH = 100
