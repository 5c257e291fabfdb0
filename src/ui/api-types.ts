/**
 * The JSON that `synapse ui`'s server (src/ui/api.ts) answers and its page (src/ui/web/) reads: one
 * declaration for both sides, the CLI's own JSON types where it has them. The page imports only
 * types and constants from here: nothing of the CLI's code reaches its bundle.
 * Timestamps are ISO-8601 strings with milliseconds.
 */
import type {MessageJson, SessionJson, SessionListItem} from '../cli/views/sessions.js'
import type {TakenOut} from '../store/exchanges.js'
import type {UsageGroup, UsageTotals} from '../store/session-store.js'

export type UiSortKey = 'cost' | 'created' | 'messages' | 'title' | 'updated'
export const UI_SORT_KEYS: readonly UiSortKey[] = ['updated', 'created', 'messages', 'title', 'cost']
export type UiSortOrder = 'asc' | 'desc'

/** One row of the session list: what `sessions list --json` gives for it, with its replies' cost. */
export type UiSessionItem = SessionListItem & {
  /** The known costs of its replies in US dollars; null when none has one. */
  costUsd: null | number
}

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

/**
 * Why a stored message is not in the conversation (see Message.hiddenAt): a retry's new reply or an
 * edit's new question and reply took its place, or it was undone, or it is a reply to a question
 * taken out (another process answered after the undo).
 */
export type UiTakenOut = TakenOut

export type UiMessage = MessageJson & {
  /** Null while the message is in the conversation (what `sessions show` prints without --all). */
  takenOut: null | UiTakenOut
}
export type UiSession = SessionJson

/** A fork's parent. Deleted since (`exists` false): only its id and the position are known. */
export interface UiParent {
  exists: boolean
  id: string
  /** The parent's last message the fork copied; null when the parent had none then. */
  position: null | number
  preview: null | string
  title: null | string
}

/** A session forked from the one shown. */
export interface UiFork {
  createdAt: string
  id: string
  /** The position of the last message it copied; null when there was none. */
  position: null | number
  preview: null | string
  title: null | string
}

/** GET /api/sessions/:id */
export interface UiSessionView {
  /** The sessions forked from it, oldest first. */
  forks: UiFork[]
  /** Every stored message in position order, those taken out of the conversation included (and marked). */
  messages: UiMessage[]
  /** Null for a session that is no fork. */
  parent: null | UiParent
  session: UiSession
  /** What its replies used and cost in all, replaced ones included: what was paid for (SessionStore.usage). */
  totals: UsageTotals
}

/** PATCH /api/sessions/:id: the fields to change. */
export interface UiSessionPatch {
  kept?: boolean
  /** A title of white space only is refused; null clears the title. */
  title?: null | string
}

/** One hit of GET /api/search: a message (or, with `message` null, a session's title) that matched. */
export interface UiSearchHit {
  message: null | {createdAt: string; id: string; position: number; role: UiMessage['role']}
  /** Out of the conversation (retried, edited or undone): found only with `replaced=1`. */
  replaced: boolean
  score: number
  /** `preview`: as a session of UiSessionPage has it, what the page names an untitled session by. */
  session: {id: string; model: null | string; preview: null | string; provider: null | string; shortId: string; title: null | string; updatedAt: string}
  /** The text around the first match, on one line, and where in it each match stands (UTF-16 indices). */
  snippet: {matches: Array<{end: number; start: number}>; text: string}
}

/** GET /api/search?q=…: one page of hits, the best first. */
export interface UiSearchPage {
  hits: UiSearchHit[]
  limit: number
  /** Whether there are hits after this page. */
  more: boolean
  offset: number
  query: string
}

export type UiUsageGroup = UsageGroup

/** GET /api/usage: what the replies of a period used and cost, per local day (oldest first) and per model (costliest first). */
export interface UiUsage {
  days: UiUsageGroup[]
  models: UiUsageGroup[]
  total: UsageTotals
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
