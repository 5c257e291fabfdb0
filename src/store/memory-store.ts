import {AmbiguousSessionIdError, InvalidInputError, MessageNotFoundError, SessionNotFoundError} from '../core/errors.js'
import {normalizeIdPrefix, shortestUniquePrefix} from '../core/ids.js'
import {
  type ListOptions,
  type LoadOptions,
  type Message,
  type MessagePatch,
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
  type StoreOptions,
} from './session-store.js'
import {checkLast, checkMessagePatch, checkNewMessages, checkPolicy, checkSnapshotBatch, closedStoreError, monotonicClock, newMessageRecord, newSessionRecord, pageOf, selectForPrune} from './store-helpers.js'

interface Entry {
  messages: Message[]
  nextPosition: number
  session: Session
}

/**
 * The reference adapter: the whole contract in plain data structures, nothing persisted. Fast tests
 * use it, and it is what `:memory:`-style experiments would want. Returned objects are copies, so a
 * caller mutating one cannot change what the store holds.
 */
export class MemorySessionStore implements SessionStore {
  readonly backend = 'memory'
  private closed = false
  private readonly clock: () => Date
  private readonly entries = new Map<string, Entry>()
  private readonly messageIndex = new Map<string, Message>()

  constructor(options: StoreOptions = {}) {
    this.clock = monotonicClock(options.clock)
  }

  async append(sessionId: string, messages: NewMessage[]): Promise<Message[]> {
    const entry = this.entry(sessionId)
    checkNewMessages(messages)
    const now = this.clock()
    const added = messages.map((input) => newMessageRecord(input, sessionId, entry.nextPosition++, now))
    for (const message of added) {
      entry.messages.push(message)
      this.messageIndex.set(message.id, message)
    }
    if (added.length > 0) entry.session.updatedAt = now
    return added.map((m) => copyMessage(m))
  }

  async appendReply(sessionId: string, questionId: string, reply: NewMessage): Promise<Message> {
    const entry = this.entry(sessionId)
    checkNewMessages([reply])
    const question = entry.messages.find((m) => m.id === questionId)
    if (!question) throw new MessageNotFoundError(questionId)
    const now = this.clock()
    const added = newMessageRecord({...reply, replyTo: questionId}, sessionId, entry.nextPosition++, now)
    question.status = 'complete'
    entry.messages.push(added)
    this.messageIndex.set(added.id, added)
    entry.session.updatedAt = now
    return copyMessage(added)
  }

  async clear(sessionId: string): Promise<number> {
    const entry = this.entry(sessionId)
    const count = entry.messages.length
    for (const message of entry.messages) this.messageIndex.delete(message.id)
    entry.messages = []
    entry.session.updatedAt = this.clock()
    return count
  }

  async close(): Promise<void> {
    this.closed = true
  }

  async count(): Promise<number> {
    this.open()
    return this.entries.size
  }

  async create(input: NewSession = {}): Promise<Session> {
    this.open()
    const now = this.clock()
    const session = newSessionRecord(input, now)
    if (this.entries.has(session.id)) throw new InvalidInputError(`A session with the id ${session.id} already exists.`)
    this.entries.set(session.id, {messages: [], nextPosition: 0, session})
    return copySession(session)
  }

  async delete(sessionIds: string[]): Promise<number> {
    this.open()
    let deleted = 0
    for (const id of new Set(sessionIds)) {
      const entry = this.entries.get(id)
      if (!entry) continue
      for (const message of entry.messages) this.messageIndex.delete(message.id)
      this.entries.delete(id)
      deleted++
    }
    return deleted
  }

  async get(idOrPrefix: string): Promise<Session> {
    this.open()
    const prefix = normalizeIdPrefix(idOrPrefix)
    if (!prefix) throw new SessionNotFoundError(idOrPrefix)
    const exact = this.entries.get(prefix)
    if (exact) return copySession(exact.session)
    const matches = [...this.entries.keys()].filter((id) => id.startsWith(prefix)).sort()
    if (matches.length === 0) throw new SessionNotFoundError(idOrPrefix)
    if (matches.length > 1) throw new AmbiguousSessionIdError(idOrPrefix, matches)
    return copySession(this.entries.get(matches[0])!.session)
  }

  async latest(): Promise<Session | undefined> {
    this.open()
    const [first] = this.ordered()
    return first ? copySession(first.session) : undefined
  }

  async list(options: ListOptions = {}): Promise<SessionSummary[]> {
    this.open()
    const {limit, offset} = pageOf(options)
    const byId = [...this.entries.keys()].sort()
    return this.ordered()
      .slice(offset, offset + limit)
      .map((entry) => this.summarize(entry, byId))
  }

