import {listItem, messageJson, sessionJson} from '../cli/views/sessions.js'
import {SynapseError} from '../core/errors.js'
import {MESSAGE_ROLES, type MessageRole, type Session, type SessionStore, type SessionSummary} from '../store/session-store.js'
import {takenOutOf} from '../store/exchanges.js'
import {newestFirst} from '../store/store.js'
import {serialize} from '../transfer/format.js'
import {collectSnapshots} from '../transfer/transfer.js'
import {
  UI_EXPORT_FORMATS,
  UI_SORT_KEYS,
  type UiExportFormat,
  type UiSearchPage,
  type UiSession,
  type UiSessionPage,
  type UiSessionPatch,
  type UiSessionView,
  type UiSortKey,
  type UiSortOrder,
  type UiUsage,
} from './api-types.js'

/** A request the API refuses: the HTTP status and what the page shows. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 500

export interface ListQuery {
  limit: number
  model?: string
  offset: number
  order: UiSortOrder
  /** Sessions updated at or after this instant. */
  since?: Date
  sort: UiSortKey
  /** Sessions updated before this instant. */
  until?: Date
}

/** The list's query string: `offset`, `limit`, `sort`, `order`, `model`, `since`, `until` (ISO instants). */
export function parseListQuery(params: URLSearchParams): ListQuery {
  const sort = params.get('sort') ?? 'updated'
  if (!(UI_SORT_KEYS as readonly string[]).includes(sort)) throw new ApiError(400, 'INVALID_INPUT', `sort must be one of ${UI_SORT_KEYS.join(', ')}.`)
  const order = params.get('order') ?? (sort === 'title' ? 'asc' : 'desc')
  if (order !== 'asc' && order !== 'desc') throw new ApiError(400, 'INVALID_INPUT', 'order must be asc or desc.')
  return {
    limit: integer(params, 'limit', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
    model: params.get('model') || undefined,
    offset: integer(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    order,
    since: instant(params, 'since'),
    sort: sort as UiSortKey,
    until: instant(params, 'until'),
  }
}

/**
 * One page of the list, filtered and sorted as asked. The store pages only by recency, so the rest
 * is done here over every summary: the same on every backend, and quick enough for the thousands of
 * sessions a person keeps.
 */
export async function sessionPage(store: SessionStore, query: ListQuery): Promise<UiSessionPage> {
  const all = await allSummaries(store)
  const models = [...new Set(all.map(s => s.model).filter((m): m is string => m !== null))].sort()
  const chosen = all.filter(
    s =>
      (query.model === undefined || s.model === query.model) &&
      (query.since === undefined || s.updatedAt >= query.since) &&
      (query.until === undefined || s.updatedAt < query.until),
  )
  // One aggregate for every session (SQL backends sum natively): what sorting by cost needs anyway.
  const usage = await store.usage({by: 'session'})
  const cost = new Map(usage.groups.map(group => [group.key, group.costUsd]))
  const costOf = (s: SessionSummary) => cost.get(s.id) ?? null
  const sorted = sortSummaries(chosen, query.sort, query.order, costOf)
  return {
    limit: query.limit,
    models,
    offset: query.offset,
    sessions: sorted.slice(query.offset, query.offset + query.limit).map(s => ({...listItem(s), costUsd: costOf(s)})),
    total: chosen.length,
  }
}

/**
 * A session with every stored message (each marked when out of the conversation), its totals, its
 * parent and its forks. The port has no lookup by parent: the forks come from every summary, as the
 * list reads them, and so does the parent's title (or first question) and whether it still exists.
 */
export async function sessionView(store: SessionStore, id: string): Promise<UiSessionView> {
  const session = await findSession(store, id)
  const [messages, usage, all] = await Promise.all([store.messages(session.id), store.usage({sessionIds: [session.id]}), allSummaries(store)])
  const takenOut = takenOutOf(messages)
  const parent = session.parentId === null ? undefined : all.find(s => s.id === session.parentId)
  return {
    forks: all
      .filter(s => s.parentId === session.id)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
      .map(s => ({createdAt: s.createdAt.toISOString(), id: s.id, position: s.parentPosition, preview: s.preview, title: s.title})),
    messages: messages.map(m => ({...messageJson(m), takenOut: takenOut.get(m.id) ?? null})),
    parent:
      session.parentId === null
        ? null
        : {
            exists: parent !== undefined,
            id: session.parentId,
            position: session.parentPosition,
            preview: parent?.preview ?? null,
            title: parent?.title ?? null,
          },
    session: sessionJson(session),
    totals: usage.total,
  }
}

export async function patchSession(store: SessionStore, id: string, body: unknown): Promise<UiSession> {
  const patch = checkPatch(body)
  const session = await findSession(store, id)
  // The core's title rule (trimmed, 1 to MAX_TITLE_LENGTH characters) refuses before anything is written: a 400.
  return sessionJson(await store.update(session.id, {kept: patch.kept, title: patch.title}))
}

export async function deleteSession(store: SessionStore, id: string): Promise<{deleted: string}> {
  const session = await findSession(store, id)
  if ((await store.delete([session.id])) === 0) throw new ApiError(404, 'SESSION_NOT_FOUND', 'The session was deleted meanwhile.')
  return {deleted: session.id}
}

export interface Download {
  body: string
  contentType: string
  filename: string
}

/** A session in one of `sessions export`'s formats (src/transfer), the same bytes as that command writes. */
export async function exportSession(store: SessionStore, id: string, format: null | string): Promise<Download> {
  const chosen = (format ?? 'json') as UiExportFormat
  if (!UI_EXPORT_FORMATS.includes(chosen)) throw new ApiError(400, 'INVALID_INPUT', `format must be one of ${UI_EXPORT_FORMATS.join(', ')}.`)
  const session = await findSession(store, id)
  const snapshots = await collectSnapshots(store, {ids: [session.id]})
  const extension = {json: 'json', jsonl: 'jsonl', markdown: 'md'}[chosen]
  const contentType = {json: 'application/json', jsonl: 'application/x-ndjson', markdown: 'text/markdown'}[chosen]
  return {body: serialize(snapshots, chosen), contentType: `${contentType}; charset=utf-8`, filename: `synapse-${session.id}.${extension}`}
}

export const DEFAULT_SEARCH_PAGE = 20

/**
 * One page of `SessionStore.search` (the query language, ranking and snippets are the core's):
 * `q`, and the filters `model`, `role`, `since`, `until` (ISO instants), `offset`, `limit`, and
 * `replaced=1` for the messages a retry, an edit or an undo took out too (each such hit `replaced`),
 * as the session view's `?replaced=1` shows them.
 */
export async function searchPage(store: SessionStore, params: URLSearchParams): Promise<UiSearchPage> {
  const query = params.get('q') ?? ''
  const role = params.get('role') || undefined
  if (role !== undefined && !(MESSAGE_ROLES as readonly string[]).includes(role))
    throw new ApiError(400, 'INVALID_INPUT', `role must be one of ${MESSAGE_ROLES.join(', ')}.`)
  const limit = integer(params, 'limit', DEFAULT_SEARCH_PAGE, 1, MAX_PAGE_SIZE)
  const offset = integer(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER)
  // One more than the page: whether there is a next one, without counting every hit.
  const hits = await store.search(query, {
    includeReplaced: params.get('replaced') === '1',
    limit: limit + 1,
    model: params.get('model') || undefined,
    offset,
    role: role as MessageRole | undefined,
    since: instant(params, 'since'),
    until: instant(params, 'until'),
  })
  return {
    hits: hits.slice(0, limit).map(hit => ({
      message: hit.message && {...hit.message, createdAt: hit.message.createdAt.toISOString()},
      replaced: hit.replaced,
      score: hit.score,
      session: {...hit.session, updatedAt: hit.session.updatedAt.toISOString()},
      snippet: hit.snippet,
    })),
    limit,
    more: hits.length > limit,
    offset,
    query,
  }
}

/** GET /api/usage?since=…&until=… (ISO instants): SessionStore.usage by local day and by model. */
export async function usagePage(store: SessionStore, params: URLSearchParams): Promise<UiUsage> {
  const period = {since: instant(params, 'since'), until: instant(params, 'until')}
  const [days, models] = await Promise.all([store.usage({...period, by: 'day'}), store.usage({...period, by: 'model'})])
  return {days: days.groups, models: models.groups, total: days.total}
}

/** Every session's summary, most recently updated first, read a page at a time. */
async function allSummaries(store: SessionStore): Promise<SessionSummary[]> {
  const pageSize = 1000
  const all: SessionSummary[] = []
  for (let offset = 0; ; offset += pageSize) {
    const page = await store.list({limit: pageSize, offset})
    all.push(...page)
    if (page.length < pageSize) return all
  }
}

function sortSummaries(summaries: SessionSummary[], key: UiSortKey, order: UiSortOrder, costOf: (s: SessionSummary) => null | number): SessionSummary[] {
  const recent = newestFirst(summaries)
  if (key === 'updated') return order === 'desc' ? recent : recent.reverse()
  const value = (s: SessionSummary): number | string =>
    key === 'cost'
      ? (costOf(s) ?? -1)
      : key === 'created'
        ? s.createdAt.getTime()
        : key === 'messages'
          ? s.messageCount
          : (s.title ?? s.preview ?? '').toLocaleLowerCase()
  const direction = order === 'asc' ? 1 : -1
  // Array.sort is stable: equal values keep the recency order.
  return recent.sort((a, b) => {
    const [x, y] = [value(a), value(b)]
    return x < y ? -direction : x > y ? direction : 0
  })
}

/** A session by its full id (what the page links to); a malformed or unknown one is a 404. */
async function findSession(store: SessionStore, id: string): Promise<Session> {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) throw new ApiError(404, 'SESSION_NOT_FOUND', 'There is no such session.')
  try {
    return await store.get(id)
  } catch (error) {
    if (error instanceof SynapseError && error.code === 'SESSION_NOT_FOUND') throw new ApiError(404, error.code, 'There is no such session (deleted?).')
    throw error
  }
}

function checkPatch(body: unknown): UiSessionPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'INVALID_INPUT', 'The body must be a JSON object.')
  const {kept, title, ...rest} = body as Record<string, unknown>
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw new ApiError(400, 'INVALID_INPUT', `Only title and kept can change, not ${unknown.join(', ')}.`)
  if (kept !== undefined && typeof kept !== 'boolean') throw new ApiError(400, 'INVALID_INPUT', 'kept must be true or false.')
  if (title !== undefined && title !== null && typeof title !== 'string') throw new ApiError(400, 'INVALID_INPUT', 'A title must be text, or null for none.')
  return {kept, title: title as null | string | undefined}
}

function integer(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = params.get(name)
  if (text === null || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max) throw new ApiError(400, 'INVALID_INPUT', `${name} must be a whole number from ${min} to ${max}.`)
  return value
}

function instant(params: URLSearchParams, name: string): Date | undefined {
  const text = params.get(name)
  if (text === null || text === '') return undefined
  const date = new Date(text)
  if (Number.isNaN(date.getTime())) throw new ApiError(400, 'INVALID_INPUT', `${name} must be a date and time (ISO-8601).`)
  return date
}
