import {
  AmbiguousSessionIdError,
  AmbiguousSessionTitleError,
  CANDIDATES_SHOWN,
  InvalidInputError,
  MessageNotFoundError,
  type SessionCandidate,
  SessionNotFoundError,
  SynapseError,
} from '../core/errors.js'
import {ID_LENGTH, newId, normalizeIdPrefix, shortestUniquePrefix} from '../core/ids.js'
import {
  MAX_TITLE_LENGTH,
  type Exchange,
  type ForkOptions,
  type ListOptions,
  type LoadOptions,
  type Message,
  type MessagePatch,
  type NewMessage,
  type NewSession,
  type PruneResult,
  type Replaced,
  type RetentionPolicy,
  type Session,
  type SessionPatch,
  type SessionSnapshot,
  type SessionSummary,
  type StoreMaintenance,
  type StoreOptions,
  type UsageOptions,
  type UsageReport,
} from './session-store.js'
import {
  checkSearchOptions,
  makeSnippet,
  type MatchRange,
  matchTerms,
  parseSearchQuery,
  rankAll,
  type SearchFilter,
  type SearchHit,
  type SearchOptions,
  type SearchQuery,
  type StoredHit,
} from './search.js'
import {currentMessages, lastExchange} from './exchanges.js'
import {checkMessagePatch, checkNewMessages, checkSnapshotBatch, isFullId} from './record-codec.js'
import type {MessageHide, Missing, NeighbouredSummary, StorageAdapter, StoredSummary, UsageRow} from './storage-adapter.js'
import {checkLast, checkPolicy, closedStoreError, monotonicClock, newMessageRecord, newSessionRecord, pageOf, selectForPrune} from './store-helpers.js'
import {checkUsageOptions, usageQueryOf, usageReportOf, usageRowsOf} from './usage.js'

/** How many candidates an ambiguous prefix or title reports: one more than shown says "and more". */
const AMBIGUOUS_CANDIDATES = CANDIDATES_SHOWN + 1
/** The shortest short id, as `list` gives them. */
const SHORT_ID_MIN = 8
/** Session ids per `usageTotals` call, as the adapter contract allows. */
const USAGE_ID_BATCH = 500

/**
 * The SessionStore: everything synapse keeps about conversations goes through it. It owns the
 * behaviour once (ids and short ids, prefix resolution, ordering, validation, defensive copies,
 * retention selection, errors, the closed check) over a `StorageAdapter`, which owns only storage.
 * Backends: memory (the reference, for fast tests), SQLite and PostgreSQL through TypeORM, a
 * directory of JSON files; each runs the conformance suite in `src/testing/session-store-suite.ts`.
 *
 * Ids are ULIDs (26 characters, Crockford base32, sortable by creation time). Only `get` resolves a
 * prefix or a title; every other method takes a full id. Timestamps are Dates with millisecond precision.
 */
export class SessionStore {
  /** A short name of the backend for messages and `db status`: "sqlite", "memory", "postgres"... */
  readonly backend: string
  /** Schema and file operations, where the backend has them. */
  readonly maintenance?: StoreMaintenance
  private closing?: Promise<void>
  private readonly clock: () => Date
  private readonly copy: {message: (m: Message) => Message; session: <T extends Session>(s: T) => T}

  constructor(
    private readonly adapter: StorageAdapter,
    options: StoreOptions = {},
  ) {
    this.backend = adapter.backend
    this.maintenance = adapter.maintenance
    this.clock = monotonicClock(options.clock)
    this.copy = adapter.freshRecords ? {message: m => m, session: s => s} : {message: copyMessage, session: copySession}
  }

  /**
   * Appends messages at the end of a session in one transaction, assigning consecutive positions,
   * and sets the session's updatedAt. Either all are stored or none. Safe against other processes
   * appending to the same session at the same time: no position is taken twice, nothing is lost.
   * Throws SessionNotFoundError for an unknown session.
   */
  async append(sessionId: string, messages: NewMessage[]): Promise<Message[]> {
    this.open()
    checkNewMessages(messages)
    const id = fullId(sessionId, SessionNotFoundError)
    const now = this.clock()
    const records = messages.map(input => unplaced(newMessageRecord(input, id, 0, now)))
    const stored = await this.adapter.appendMessages(id, records, {updatedAt: now})
    if (isMissing(stored)) throw new SessionNotFoundError(sessionId)
    return stored.map(this.copy.message)
  }

