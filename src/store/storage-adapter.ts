/**
 * The storage adapter: what a backend must provide so that the core `SessionStore` class (ids,
 * short ids, prefixes, ordering, validation, copies, retention selection, errors, the closed check)
 * runs on it. keyv's KeyvStoreAdapter is the model: a few primitives, each with its contract, plus
 * optional capabilities the core uses when present and does without when absent.
 *
 * Rules for every method:
 * - The core validates first. An adapter is only ever given full, canonical ULIDs (26 characters of
 *   Crockford base32, upper case) as ids, records the core built or checked, and timestamps with
 *   millisecond precision. An adapter may still refuse to build a path or key from anything else.
 * - "Missing" is an answer, not an error: a missing session or message is reported by the return
 *   value each method names (undefined, or `{missing: ...}`), and the core raises the error users see.
 *   An adapter throws only for failures of its storage (a SynapseError such as STORAGE_BUSY or
 *   STORAGE_UNAVAILABLE, with a remedy, where it can tell what went wrong).
 * - Every write is atomic: it happens whole or not at all, for readers in this process and in
 *   others, and also when the process dies in the middle (to the backend's durability).
 * - Objects the core passes in are the adapter's to keep. Objects an adapter returns may be ones it
 *   keeps (the memory adapter does): the core copies them before handing them out, unless the
 *   adapter declares `freshRecords`.
 * - `close` is called once; the core refuses every call after it, so an adapter need not check.
 */
import type {SearchFilter, SearchQuery, StoredHit} from './search.js'
import type {Message, MessagePatch, RetentionPolicy, Session, SessionPatch, SessionSnapshot, StoreMaintenance} from './session-store.js'

/** A session with what a listing shows of it. */
export interface StoredSummary extends Session {
  messageCount: number
  /** `previewText`: the first PREVIEW_LENGTH (100) code points of the session's first question (by position) still in the conversation (`firstQuestion`: not hidden); null without one. */
  preview: null | string
}

/**
 * A summary with the ids just before and after it among all session ids in byte order (undefined
 * at either end): what the core needs for the short id, without a second pass over every session.
 */
export interface NeighbouredSummary extends StoredSummary {
  nextId?: string
  previousId?: string
}

/**
 * What `usageTotals` sums: what the model wrote, that is assistant messages and system messages with a
 * tokenSource (summaries of earlier turns), with createdAt in [since, until) (either bound absent:
 * unbounded), of the sessions `sessionIds` names (absent: all; at most 500 at a time), grouped by
 * `group`: 'none' (one row, or none when nothing matches), 'model', 'provider', 'session' (the
 * session id), or 'bucket': the message's createdAt in epoch milliseconds divided by `bucketMs` and
 * rounded down, as a decimal string (the core turns buckets of 15 minutes into local days).
 */
export interface UsageQuery {
  bucketMs: number
  group: 'bucket' | 'model' | 'none' | 'provider' | 'session'
  sessionIds?: readonly string[]
  since?: Date
  until?: Date
}

/** One group's sums; `key` is null for 'none', and for replies that name no model or provider. */
export interface UsageRow {
  cachedInputTokens: number
  /** Sum of the non-null costs; null when every cost in the group is null. */
  costUsd: null | number
  /** Messages with tokenSource 'tokenizer' or 'estimate'. */
  estimatedReplies: number
  inputTokens: number
  key: null | string
  outputTokens: number
  replies: number
  /** Messages with a null cost. */
  unpricedReplies: number
}

/** A message before it has a position: the adapter assigns positions when it appends. */
export type UnplacedMessage = Omit<Message, 'position'>

/**
 * A message taken out of the conversation by the write that names it: it gets `hiddenAt` (the
 * write's updatedAt) and this `supersededBy`, and stays stored.
 */
export interface MessageHide {
  id: string
  supersededBy: null | string
}

/** What `appendMessages` does besides appending: see there. */
export interface AppendOptions {
  completes?: string
  hides?: MessageHide[]
  updatedAt: Date
}

/** Why a write found nothing to change. */
export interface Missing {
  missing: 'message' | 'session'
}

/** Why a restore wrote nothing: the first id it found taken. */
export interface RestoreConflict {
  id: string
  taken: 'message' | 'session'
}

export interface StorageAdapter {
  /** A short name for messages and `db status`: "sqlite", "memory", "postgres", "filesystem"... */
  readonly backend: string

  /** Schema and file operations, where the backend has them (migrations, checks, backups). */
  readonly maintenance?: StoreMaintenance

  // ---- Sessions -------------------------------------------------------------------------------

  /** The session of exactly this id, or undefined when there is none. */
  readSession(sessionId: string): Promise<Session | undefined>

