import type {Session, SessionStore} from '../store/session-store.js'
import {previewOf} from '../store/exchanges.js'

export type SessionWithPreview = Session & {preview: null | string}

/**
 * Sessions with the preview a list shows (the start of the first question still in the conversation), for naming them
 * where only their ids were given: the delete and keep prompts and reports.
 */
export async function withPreviews(store: SessionStore, sessions: Session[]): Promise<SessionWithPreview[]> {
  return Promise.all(sessions.map(async session => ({...session, preview: previewOf(await store.messages(session.id))})))
}