  /**
   * Commits the reply to a question in one transaction: appends `reply` at the end of the session
   * with `replyTo` set to `questionId`, sets the question's status to 'complete', and sets the
   * session's updatedAt. Either both change or neither does, so no process ever sees a question
   * marked answered without its answer, or an answer whose question still looks pending.
   * `reply.replyTo` is ignored. Safe against other processes appending to the same session, like
   * `append`. Throws SessionNotFoundError for an unknown session and MessageNotFoundError when
   * `questionId` (or a message `replaces` names) is not a message of that session.
   *
   * With `replaces`, the new exchange takes the place of an earlier one in the same transaction: the
   * old reply is hidden, superseded by this one (a retry), and the old question by `questionId` (an
   * edit). Until this commits the old exchange is the current one, so a retry or an edit whose
   * request fails or is interrupted leaves the conversation as it was.
   */
  async appendReply(sessionId: string, questionId: string, reply: NewMessage, options: {replaces?: Replaced} = {}): Promise<Message> {
    this.open()
    checkNewMessages([reply])
    const id = fullId(sessionId, SessionNotFoundError)
    const {replaces = {}} = options
    const named = [questionId, replaces.question, replaces.reply].filter(m => m !== undefined)
    const unknown = named.find(m => !isFullId(m))
    if (unknown !== undefined) {
      await this.session(id)
      throw new MessageNotFoundError(unknown)
    }
    if (replaces.question === questionId) throw new InvalidInputError('A question cannot replace itself.')
    const now = this.clock()
    const record = unplaced(newMessageRecord({...reply, replyTo: questionId}, id, 0, now))
    const hides: MessageHide[] = []
    if (replaces.question !== undefined) hides.push({id: replaces.question, supersededBy: questionId})
    if (replaces.reply !== undefined) hides.push({id: replaces.reply, supersededBy: record.id})
    const stored = await this.adapter.appendMessages(id, [record], {completes: questionId, hides, updatedAt: now})
    if (isMissing(stored)) throw stored.missing === 'session' ? new SessionNotFoundError(sessionId) : new MessageNotFoundError(questionId)
    return this.copy.message(stored[0])
  }

  /** Deletes every message of a session, keeps the session; returns how many went. Throws SessionNotFoundError. */
  async clear(sessionId: string): Promise<number> {
    this.open()
    const cleared = await this.adapter.clearMessages(fullId(sessionId, SessionNotFoundError), this.clock())
    if (cleared === undefined) throw new SessionNotFoundError(sessionId)
    return cleared
  }

  /** Releases the connection. Calling it twice is harmless; any other call after it throws. */
  async close(): Promise<void> {
    this.closing ??= this.adapter.close()
    return this.closing
  }

  /** How many sessions there are. */
  async count(): Promise<number> {
    this.open()
    return this.adapter.countSessions ? this.adapter.countSessions() : (await this.adapter.summaries()).length
  }

  /** Creates an empty session. Throws INVALID_INPUT if `id` is given and already taken. */
  async create(input: NewSession = {}): Promise<Session> {
    this.open()
    if (input.id !== undefined && !isFullId(input.id)) {
      throw new InvalidInputError(`The session id ${JSON.stringify(input.id)} is not a ULID (26 characters of Crockford base32, upper case).`)
    }
    const session = newSessionRecord({...input, title: checkedTitle(input.title, UNTITLED)}, this.clock())
    if (await this.adapter.restoreSessions([{messages: [], session: copySession(session)}], {replace: false}))
      throw new InvalidInputError(`A session with the id ${session.id} already exists.`)
    return session
  }

