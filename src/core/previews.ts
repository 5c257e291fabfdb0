import {PREVIEW_LENGTH, type Session, type SessionStore} from '../store/session-store.js'

export type SessionWithPreview = Session & {preview: null | string}

/**
 * Sessions with the preview a list shows (the start of the first user message), for naming them
 * where only their ids were given: the delete and keep prompts and reports.
 */
export async function withPreviews(store: SessionStore, sessions: Session[]): Promise<SessionWithPreview[]> {
  return Promise.all(
    sessions.map(async session => {
      const first = (await store.messages(session.id)).find(m => m.role === 'user')
      return {...session, preview: first ? first.content.slice(0, PREVIEW_LENGTH) : null}
    }),
  )
}