  /**
   * Ids of the sessions whose id starts with `prefix` (upper case, 1 to 26 characters), in byte
   * order, at most `limit` of them; [] when none. The core uses it to resolve what a user typed.
   */
  sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]>

  /**
   * Every session with its message count and preview, in any order. The generic path of `list`,
   * `latest` and `prune`: the core sorts and pages. An adapter that can do better offers
   * `listSummaries` and `prune` as well; this one must still be right.
   */
  summaries(): Promise<StoredSummary[]>

  /**
   * Changes the fields `patch` names (undefined: leave alone; null: clear), and sets updatedAt to
   * `updatedAt` when one is given. Returns the session as stored after the change, or undefined
   * (nothing written) when there is no such session.
   */
  updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined>

  /**
   * Deletes sessions with all their messages, as one atomic step, and returns the ids that went
   * (unknown ids are skipped). A target with `updatedAt` is one retention chose: it is deleted only
   * if it is still due, checked in the same atomic step as the deletion: its updatedAt still equals
   * that instant (a session written since it was chosen is no longer due) and it is still not kept
   * (`sessions keep` may have marked it since, which leaves updatedAt alone). A target without
   * `updatedAt` is deleted whatever its state. An empty list deletes nothing.
   */
  deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]>

  /**
   * Writes whole sessions exactly as given (import), as one atomic step over the batch: either every
   * one is written or nothing changes. The core has checked the batch itself (ids well formed, none
   * twice, positions increasing). Without `replace`, a session id that exists is a conflict; with
   * it, the existing sessions of those ids are deleted first, in the same step. A message id held
   * by any session not being replaced is a conflict. Returns the first conflict found (and writes
   * nothing), or undefined when all was written. It is also how the core creates a session (one
   * with no messages, without `replace`: of two processes creating one id, exactly one writes it)
   * and writes a fork (a new session with copies of another's messages) in one step.
   */
  restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined>

  // ---- Messages -------------------------------------------------------------------------------

  /**
   * A session's messages in ascending position order: all of them, or only the last `last` (still
   * ascending). Undefined when there is no such session; [] for an empty one.
   */
  readMessages(sessionId: string, options: {last?: number}): Promise<Message[] | undefined>

  /**
   * Appends `messages` at the end of a session as one atomic step: positions follow the highest
   * position in the session (0 for an empty one) consecutively, and the session's updatedAt becomes
   * `updatedAt` (unless there are neither messages nor hides, which writes nothing). Safe against
   * writers in other processes appending to the same session: no position is taken twice, nothing is lost.
   * With `completes`, the message of that id in the same session gets status 'complete' in the same
   * step (a question and its reply commit together). With `hides`, each message named (of the same
   * session) gets `hiddenAt` = `updatedAt` and the `supersededBy` given, in the same step: a retry's
   * reply commits with the old reply's replacement, so that no reader ever sees both current or
   * neither; an undo is `hides` with no messages. Returns the messages as stored, or
   * `{missing: 'session'}` / `{missing: 'message'}` (for `completes` or `hides`) with nothing written.
   */
  appendMessages(sessionId: string, messages: UnplacedMessage[], options: AppendOptions): Promise<Message[] | Missing>

  /**
   * Changes the fields `patch` names of one message of one session, and sets the session's
   * updatedAt, as one atomic step. Returns the message as stored after the change, or
   * `{missing: 'session'}` / `{missing: 'message'}` (the message is not in that session).
   * The session is named so that no adapter needs a store-wide index of message ids.
   */
  updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing>

  /**
   * Deletes every message of a session and sets its updatedAt, as one atomic step. Returns how many
   * went, or undefined when there is no such session.
   */
  clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined>

  /** Releases connections and handles. Called once, after every call the core started has settled. */
  close(): Promise<void>

  // ---- Optional capabilities: the core has a generic path for each ---------------------------

  /**
   * Set when every object the adapter returns is freshly made and never kept (SQL rows decoded per
   * call): the core then skips its defensive copies, which a 10,000-message load would notice.
   */
  readonly freshRecords?: boolean

  /** How many sessions there are, where the backend can tell without reading them. Without it, the core counts `summaries()`. */
  countSessions?(): Promise<number>

  /**
   * One page of the listing, most recently updated first, ties broken by id newest first (byte
   * order), with each row's neighbours among all ids. Without it the core sorts `summaries()`.
   */
  listSummaries?(page: {limit: number; offset: number}): Promise<NeighbouredSummary[]>

  /**
   * Retention done natively and atomically: choose the sessions `policy` names exactly as the core's
   * `selectForPrune` does (age first, then the least recently updated unkept ones beyond maxSessions, never a kept or protected one), and
   * delete them in one step during which no chosen session can change; on a dry run delete nothing.
   * Returns them oldest first. Without it, the core selects from `summaries()` and deletes with
   * `deleteSessions` guarded by each session's updatedAt.
   */
  prune?(policy: RetentionPolicy): Promise<NeighbouredSummary[]>

  /**
   * Usage sums done natively (SQL aggregates): over the assistant messages `query` selects, one row
   * per group of `query.group` with the sums `UsageRow` names. Rows may come in any order, and a key
   * may appear in more than one row (the core adds them up), so an adapter may answer in batches.
   * Without it, the core reads every selected session's messages and sums them itself.
   */
  usageTotals?(query: UsageQuery): Promise<UsageRow[]>

  /**
   * Full-text search through an index of the backend's own (SQLite FTS5, PostgreSQL tsvector): one
   * page of the hits of `query` that pass `filter`, in the order and with the meaning of a hit that
   * src/store/search.ts states (titles first, then score, recency, id), each with its session's
   * neighbouring ids and preview (as `summaries` gives it), worked out for the page's rows only. The
   * core has parsed and checked the query and filter; an adapter turns the terms into its index's
   * syntax with every word quoted as a string, never as operators. The core adds short ids and
   * snippets. Without it, the core reads every session's messages through
   * `summaries` and `readMessages` and ranks them itself with BM25.
   */
  search?(query: SearchQuery, filter: SearchFilter, page: {limit: number; offset: number}): Promise<StoredHit[]>

  /**
   * Ids of the sessions whose title is exactly `title` (byte for byte: case, spaces and all), in byte
   * order, at most `limit` of them; [] when none. What the core uses to resolve a session by name
   * (`get`); SQL answers from an index on the title. Without it, the core filters `summaries()`.
   */
  sessionIdsWithTitle?(title: string, limit: number): Promise<string[]>

  // Later capabilities join here in the same way: optional, with a generic path in the core over
  // the primitives above, and a switch in the conformance suite.
}