  /** Deletes sessions and, by cascade, their messages. Unknown ids are ignored; returns how many went. */
  async delete(sessionIds: string[]): Promise<number> {
    this.open()
    // An id that cannot be one names no session: ignored, like any unknown id.
    const ids = [...new Set(sessionIds)].filter(id => isFullId(id))
    if (ids.length === 0) return 0
    return (await this.adapter.deleteSessions(ids.map(id => ({id})))).length
  }

  /**
   * Finds a session by what a person typed: its id, a prefix of its id, or its title. The rule, in order:
   * 1. the reference (trimmed, case-insensitive) as a full id of a session, or a prefix of exactly one
   *    session's id: that session, whatever the titles say;
   * 2. else the reference (trimmed, case-sensitive) as the exact title of exactly one session;
   * 3. several sessions with that title: AmbiguousSessionTitleError, listing their short ids and dates;
   *    else a prefix of several ids: AmbiguousSessionIdError; else SessionNotFoundError.
   * So an id prefix wins over a title, and a title saves a prefix that alone would be ambiguous.
   * An empty or blank reference is InvalidInputError (a usage error), not a session that is missing.
   */
  async get(reference: string): Promise<Session> {
    this.open()
    const title = reference.trim()
    // "" (a variable that was not set) names nothing: a usage error, not a session that is missing.
    if (title === '')
      throw new InvalidInputError('The session reference is empty.', {
        suggestions: ['Give an id, a unique prefix or an exact title ("synapse sessions list" shows them).'],
      })
    const prefix = normalizeIdPrefix(reference)
    let prefixMatches: string[] = []
    if (prefix) {
      if (prefix.length === ID_LENGTH) {
        const exact = await this.adapter.readSession(prefix)
        if (exact) return this.copy.session(exact)
      }
      prefixMatches = await this.adapter.sessionIdsWithPrefix(prefix, AMBIGUOUS_CANDIDATES)
      const only = prefixMatches.length === 1 ? await this.adapter.readSession(prefixMatches[0]) : undefined
      if (only) return this.copy.session(only)
    }
    const titled = await this.idsWithTitle(title, AMBIGUOUS_CANDIDATES)
    if (titled.length === 1) {
      const named = await this.adapter.readSession(titled[0])
      if (named) return this.copy.session(named)
    }
    if (titled.length > 1) throw new AmbiguousSessionTitleError(title, await this.candidates(titled))
    if (prefixMatches.length > 1) throw new AmbiguousSessionIdError(reference, prefixMatches)
    throw new SessionNotFoundError(reference)
  }

  /** Whether a session of exactly this full id is stored (a fork's parent may since have been deleted). */
  async exists(sessionId: string): Promise<boolean> {
    this.open()
    return isFullId(sessionId) && (await this.adapter.readSession(sessionId)) !== undefined
  }

