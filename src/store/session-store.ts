/**
 * The records synapse keeps about conversations, and the options of the SessionStore
 * (src/store/store.ts) that keeps them over a StorageAdapter (src/store/storage-adapter.ts).
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
  /**
   * For a fork (`SessionStore.fork`): the id of the session it was copied from, else null. The
   * parent may since have been deleted: a fork owns its copies and outlives it.
   */
  parentId: null | string
  /**
   * For a fork: the position of the parent's last message copied into it (null when the parent had
   * none). Set together with parentId; both are null for a session that is not a fork.
   */
  parentPosition: null | number
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

/**
 * Where a reply's token counts came from: the provider reported them, or synapse counted them
 * itself because it did not ('tokenizer': the model family's own tokenizer; 'estimate': about four
 * characters a token). The last two are estimates, and reports say so.
 */
export type TokenSource = 'estimate' | 'provider' | 'tokenizer'
export const TOKEN_SOURCES: readonly TokenSource[] = ['provider', 'tokenizer', 'estimate']

export interface Message {
  /** Of `inputTokens`, those the provider read from its prompt cache (billed lower); null when not reported. */
  cachedInputTokens: null | number
  content: string
  /**
   * What the reply cost in US dollars, fixed when it was stored so that a later price change never
   * rewrites history; null when unknown (a model without a price), never 0 for "unknown".
   */
  costUsd: null | number
  /**
   * Where `costUsd` came from: 'provider' (the server reported it), 'config' (the user's
   * `[models."<name>"]` prices), or the shipped price data with its date ("@pydantic/genai-prices
   * 0.1.8, 2026-09-23"). Null when there is no cost.
   */
  costSource: null | string
  createdAt: Date
  durationMs: null | number
  finishReason: null | string
  /**
   * When the message was taken out of the conversation (a retry or an edit replaced it, or it was
   * undone); null while it is in it. A hidden message stays stored and exported, but is never sent
   * as context, and `sessions show` lists it only with --all. See `isCurrent`.
   */
  hiddenAt: Date | null
  id: string
  /** Every input token of the request, cached ones included. */
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
  /**
   * For a hidden message, the id of the message that took its place: a retry's new reply replaces
   * the old reply, an edit's question and reply replace the old question and reply. Null for a
   * message undone (nothing took its place), and for one in the conversation.
   */
  supersededBy: null | string
  /** Where the token counts came from; null when there are none (questions, replies stored before it was recorded). */
  tokenSource: null | TokenSource
}

/** The last question still in a conversation, with its reply when it has one. */
export interface Exchange {
  question: Message
  reply?: Message
}

/** What a committed reply takes the place of (`appendReply`): the ids of an earlier exchange's messages. */
export interface Replaced {
  /** The question the new one (the one being answered) replaces: an edit. */
  question?: string
  /** The reply the new one replaces: a retry, or an edit of a question that had a reply. */
  reply?: string
}

/** What `create` takes: the fields `update` may change (`kept` defaults to false), and an id. */
export interface NewSession extends SessionPatch {
  /** For imports and tests; a fresh ULID otherwise. */
  id?: string
}

/** What a reply's request reports and costs (see Message), set when it is stored or once it is finished. */
export interface ReplyFacts {
  cachedInputTokens?: null | number
  costSource?: null | string
  costUsd?: null | number
  durationMs?: null | number
  finishReason?: null | string
  inputTokens?: null | number
  metadata?: Metadata
  outputTokens?: null | number
  status?: MessageStatus
  tokenSource?: null | TokenSource
}

