import {SynapseError} from '../core/errors.js'
import {newId} from '../core/ids.js'
import {checkSnapshotBatch} from '../store/record-codec.js'
import type {SessionSnapshot, SessionStore} from '../store/session-store.js'

/** Snapshots of the named sessions (ids or unique prefixes), or of every session; oldest id first. */
export async function collectSnapshots(store: SessionStore, selection: {all: true} | {ids: string[]}): Promise<SessionSnapshot[]> {
  const ids: string[] = []
  if ('all' in selection) {
    for (let offset = 0; ; offset += 1000) {
      const page = await store.list({limit: 1000, offset})
      ids.push(...page.map(s => s.id))
      if (page.length < 1000) break
    }
  } else {
    for (const id of selection.ids) ids.push((await store.get(id)).id)
  }
  const unique = [...new Set(ids)].sort()
  return Promise.all(unique.map(async id => ({messages: await store.messages(id), session: await store.get(id)})))
}

export interface ImportOptions {
  /** Give every session and message a fresh id: import a copy beside the originals. */
  newIds?: boolean
  /** Overwrite sessions whose id exists. */
  replace?: boolean
}

export interface ImportReport {
  imported: Array<{id: string; messages: number; replaced: boolean; title: null | string}>
}

/**
 * Writes snapshots into a store, all or nothing. The whole batch is checked first: every value in
 * range for every backend, no session or message id twice in the file (checkSnapshotBatch), and a
 * session id that is already taken stops the import up front unless --replace or --new-ids says what
 * to do. Then one `restoreAll` writes it, which also refuses message ids held by other sessions of
 * the store: whatever is refused, the store is left exactly as it was.
 */
export async function importSnapshots(store: SessionStore, snapshots: SessionSnapshot[], options: ImportOptions = {}): Promise<ImportReport> {
  if (options.newIds && options.replace) {
    throw new SynapseError('INVALID_INPUT', '--new-ids and --replace exclude each other.', {exitCode: 2})
  }
  // The file as written: a session in it twice is refused with --new-ids too, and a refusal names the ids the file has.
  try {
    checkSnapshotBatch(snapshots)
  } catch (error) {
    throw nothingImported(error)
  }
  const prepared = options.newIds ? withNewIds(snapshots) : snapshots
  const existing = new Set<string>()
  for (const {session} of prepared) if (await sessionExists(store, session.id)) existing.add(session.id)
  if (existing.size > 0 && !options.replace) {
    throw new SynapseError(
      'INVALID_INPUT',
      `${existing.size} of the sessions already exist (${[...existing].slice(0, 3).join(', ')}${existing.size > 3 ? ', …' : ''}); nothing was imported.`,
      {
        suggestions: ['Add --replace to overwrite them, or --new-ids to import copies beside them.'],
      },
    )
  }
  try {
    await store.restoreAll(prepared, {replace: options.replace})
  } catch (error) {
    throw nothingImported(error)
  }
  return {
    imported: prepared.map(({messages, session}) => ({id: session.id, messages: messages.length, replaced: existing.has(session.id), title: session.title})),
  }
}

/** A refused batch, said as such: the store's reason, that nothing changed, and what to try. */
function nothingImported(error: unknown): unknown {
  if (!(error instanceof SynapseError) || error.code !== 'INVALID_INPUT') return error
  return new SynapseError('INVALID_INPUT', `${error.message.replace(/\.$/, '')}; nothing was imported.`, {
    // A bad file, as parseExport reports one: exit 1, not the usage error's 2.
    exitCode: 1,
    cause: error,
    suggestions: ['Correct the file; if its ids clash with sessions already stored, --new-ids imports copies with fresh ids.'],
  })
}

/** Whether a session of exactly this id is stored (a prefix of another id does not count). */
export async function sessionExists(store: SessionStore, id: string): Promise<boolean> {
  try {
    return (await store.get(id)).id === id
  } catch (error) {
    if ((error as SynapseError).code === 'SESSION_NOT_FOUND' || (error as SynapseError).code === 'AMBIGUOUS_SESSION_ID') return false
    throw error
  }
}

/**
 * Copies of the snapshots under fresh ids. References follow what they name to its new id: a reply
 * still names its question, a replaced message what replaced it, and a fork copied with its parent
 * names the parent's copy (a fork whose parent is not in the batch keeps naming the original).
 */
function withNewIds(snapshots: SessionSnapshot[]): SessionSnapshot[] {
  const sessionIds = new Map(snapshots.map(({session}) => [session.id, newId(session.createdAt.getTime())]))
  return snapshots.map(({messages, session}) => {
    const id = sessionIds.get(session.id)!
    const renamed = new Map(messages.map(m => [m.id, newId(m.createdAt.getTime())]))
    const follow = (ref: null | string) => (ref === null ? null : (renamed.get(ref) ?? ref))
    return {
      messages: messages.map(m => ({...m, id: renamed.get(m.id)!, replyTo: follow(m.replyTo), sessionId: id, supersededBy: follow(m.supersededBy)})),
      session: {...session, id, parentId: session.parentId === null ? null : (sessionIds.get(session.parentId) ?? session.parentId)},
    }
  })
}