  async messages(sessionId: string, options: LoadOptions = {}): Promise<Message[]> {
    const entry = this.entry(sessionId)
    checkLast(options.last)
    const all = entry.messages
    const selected = options.last === undefined ? all : options.last === 0 ? [] : all.slice(-options.last)
    return selected.map((m) => copyMessage(m))
  }

  async prune(policy: RetentionPolicy): Promise<PruneResult> {
    this.open()
    checkPolicy(policy)
    const byId = [...this.entries.keys()].sort()
    const doomed = selectForPrune(
      this.ordered().map((entry) => ({entry, id: entry.session.id, kept: entry.session.kept, updatedAt: entry.session.updatedAt})),
      policy,
    )
    const deleted = doomed.map(({entry}) => this.summarize(entry, byId))
    if (!policy.dryRun) await this.delete(deleted.map((s) => s.id))
    return {deleted, dryRun: policy.dryRun ?? false}
  }

  async restore(snapshot: SessionSnapshot, options: {replace?: boolean} = {}): Promise<Session> {
    const [session] = await this.restoreAll([snapshot], options)
    return session
  }

  /** Everything is checked before the first change, and nothing after it can fail: all or none. */
  async restoreAll(snapshots: SessionSnapshot[], options: {replace?: boolean} = {}): Promise<Session[]> {
    this.open()
    checkSnapshotBatch(snapshots)
    const replaced = new Set<string>()
    for (const {session} of snapshots) {
      if (!this.entries.has(session.id)) continue
      if (!options.replace) throw new InvalidInputError(`A session with the id ${session.id} already exists.`)
      replaced.add(session.id)
    }
    for (const {messages} of snapshots) {
      const taken = messages.find((m) => {
        const holder = this.messageIndex.get(m.id)
        return holder !== undefined && !replaced.has(holder.sessionId)
      })
      if (taken) throw new InvalidInputError(`A message with the id ${taken.id} already exists.`)
    }
    await this.delete([...replaced])
    return snapshots.map(({messages, session}) => {
      const entry: Entry = {
        messages: messages.map((m) => ({...copyMessage(m), sessionId: session.id})),
        nextPosition: messages.length === 0 ? 0 : messages.at(-1)!.position + 1,
        session: copySession(session),
      }
      this.entries.set(session.id, entry)
      for (const message of entry.messages) this.messageIndex.set(message.id, message)
      return copySession(session)
    })
  }

  async update(sessionId: string, patch: SessionPatch): Promise<Session> {
    const entry = this.entry(sessionId)
    const session = entry.session
    if (patch.title !== undefined) session.title = patch.title
    if (patch.kept !== undefined) session.kept = patch.kept
    if (patch.metadata !== undefined) session.metadata = structuredClone(patch.metadata)
    if (patch.model !== undefined) session.model = patch.model
    if (patch.provider !== undefined) session.provider = patch.provider
    if (patch.systemPrompt !== undefined) session.systemPrompt = patch.systemPrompt
    return copySession(session)
  }

  async updateMessage(messageId: string, patch: MessagePatch): Promise<Message> {
    this.open()
    checkMessagePatch(patch)
    const message = this.messageIndex.get(messageId)
    if (!message) throw new MessageNotFoundError(messageId)
    const {metadata, ...rest} = patch
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) (message as unknown as Record<string, unknown>)[key] = value
    }
    if (metadata !== undefined) message.metadata = structuredClone(metadata)
    this.entries.get(message.sessionId)!.session.updatedAt = this.clock()
    return copyMessage(message)
  }

  private entry(sessionId: string): Entry {
    this.open()
    const entry = this.entries.get(sessionId)
    if (!entry) throw new SessionNotFoundError(sessionId)
    return entry
  }

  private open(): void {
    if (this.closed) throw closedStoreError(this.backend)
  }

  private summarize(entry: Entry, sortedIds: string[]): SessionSummary {
    const firstUser = entry.messages.find((m) => m.role === 'user')
    const at = sortedIds.indexOf(entry.session.id)
    return {
      ...copySession(entry.session),
      messageCount: entry.messages.length,
      preview: firstUser ? firstUser.content.slice(0, PREVIEW_LENGTH) : null,
      shortId: shortestUniquePrefix(entry.session.id, [sortedIds[at - 1], sortedIds[at + 1]]),
    }
  }

  private ordered(): Entry[] {
    return [...this.entries.values()].sort(
      (a, b) => b.session.updatedAt.getTime() - a.session.updatedAt.getTime() || (a.session.id < b.session.id ? 1 : -1),
    )
  }
}


function copySession(session: Session): Session {
  return {...session, createdAt: new Date(session.createdAt), kept: session.kept === true, metadata: structuredClone(session.metadata), updatedAt: new Date(session.updatedAt)}
}

function copyMessage(message: Message): Message {
  return {...message, createdAt: new Date(message.createdAt), metadata: structuredClone(message.metadata)}
}