  /**
   * A new session continuing from another: copies (with new ids) of its messages up to and including
   * position `at` (default: all), and its system prompt, model, provider and metadata; `parentId` and
   * `parentPosition` record where it came from. Written in one step (the adapter's `restoreSessions`):
   * the fork appears whole or not at all, and the parent is not written to. The copies keep their
   * positions, statuses, timestamps and token counts, and a copied reply answers the copy of its
   * question. Pending questions are not copied: their reply, if one comes, belongs to the parent's
   * request and lands in the parent. The fork is new: not kept, updated now (so `-c` continues it).
   * Throws SessionNotFoundError for an unknown session and INVALID_INPUT (exit 2) for an `at` that is
   * not a whole number from 0 to the parent's last position, or an empty title.
   */
  async fork(sessionId: string, options: ForkOptions = {}): Promise<Session> {
    this.open()
    const id = fullId(sessionId, SessionNotFoundError)
    const title = forkTitleOption(options.title)
    const parent = await this.session(id)
    const messages = await this.adapter.readMessages(id, {})
    if (!messages) throw new SessionNotFoundError(sessionId)
    const cut = forkCut(id, messages, options.at)
    const now = this.clock()
    const forkId = newId(now.getTime())
    const copied = messages.filter(m => cut !== null && m.position <= cut && m.status !== 'pending')
    const newIds = new Map(copied.map(m => [m.id, newId(now.getTime())]))
    const snapshot: SessionSnapshot = {
      messages: copied.map(m => ({
        ...copyMessage(m),
        id: newIds.get(m.id)!,
        replyTo: m.replyTo === null ? null : (newIds.get(m.replyTo) ?? null),
        sessionId: forkId,
        // Replaced by a message past the cut: the fork stands where it was still current. Undone: still out.
        ...(m.supersededBy === null ? {} : newIds.has(m.supersededBy) ? {supersededBy: newIds.get(m.supersededBy)!} : {hiddenAt: null, supersededBy: null}),
      })),
      session: {
        ...sessionOf(parent),
        createdAt: now,
        id: forkId,
        kept: false,
        parentId: id,
        parentPosition: cut,
        title: title === undefined ? forkDefaultTitle(parent.title) : title,
        updatedAt: now,
      },
    }
    checkSnapshotBatch([snapshot])
    const conflict = await this.adapter.restoreSessions([snapshot], {replace: false})
    if (conflict) throw new InvalidInputError(`A ${conflict.taken} with the id ${conflict.id} already exists.`)
    return copySession(snapshot.session)
  }

  /**
   * The last question still in the conversation, with its reply if it has one: what a retry asks
   * again, an edit rewrites and an undo takes out. Undefined for a session with none.
   * Throws SessionNotFoundError.
   */
  async lastExchange(sessionId: string): Promise<Exchange | undefined> {
    return lastExchange(await this.messages(sessionId, {current: true}))
  }

  /** The most recently updated session, or undefined when there is none. */
  async latest(): Promise<Session | undefined> {
    this.open()
    const [first] = this.adapter.listSummaries ? await this.adapter.listSummaries({limit: 1, offset: 0}) : newestFirst(await this.adapter.summaries())
    return first ? sessionOf(first) : undefined
  }

  /**
   * Sessions with their message count and preview, most recently updated first; ties broken by id,
   * newest first, so paging is stable. An offset past the end gives an empty array.
   */
  async list(options: ListOptions = {}): Promise<SessionSummary[]> {
    this.open()
    const {limit, offset} = pageOf(options)
    if (this.adapter.listSummaries) return (await this.adapter.listSummaries({limit, offset})).map(row => withShortId(row))
    const all = await this.adapter.summaries()
    return withNeighbours(all, newestFirst(all).slice(offset, offset + limit))
  }

  /**
   * A session's messages in ascending position order: all of them, or the last N; with `current`,
   * only those still in the conversation (see LoadOptions).
   * Throws SessionNotFoundError for an unknown session (an existing empty session gives []).
   */
  async messages(sessionId: string, options: LoadOptions = {}): Promise<Message[]> {
    this.open()
    checkLast(options.last)
    const id = fullId(sessionId, SessionNotFoundError)
    let messages = await this.adapter.readMessages(id, {last: options.last})
    if (!messages) throw new SessionNotFoundError(sessionId)
    if (options.current) {
      // The last N stored are the last N current ones unless one of them is hidden or may answer a
      // hidden question: only then is the whole session read.
      if (options.last !== undefined && !isCurrentWindow(messages)) messages = (await this.adapter.readMessages(id, {})) ?? []
      messages = currentMessages(messages)
      if (options.last !== undefined) messages = options.last === 0 ? [] : messages.slice(-options.last)
    }
    return messages.map(this.copy.message)
  }

