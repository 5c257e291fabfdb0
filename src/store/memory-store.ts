import type {SessionSnapshot, StoreOptions} from './session-store.js'
import {summaryOf, SnapshotStorageAdapter} from './snapshot-adapter.js'
import type {StoredSummary} from './storage-adapter.js'
import {SessionStore} from './store.js'

/**
 * The reference adapter: the whole contract in plain data structures, nothing persisted. Fast tests
 * use it. It keeps whole sessions in a map (SnapshotStorageAdapter does the rest), and writers queue
 * on a promise chain, which is all `exclusive` needs in the only process that sees the map. It
 * returns the records it keeps; the core copies.
 */
export class MemoryStorageAdapter extends SnapshotStorageAdapter {
  readonly backend = 'memory'
  private readonly entries = new Map<string, SessionSnapshot>()
  private tail: Promise<unknown> = Promise.resolve()

  async close(): Promise<void> {
    await this.tail
  }

  /** A capability of its own besides SnapshotStorageAdapter's count, so that the suite's generic-path run proves the title look-up on memory too. */
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

  protected exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work)
    this.tail = result.catch(() => undefined)
    return result
  }

  protected async has(sessionId: string): Promise<boolean> {
    return this.entries.has(sessionId)
  }

  protected async read(sessionId: string): Promise<SessionSnapshot | undefined> {
    return this.entries.get(sessionId)
  }

  protected async remove(sessionIds: string[]): Promise<string[]> {
    return sessionIds.filter(id => this.entries.delete(id))
  }

  protected async sessionIds(): Promise<string[]> {
    return [...this.entries.keys()].sort()
  }

  protected async write(snapshots: SessionSnapshot[]): Promise<void> {
    for (const snapshot of snapshots) this.entries.set(snapshot.session.id, snapshot)
  }
}

/** A store in memory, nothing persisted: what fast tests and a chat without a database use. */
export class MemorySessionStore extends SessionStore {
  constructor(options: StoreOptions = {}) {
    super(new MemoryStorageAdapter(), options)
  }
}
