/**
 * The JSON that `synapse ui`'s server (src/ui/api.ts) answers and its page (src/ui/web/) reads: one
 * declaration for both sides, the CLI's own JSON types where it has them. The page imports only
 * types and constants from here: nothing of the CLI's code reaches its bundle.
 * Timestamps are ISO-8601 strings with milliseconds.
 */
import type {MessageJson, SessionJson, SessionListItem} from '../cli/views/sessions.js'

export type UiSortKey = 'created' | 'messages' | 'title' | 'updated'
export const UI_SORT_KEYS: readonly UiSortKey[] = ['updated', 'created', 'messages', 'title']
export type UiSortOrder = 'asc' | 'desc'

/** One row of the session list: what `sessions list --json` gives for it. */
export type UiSessionItem = SessionListItem

/** GET /api/sessions: one page of the sessions that pass the filters, in the order asked for. */
export interface UiSessionPage {
  limit: number
  /** Every model any session names (unfiltered), for the filter's choices. */
  models: string[]
  offset: number
  sessions: UiSessionItem[]
  /** How many sessions pass the filters. */
  total: number
}

export type UiMessage = MessageJson
export type UiSession = SessionJson

/** GET /api/sessions/:id */
export interface UiSessionView {
  messages: UiMessage[]
  session: UiSession
  /** Input and output tokens summed over the replies that report them; null when none does. */
  totals: {inputTokens: null | number; outputTokens: null | number}
}

/** PATCH /api/sessions/:id: the fields to change. */
export interface UiSessionPatch {
  kept?: boolean
  /** A title of white space only is refused; null clears the title. */
  title?: null | string
}

/** Every error the API answers: the status says what kind, the message what to do. */
export interface UiError {
  error: {code: string; message: string}
}

export type UiExportFormat = 'json' | 'jsonl' | 'markdown'
export const UI_EXPORT_FORMATS: readonly UiExportFormat[] = ['json', 'jsonl', 'markdown']

/** The header a state-changing request carries the token in (a page of another origin cannot set it). */
export const TOKEN_HEADER = 'x-synapse-token'
/** Where the page finds the token for that header: a meta tag of the page the server sends. */
export const TOKEN_META = 'synapse-token'