  /**
   * Applies a retention policy: deletes sessions not updated since `olderThan`, then the least recently
   * updated beyond `maxSessions`, never a kept or protected one (see RetentionPolicy). A session
   * written between being chosen and being deleted is spared.
   */
  async prune(policy: RetentionPolicy): Promise<PruneResult> {
    this.open()
    checkPolicy(policy)
    const dryRun = policy.dryRun ?? false
    if (policy.olderThan === undefined && policy.maxSessions === undefined) return {deleted: [], dryRun}
    if (this.adapter.prune) return {deleted: (await this.adapter.prune(policy)).map(row => withShortId(row)), dryRun}
    const all = await this.adapter.summaries()
    const chosen = withNeighbours(all, selectForPrune(newestFirst(all), policy))
    if (dryRun || chosen.length === 0) return {deleted: chosen, dryRun}
    const gone = new Set(await this.adapter.deleteSessions(chosen.map(({id, updatedAt}) => ({id, updatedAt}))))
    return {deleted: chosen.filter(s => gone.has(s.id)), dryRun}
  }

  /**
   * Writes a session exactly as given: ids, positions, statuses, metadata and timestamps included
   * (import). One transaction: all or nothing. Throws INVALID_INPUT when the session id, or any
   * message id, is taken, unless `replace` is set, in which case the session of that id is deleted
   * first (in the same transaction). Ids must be ULIDs; positions must strictly increase.
   */
  async restore(snapshot: SessionSnapshot, options: {replace?: boolean} = {}): Promise<Session> {
    const [session] = await this.restoreAll([snapshot], options)
    return session
  }

  /**
   * Restores several sessions as one transaction (import): either every one is written or the store
   * is left exactly as it was, whatever fails. The rules of `restore` apply to each, and across the
   * batch: no session twice, no message id in two of its sessions (`checkSnapshotBatch`), none taken
   * by a session outside the batch. With `replace`, the sessions of the batch that exist are deleted
   * first, so their message ids are free for any session of the batch. Returns the sessions in order.
   */
  async restoreAll(snapshots: SessionSnapshot[], options: {replace?: boolean} = {}): Promise<Session[]> {
    this.open()
    checkSnapshotBatch(snapshots)
    const copies = snapshots.map(({messages, session}) => ({
      messages: messages.map(m => ({...copyMessage(m), sessionId: session.id})),
      session: copySession(sessionOf(session)),
    }))
    const conflict = await this.adapter.restoreSessions(copies, {replace: options.replace ?? false})
    if (conflict) throw new InvalidInputError(`A ${conflict.taken} with the id ${conflict.id} already exists.`)
    return copies.map(({session}) => copySession(session))
  }

  /**
   * Full-text search over message content and session titles (the query language, what a hit is
   * and the order of hits: src/store/search.ts): the current messages only, unless
   * `options.includeReplaced` (then each replaced one is marked). Returns one page of hits, each with its session,
   * its message (null for a title), a score and a plain-text snippet with the ranges that matched.
   * An empty store, or no match, gives []. Throws INVALID_INPUT for a query without words or over
   * MAX_QUERY_LENGTH characters and for bad options, and SESSION_NOT_FOUND / AMBIGUOUS_SESSION_ID
   * for an `options.session` that names no single session.
   */
  async search(text: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    this.open()
    const query = parseSearchQuery(text)
    const {limit, offset} = checkSearchOptions(options)
    const filter: SearchFilter = {
      includeReplaced: options.includeReplaced,
      model: options.model,
      provider: options.provider,
      role: options.role,
      since: options.since,
      until: options.until,
    }
    if (options.session !== undefined) filter.sessionId = (await this.get(options.session)).id
    if (this.adapter.search) return (await this.adapter.search(query, filter, {limit, offset})).map(hit => searchHit(query, hit))
    return this.searchEveryMessage(query, filter, {limit, offset})
  }

  /**
   * Changes a session's fields (title, model, kept...). Leaves updatedAt alone: a session's place in
   * the list, in `latest` and in retention moves only when its messages change. Throws SessionNotFoundError.
   */
  async update(sessionId: string, patch: SessionPatch): Promise<Session> {
    this.open()
    const changes: SessionPatch = {...patch}
    if (patch.title !== undefined) changes.title = checkedTitle(patch.title, 'Give a title with something in it, or keep the one it has.')
    if (patch.metadata !== undefined) changes.metadata = structuredClone(patch.metadata)
    const session = await this.adapter.updateSession(fullId(sessionId, SessionNotFoundError), changes)
    if (!session) throw new SessionNotFoundError(sessionId)
    return this.copy.session(session)
  }

