import {eachLimited} from '../core/locked-directory.js'
import {previewOf} from './exchanges.js'
import type {Message, MessagePatch, Session, SessionPatch, SessionSnapshot} from './session-store.js'
import type {AppendOptions, Missing, RestoreConflict, StorageAdapter, StoredSummary, UnplacedMessage} from './storage-adapter.js'

/** Sessions whose message ids a restore reads at once. */
const READ_CONCURRENCY = 32

/**
 * The StorageAdapter for a backend that keeps each session whole, as one record holding its
 * messages (the memory adapter: a map; the filesystem adapter: a file each). Every method is written
 * here once over a handful of primitives: read a session, write sessions, remove sessions, list
 * ids, list summaries, and run work with no other writer in between. A subclass supplies those.
 */
export abstract class SnapshotStorageAdapter implements StorageAdapter {
  abstract readonly backend: string

  abstract close(): Promise<void>

  /**
   * Runs `work` with no other write to this store in between, from this process or another, so a
   * read-modify-write inside it is atomic. Work queued before `close` still runs.
   */
  protected abstract exclusive<T>(work: () => Promise<T>): Promise<T>

  /** The session of this id, whole, or undefined. */
  protected abstract read(sessionId: string): Promise<SessionSnapshot | undefined>

  /** Removes the sessions of these ids all or nothing; returns the ids that existed. Inside `exclusive`. */
  protected abstract remove(sessionIds: string[]): Promise<string[]>

  /** Every session id, in byte order. */
  protected abstract sessionIds(): Promise<string[]>

  abstract summaries(): Promise<StoredSummary[]>

  /** Writes whole sessions all or nothing, each replacing any session of its id. Inside `exclusive`. */
  protected abstract write(snapshots: SessionSnapshot[]): Promise<void>

  /** Whether a session of this id exists; a subclass may know without reading it. */
  protected async has(sessionId: string): Promise<boolean> {
    return (await this.read(sessionId)) !== undefined
  }

  /** The ids of a session's messages; a subclass may know them without reading it. */
  protected async messageIdsOf(sessionId: string): Promise<Set<string>> {
    return new Set((await this.read(sessionId))?.messages.map(m => m.id))
  }

  async appendMessages(sessionId: string, messages: UnplacedMessage[], options: AppendOptions): Promise<Message[] | Missing> {
    return this.rewrite(sessionId, whole => {
      // Every message named is found before the first change, so a missing one changes nothing.
      const find = (id: string) => whole.messages.find(m => m.id === id)
      const question = options.completes === undefined ? undefined : find(options.completes)
      if (options.completes !== undefined && !question) return {missing: 'message'}
      const hides = (options.hides ?? []).map(hide => ({hide, message: find(hide.id)}))
      if (hides.some(({message}) => !message)) return {missing: 'message'}
      if (messages.length === 0 && hides.length === 0) return []
      let position = whole.messages.length === 0 ? 0 : whole.messages.at(-1)!.position + 1
      const added = messages.map(m => ({...m, position: position++}))
      // One record written whole: a question's new status, what its reply replaces and the reply land together or not at all.
      if (question) question.status = 'complete'
      for (const {hide, message} of hides) Object.assign(message!, {hiddenAt: options.updatedAt, supersededBy: hide.supersededBy})
      whole.messages.push(...added)
      whole.session.updatedAt = options.updatedAt
      return added
    })
  }

  async clearMessages(sessionId: string, updatedAt: Date): Promise<number | undefined> {
    const cleared = await this.rewrite(sessionId, whole => {
      const count = whole.messages.length
      whole.messages = []
      whole.session.updatedAt = updatedAt
      return count
    })
    return typeof cleared === 'number' ? cleared : undefined
  }

  /** The count from the ids alone (for the filesystem, a directory listing), reading no session. */
  async countSessions(): Promise<number> {
    return (await this.sessionIds()).length
  }

  async deleteSessions(targets: Array<{id: string; updatedAt?: Date}>): Promise<string[]> {
    if (targets.length === 0) return []
    return this.exclusive(async () => {
      const due: string[] = []
      for (const target of targets) if (!target.updatedAt || stillDue((await this.read(target.id))?.session, target.updatedAt)) due.push(target.id)
      return this.remove(due)
    })
  }

