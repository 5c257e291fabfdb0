import {PREVIEW_LENGTH, type Message, type MessagePatch, type Session, type SessionPatch, type SessionSnapshot, type StoreOptions} from './session-store.js'
import type {Missing, RestoreConflict, StorageAdapter, StoredSummary, UnplacedMessage} from './storage-adapter.js'
import {SessionStore} from './store.js'

interface Entry {
  messages: Message[]
  session: Session
}

/**
 * The reference adapter: the whole contract in plain data structures, nothing persisted. Fast tests
 * use it. Every method does its work without an `await` in between, so each is atomic in this
 * process, which is the only one that sees it. It returns the records it keeps; the core copies.
 */
export class MemoryStorageAdapter implements StorageAdapter {
  readonly backend = 'memory'
  private readonly entries = new Map<string, Entry>()

  async appendMessages(sessionId: string, messages: UnplacedMessage[], options: {completes?: string; updatedAt: Date}): Promise<Message[] | Missing> {
    const entry = this.entries.get(sessionId)
    if (!entry) return {missing: 'session'}
    const question = options.completes === undefined ? undefined : entry.messages.find(m => m.id === options.completes)
    if (options.completes !== undefined && !question) return {missing: 'message'}
    if (question) question.status = 'complete'
    let position = entry.messages.length === 0 ? 0 : entry.messages.at(-1)!.position + 1
    const added = messages.map(m => ({...m, position: position++}))
    entry.messages.push(...added)
    if (added.length > 0) entry.session.updatedAt = options.updatedAt
    return added
  }

  async clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined> {
    const entry = this.entries.get(sessionId)
    if (!entry) return undefined
    const count = entry.messages.length
    entry.messages = []
    entry.session.updatedAt = updatedAt
    return count
  }

  async close(): Promise<void> {}

  async countSessions(): Promise<number> {
    return this.entries.size
  }

  async deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]> {
    const due = targets.filter(({id, updatedAt}) => {
      const entry = this.entries.get(id)
      return entry !== undefined && (updatedAt === undefined || entry.session.updatedAt.getTime() === updatedAt.getTime())
    })
    for (const {id} of due) this.entries.delete(id)
    return due.map(({id}) => id)
  }

  async insertSession(session: Session): Promise<boolean> {
    if (this.entries.has(session.id)) return false
    this.entries.set(session.id, {messages: [], session})
    return true
  }

  async readMessages(sessionId: string, options: {last?: number}): Promise<Message[] | undefined> {
    const all = this.entries.get(sessionId)?.messages
    if (!all || options.last === undefined) return all
    return options.last === 0 ? [] : all.slice(-options.last)
  }

  async readSession(sessionId: string): Promise<Session | undefined> {
    return this.entries.get(sessionId)?.session
  }

  /** Everything is checked before the first change, and nothing after it can fail: all or none. */
  async restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined> {
    const batch = new Set(snapshots.map(({session}) => session.id))
    for (const id of batch) if (this.entries.has(id) && !options.replace) return {id, taken: 'session'}
    const taken = new Set<string>()
    for (const [id, entry] of this.entries) if (!batch.has(id)) for (const m of entry.messages) taken.add(m.id)
    for (const {messages} of snapshots) for (const m of messages) if (taken.has(m.id)) return {id: m.id, taken: 'message'}
    for (const {messages, session} of snapshots) this.entries.set(session.id, {messages, session})
    return undefined
  }

  async sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return [...this.entries.keys()]
      .filter(id => id.startsWith(prefix))
      .sort()
      .slice(0, limit)
  }

  /** The one capability it offers, so that the conformance suite's two runs differ on memory too. */
  async sessionIdsWithTitle(title: string, limit: number): Promise<string[]> {
    return [...this.entries.values()]
      .filter(({session}) => session.title === title)
      .map(({session}) => session.id)
      .sort()
      .slice(0, limit)
  }

  async summaries(): Promise<StoredSummary[]> {
    return [...this.entries.values()].map(({messages, session}) => summaryOf(session, messages))
  }

  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing> {
    const entry = this.entries.get(sessionId)
    return entry ? patchMessageOf(entry, messageId, patch, updatedAt) : {missing: 'session'}
  }

  async updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined> {
    const session = this.entries.get(sessionId)?.session
    if (!session) return undefined
    applyPatch(session, patch)
    if (updatedAt) session.updatedAt = updatedAt
    return session
  }
}

/** A store in memory, nothing persisted: what fast tests and a chat without a database use. */
export class MemorySessionStore extends SessionStore {
  constructor(options: StoreOptions = {}) {
    super(new MemoryStorageAdapter(), options)
  }
}

/**
 * Sets the fields a patch names on a record kept in memory or read for rewriting (undefined: leave
 * alone). For adapters that keep whole records: the memory adapter, the filesystem one.
 */
export function applyPatch<T extends object>(record: T, patch: Partial<T>): T {
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (record as Record<string, unknown>)[key] = value
  }
  return record
}

/**
 * Patches one message of a whole session held in hand and moves the session's updatedAt; Missing
 * when the message is not one of its own. For adapters that keep or rewrite whole sessions.
 */
export function patchMessageOf(whole: SessionSnapshot, messageId: string, patch: MessagePatch, updatedAt: Date): Message | Missing {
  const message = whole.messages.find(m => m.id === messageId)
  if (!message) return {missing: 'message'}
  applyPatch(message, patch)
  whole.session.updatedAt = updatedAt
  return message
}

/** A summary from a whole session: for adapters that hold or read every message anyway. */
export function summaryOf(session: Session, messages: Message[]): StoredSummary {
  const firstUser = messages.find(m => m.role === 'user')
  return {...session, messageCount: messages.length, preview: firstUser ? firstUser.content.slice(0, PREVIEW_LENGTH) : null}
}