  /**
   * Changes one message of a session (e.g. a streamed reply completes) and sets the session's
   * updatedAt. Throws SessionNotFoundError for an unknown session and MessageNotFoundError when the
   * message is not one of that session's.
   */
  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch): Promise<Message> {
    this.open()
    checkMessagePatch(patch)
    const id = fullId(sessionId, SessionNotFoundError)
    if (!isFullId(messageId)) {
      await this.session(id)
      throw new MessageNotFoundError(messageId)
    }
    const changes: MessagePatch = {...patch}
    if (patch.metadata !== undefined) changes.metadata = structuredClone(patch.metadata)
    const updated = await this.adapter.updateMessage(id, messageId, changes, this.clock())
    if (isMissing(updated)) throw updated.missing === 'session' ? new SessionNotFoundError(sessionId) : new MessageNotFoundError(messageId)
    return this.copy.message(updated)
  }

  /**
   * Takes the last exchange (`lastExchange`) out of the conversation, in one transaction: its
   * question and reply stay stored, hidden, with nothing superseding them. Returns them as stored
   * now. Throws SessionNotFoundError, and INVALID_INPUT (exit 1) when there is nothing to undo.
   */
  async undo(sessionId: string): Promise<Exchange> {
    const last = await this.lastExchange(sessionId)
    if (!last) throw nothingToUndo()
    const hidden = [last.question, ...(last.reply ? [last.reply] : [])]
    const now = this.clock()
    const stored = await this.adapter.appendMessages(sessionId, [], {hides: hidden.map(m => ({id: m.id, supersededBy: null})), updatedAt: now})
    if (isMissing(stored)) throw stored.missing === 'session' ? new SessionNotFoundError(sessionId) : new MessageNotFoundError(last.question.id)
    const [question, reply] = hidden.map(m => ({...this.copy.message(m), hiddenAt: new Date(now), supersededBy: null}))
    return reply ? {question, reply} : {question}
  }

  /**
   * What replies used and cost: the sums of tokens (input, output, cached) and of the stored costs
   * of assistant messages, over a time range and sessions, in total and grouped by local day, model,
   * provider or session (see UsageReport). A cost is what was stored with each reply, so a later
   * price change never rewrites this. Throws INVALID_INPUT for a bad grouping or date.
   */
  async usage(options: UsageOptions = {}): Promise<UsageReport> {
    this.open()
    checkUsageOptions(options)
    const ids = options.sessionIds === undefined ? undefined : [...new Set(options.sessionIds)].filter(id => isFullId(id))
    const rows: UsageRow[] = []
    if (this.adapter.usageTotals) {
      if (!ids) rows.push(...(await this.adapter.usageTotals(usageQueryOf(options))))
      for (let start = 0; ids && start < ids.length; start += USAGE_ID_BATCH) {
        rows.push(...(await this.adapter.usageTotals(usageQueryOf(options, ids.slice(start, start + USAGE_ID_BATCH)))))
      }
      return usageReportOf(rows, options)
    }
    const query = usageQueryOf(options)
    for (const id of ids ?? (await this.adapter.summaries()).map(s => s.id)) {
      const messages = await this.adapter.readMessages(id, {})
      if (messages) rows.push(...usageRowsOf(messages, query))
    }
    return usageReportOf(rows, options)
  }

  /**
   * The generic path of `search`: every session's messages through the primitives, ranked here.
   * A hit's preview is its summary's, the one `list` shows.
   */
  private async searchEveryMessage(query: SearchQuery, filter: SearchFilter, page: {limit: number; offset: number}): Promise<SearchHit[]> {
    const all = await this.adapter.summaries()
    const chosen = filter.sessionId === undefined ? all : all.filter(s => s.id === filter.sessionId)
    const sessions: Array<{messages: Message[]; session: StoredSummary}> = []
    for (const session of chosen) {
      // A session deleted since the listing simply has nothing to find.
      const messages = await this.adapter.readMessages(session.id, {})
      if (messages) sessions.push({messages, session})
    }
    const byId = all.map(s => s.id).sort()
    const at = new Map(byId.map((id, index) => [id, index]))
    return rankAll(query, filter, sessions)
      .slice(page.offset, page.offset + page.limit)
      .map(hit => {
        const index = at.get(hit.session.id)!
        return searchHit(query, {...hit, nextId: byId[index + 1], previousId: byId[index - 1]}, hit.matches)
      })
  }

  private open(): void {
    if (this.closing) throw closedStoreError(this.backend)
  }

  /** Sessions titled exactly `title`, in id order: natively where the adapter can, else from the summaries. */
  private async idsWithTitle(title: string, limit: number): Promise<string[]> {
    if (this.adapter.sessionIdsWithTitle) return this.adapter.sessionIdsWithTitle(title, limit)
    return (await this.adapter.summaries())
      .filter(s => s.title === title)
      .map(s => s.id)
      .sort()
      .slice(0, limit)
  }

  /** What an ambiguity error lists: each session's short id (as `list` would give it) and when it was updated. */
  private async candidates(ids: string[]): Promise<SessionCandidate[]> {
    const found: SessionCandidate[] = []
    for (const id of ids) {
      const session = await this.adapter.readSession(id)
      if (session) found.push({id, shortId: await this.shortIdOf(id), updatedAt: new Date(session.updatedAt)})
    }
    return found
  }

  private async shortIdOf(id: string): Promise<string> {
    for (let length = SHORT_ID_MIN; length < ID_LENGTH; length++) {
      if ((await this.adapter.sessionIdsWithPrefix(id.slice(0, length), 2)).length <= 1) return id.slice(0, length)
    }
    return id
  }

  private async session(id: string): Promise<Session> {
    const session = await this.adapter.readSession(id)
    if (!session) throw new SessionNotFoundError(id)
    return session
  }
}