  async readMessages(sessionId: string, options: {last?: number}): Promise<Message[] | undefined> {
    const messages = (await this.read(sessionId))?.messages
    if (!messages || options.last === undefined) return messages
    return options.last === 0 ? [] : messages.slice(-options.last)
  }

  async readSession(sessionId: string): Promise<Session | undefined> {
    return (await this.read(sessionId))?.session
  }

  async restoreSessions(snapshots: SessionSnapshot[], options: {replace: boolean}): Promise<RestoreConflict | undefined> {
    const batch = new Set(snapshots.map(s => s.session.id))
    return this.exclusive(async () => {
      if (!options.replace) for (const id of batch) if (await this.has(id)) return {id, taken: 'session'}
      const wanted = new Set(snapshots.flatMap(s => s.messages.map(m => m.id)))
      if (wanted.size > 0) {
        // Message ids are unique across the store, so those of every session outside the batch
        // (whose own sessions are replaced) must be known.
        const others = (await this.summaries()).filter(s => !batch.has(s.id))
        let taken: string | undefined
        await eachLimited(others, READ_CONCURRENCY, async ({id}) => {
          const ids = await this.messageIdsOf(id)
          taken ??= [...wanted].find(m => ids.has(m))
        })
        if (taken) return {id: taken, taken: 'message'}
      }
      await this.write(snapshots)
      return undefined
    })
  }

  async sessionIdsWithPrefix(prefix: string, limit: number): Promise<string[]> {
    return (await this.sessionIds()).filter(id => id.startsWith(prefix)).slice(0, limit)
  }

  async updateMessage(sessionId: string, messageId: string, patch: MessagePatch, updatedAt: Date): Promise<Message | Missing> {
    return this.rewrite(sessionId, whole => {
      const message = whole.messages.find(m => m.id === messageId)
      if (!message) return {missing: 'message'}
      applyPatch(message, patch)
      whole.session.updatedAt = updatedAt
      return message
    })
  }

  async updateSession(sessionId: string, patch: SessionPatch, updatedAt?: Date): Promise<Session | undefined> {
    const session = await this.rewrite(sessionId, whole => {
      applyPatch(whole.session, patch)
      if (updatedAt) whole.session.updatedAt = updatedAt
      return whole.session
    })
    return 'missing' in session ? undefined : session
  }

  /**
   * Reads a session, lets `change` change it, and writes it back whole, all inside `exclusive`.
   * `change` may answer Missing or an empty array with updatedAt left alone (nothing to write), and then nothing is written.
   */
  private rewrite<T>(sessionId: string, change: (whole: SessionSnapshot) => Missing | T): Promise<Missing | T> {
    return this.exclusive(async () => {
      const whole = await this.read(sessionId)
      if (!whole) return {missing: 'session'} as Missing
      const before = whole.session.updatedAt
      const result = change(whole)
      // An append of nothing writes nothing, but one that only hides messages moved updatedAt.
      const unchanged =
        (typeof result === 'object' && result !== null && 'missing' in result) ||
        (Array.isArray(result) && result.length === 0 && whole.session.updatedAt === before)
      if (!unchanged) await this.write([whole])
      return result
    })
  }
}

/**
 * Whether a session retention chose is still due: unchanged since it was chosen (the same
 * updatedAt) and still not kept. The guard of `deleteSessions` for adapters that check in code.
 */
export function stillDue(session: Session | undefined, chosenAt: Date): boolean {
  return session !== undefined && !session.kept && session.updatedAt.getTime() === chosenAt.getTime()
}

/** Sets the fields a patch names (undefined: leave alone) on a record held whole. */
export function applyPatch<T extends object>(record: T, patch: Partial<T>): T {
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (record as Record<string, unknown>)[key] = value
  }
  return record
}

/** A summary from a whole session: for adapters that hold or read every message anyway. */
export function summaryOf(session: Session, messages: Message[]): StoredSummary {
  return {...session, messageCount: messages.length, preview: previewOf(messages)}
}