export interface NewMessage extends ReplyFacts {
  content: string
  model?: null | string
  provider?: null | string
  /** Set by `appendReply`; see `Message.replyTo`. */
  replyTo?: null | string
  role: MessageRole
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
export interface MessagePatch extends ReplyFacts {
  content?: string
}

/** A whole session as stored: what export writes and import reads back. */
export interface SessionSnapshot {
  /** In ascending position order. */
  messages: Message[]
  session: Session
}

/** What `SessionStore.fork` takes: where to cut, and a title for the copy. */
export interface ForkOptions {
  /**
   * The position of the last message to copy (a message's `position`, 0-based). Default: the
   * parent's last message. A negative number or one beyond the last position is refused.
   */
  at?: number
  /** Default: the parent's title followed by " (fork)", or none for an untitled parent. */
  title?: string
}

export interface ListOptions {
  /** Default 20; at most 10,000 at a time. */
  limit?: number
  /** Default 0. */
  offset?: number
}

export interface LoadOptions {
  /**
   * Only the messages still in the conversation (`isCurrent`): none that was replaced or undone, no
   * reply to a question that was. With `last`, the last N of those.
   */
  current?: boolean
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

/** How `SessionStore.usage` groups replies: by local calendar day, model, provider or session. */
export type UsageGrouping = 'day' | 'model' | 'provider' | 'session'
export const USAGE_GROUPINGS: readonly UsageGrouping[] = ['day', 'model', 'provider', 'session']

/**
 * Which replies `SessionStore.usage` adds up: everything the model wrote (assistant messages, and the
 * summaries of earlier turns synapse asked it for, system messages with token counts), unless these narrow it.
 */
export interface UsageOptions {
  /** Group the totals; absent: only the total. */
  by?: UsageGrouping
  /** Only replies of these sessions (full ids; unknown ones count nothing). */
  sessionIds?: readonly string[]
  /** Only replies created at or after this instant. */
  since?: Date
  /** Only replies created before this instant. */
  until?: Date
}

/** What a set of replies used and cost. Token sums leave out replies that have no count (stored before counts were). */
export interface UsageTotals {
  cachedInputTokens: number
  /** The sum of the known costs in US dollars; null when no reply of the set has one. */
  costUsd: null | number
  /** Replies whose counts synapse made itself (a tokenizer or the estimate) because the provider reported none. */
  estimatedReplies: number
  inputTokens: number
  outputTokens: number
  replies: number
  /** Replies without a cost (a model without a price): `costUsd` leaves them out, so it is a lower bound when this is not 0. */
  unpricedReplies: number
}

export interface UsageGroup extends UsageTotals {
  /** 'YYYY-MM-DD' (the local calendar day) by day; the model, provider or session id otherwise (null: replies that name none). */
  key: null | string
}

export interface UsageReport {
  by: UsageGrouping | null
  /**
   * The groups with replies: by day in date order, oldest first; otherwise the costliest first
   * (unpriced groups last, by tokens), ties by key. Empty without `by`.
   */
  groups: UsageGroup[]
  /** Every reply the options select. */
  total: UsageTotals
}

export interface MigrationState {
  /** Whether this database has it. (TypeORM records no time of application.) */
  applied: boolean
  name: string
}

export interface IntegrityCheck {
  detail: string
  name: string
  ok: boolean
}

export interface IntegrityReport {
  checks: IntegrityCheck[]
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
  /**
   * Rebuilds the full-text search index from the stored messages and titles (what `db check`
   * reports as "search index"), and returns that check as it stands afterwards.
   */
  reindex(): Promise<IntegrityCheck>
  /** Reverts the newest applied migration, or all of them; returns their names, newest first. */
  revert(options?: {all?: boolean}): Promise<string[]>
}

// The SessionStore class (src/store/store.ts) is the port; backends plug in below it as StorageAdapters.
export type {SessionStore} from './store.js'

/** Options every adapter accepts. */
export interface StoreOptions {
  /** The clock for createdAt/updatedAt; tests inject one to make sessions old. */
  clock?: () => Date
}

export const DEFAULT_LIST_LIMIT = 20
export const MAX_LIST_LIMIT = 10_000
export const PREVIEW_LENGTH = 100
/** The longest title create, rename and fork take (UTF-16 units): a title names a session in a listing, it is not a message. */
export const MAX_TITLE_LENGTH = 500