function nothingToUndo(): SynapseError {
  return new SynapseError('INVALID_INPUT', 'There is nothing to undo: the conversation has no question in it.', {
    exitCode: 1,
    suggestions: ['"synapse sessions show <id> --all" shows what was taken out before.'],
  })
}

/** A stored hit as `search` hands it out: fresh objects, the short id, the snippet of what matched. */
function searchHit(query: SearchQuery, hit: StoredHit, matches?: MatchRange[][]): SearchHit {
  const {message, session} = hit
  const text = message ? message.content : (session.title ?? '')
  // A backend's index may split a word where the core does not: such a hit has a snippet without marks.
  const ranges = matches ?? matchTerms(query.terms, text) ?? []
  return {
    message: message && {createdAt: new Date(message.createdAt), id: message.id, position: message.position, role: message.role},
    replaced: message !== null && hit.replaced,
    score: hit.score,
    session: {
      id: session.id,
      model: session.model,
      preview: session.preview,
      provider: session.provider,
      shortId: shortestUniquePrefix(session.id, [hit.previousId, hit.nextId]),
      title: session.title,
      updatedAt: new Date(session.updatedAt),
    },
    snippet: makeSnippet(text, ranges),
  }
}

/** Most recently updated first; ties broken by id, newest first, so paging is stable. */
export function newestFirst<T extends Session>(sessions: T[]): T[] {
  return [...sessions].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
}

function withNeighbours(all: StoredSummary[], chosen: StoredSummary[]): SessionSummary[] {
  const byId = all.map(s => s.id).sort()
  const at = new Map(byId.map((id, index) => [id, index]))
  return chosen.map(s => {
    const index = at.get(s.id)!
    return withShortId({...s, nextId: byId[index + 1], previousId: byId[index - 1]})
  })
}

function withShortId(row: NeighbouredSummary): SessionSummary {
  return {...sessionOf(row), messageCount: row.messageCount, preview: row.preview, shortId: shortestUniquePrefix(row.id, [row.previousId, row.nextId])}
}

/** Only the Session fields, fresh: a caller changing what it got cannot change what is stored. */
function sessionOf(session: Session): Session {
  return {
    createdAt: new Date(session.createdAt),
    id: session.id,
    kept: session.kept === true,
    metadata: structuredClone(session.metadata),
    model: session.model,
    parentId: session.parentId ?? null,
    parentPosition: session.parentPosition ?? null,
    provider: session.provider,
    systemPrompt: session.systemPrompt,
    title: session.title,
    updatedAt: new Date(session.updatedAt),
  }
}

function copySession<T extends Session>(session: T): T {
  return {...session, createdAt: new Date(session.createdAt), metadata: structuredClone(session.metadata), updatedAt: new Date(session.updatedAt)}
}

function copyMessage(message: Message): Message {
  return {
    ...message,
    createdAt: new Date(message.createdAt),
    hiddenAt: message.hiddenAt === null ? null : new Date(message.hiddenAt),
    metadata: structuredClone(message.metadata),
  }
}

/** Whether messages read are all current, judged from them alone: a reply whose question is not among them may not be. */
function isCurrentWindow(window: Message[]): boolean {
  const ids = new Set(window.map(m => m.id))
  return window.every(m => m.hiddenAt === null && (m.replyTo === null || ids.has(m.replyTo)))
}

/**
 * A title as stored: without the spaces around it, and never empty or blank, which would stand for
 * the session in every listing as "(empty)" instead of its first question. Null is no title.
 */
function checkedTitle<T extends null | string | undefined>(title: T, remedy: string): T {
  if (typeof title !== 'string') return title
  const trimmed = title.trim()
  if (trimmed === '') throw new InvalidInputError('A title cannot be empty.', {suggestions: [remedy]})
  if (trimmed.length > MAX_TITLE_LENGTH)
    throw new InvalidInputError(`A title has at most ${MAX_TITLE_LENGTH} characters; this one has ${trimmed.length}.`, {
      suggestions: ['Give a shorter one: the title names the session in listings, and the conversation keeps the rest.'],
    })
  return trimmed as T
}

/** A fork's default title: the parent's and " (fork)", the parent's cut short when both would not fit. */
function forkDefaultTitle(parentTitle: null | string): null | string {
  if (parentTitle === null) return null
  const mark = ' (fork)'
  if (parentTitle.length + mark.length <= MAX_TITLE_LENGTH) return parentTitle + mark
  // Never half of a surrogate pair: a backend would store it as U+FFFD.
  const kept = parentTitle.slice(0, MAX_TITLE_LENGTH - mark.length - 1).replace(/[\uD800-\uDBFF]$/, '')
  return `${kept}…${mark}`
}

const UNTITLED = 'Leave out --title: a session without one is listed by its first question.'

function forkTitleOption(title: string | undefined): string | undefined {
  return checkedTitle(title, 'Leave out --title for the default: the parent\'s title and "(fork)".')
}

/** The last position a fork copies: `at`, checked against the parent's positions, or the parent's last (null: none). */
function forkCut(sessionId: string, messages: Message[], at: number | undefined): null | number {
  const last = messages.at(-1)?.position
  if (at === undefined) return last ?? null
  const range = last === undefined ? 'it has no messages' : `its messages are at positions ${messages[0].position} to ${last}`
  if (!Number.isInteger(at) || at < 0 || last === undefined || at > last) {
    throw new InvalidInputError(`Session ${sessionId} has no position ${at} to fork at: ${range}.`, {
      suggestions: ['Leave out --at to copy every message, or pick a position that "synapse sessions show" lists (#N).'],
    })
  }
  return at
}

function unplaced(message: Message): Omit<Message, 'position'> {
  const {position: _, ...rest} = message
  return rest
}

function isMissing(value: unknown): value is Missing {
  return typeof value === 'object' && value !== null && 'missing' in value
}

/** A full id as the methods that take one need it; anything else names no session. */
function fullId(id: string, NotFound: new (id: string) => Error): string {
  if (!isFullId(id)) throw new NotFound(id)
  return id
}
