/**
 * The generic path of `SessionStore.usage` and what both paths share: the rows a query selects,
 * summed from messages in memory (for adapters without `usageTotals`), and the report made from rows,
 * whichever path gave them.
 */
import {InvalidInputError} from '../core/errors.js'
import {type Message, USAGE_GROUPINGS, type UsageGroup, type UsageOptions, type UsageReport, type UsageTotals} from './session-store.js'
import type {UsageQuery, UsageRow} from './storage-adapter.js'

/**
 * Days are local calendar days. Replies are first summed in buckets of 15 minutes, which every time
 * zone's offset from UTC is a multiple of, so a bucket never straddles a local midnight: SQL can sum
 * by bucket without knowing the zone, and the core gives each bucket its day.
 */
export const DAY_BUCKET_MS = 15 * 60 * 1000

export function checkUsageOptions(options: UsageOptions): void {
  if (options.by !== undefined && !USAGE_GROUPINGS.includes(options.by)) {
    throw new InvalidInputError(`"${String(options.by)}" is not a usage grouping; use one of ${USAGE_GROUPINGS.join(', ')}.`)
  }
  for (const [name, date] of [
    ['since', options.since],
    ['until', options.until],
  ] as const) {
    if (date !== undefined && !(date instanceof Date && !Number.isNaN(date.getTime()))) throw new InvalidInputError(`"${name}" is not a valid date.`)
  }
  if (options.sessionIds !== undefined && !Array.isArray(options.sessionIds)) throw new InvalidInputError('"sessionIds" must be a list of session ids.')
}

/** The adapter query for a grouping. */
export function usageQueryOf(options: UsageOptions, sessionIds?: readonly string[]): UsageQuery {
  const group = options.by === undefined ? 'none' : options.by === 'day' ? 'bucket' : options.by
  return {bucketMs: DAY_BUCKET_MS, group, sessionIds, since: options.since, until: options.until}
}

/** The rows `usageTotals` would give for these messages (of the selected sessions): the generic path. */
export function usageRowsOf(messages: Iterable<Message>, query: UsageQuery): UsageRow[] {
  const rows = new Map<null | string, UsageRow>()
  for (const m of messages) {
    if (!isModelOutput(m)) continue
    if (query.since && m.createdAt < query.since) continue
    if (query.until && m.createdAt >= query.until) continue
    const key = keyOf(m, query)
    let row = rows.get(key)
    if (!row) rows.set(key, (row = {...emptyTotals(), key}))
    addMessage(row, m)
  }
  return [...rows.values()]
}

/** A reply, or a system message the model wrote (a summary of earlier turns), which is the one kind that carries token counts. */
function isModelOutput(m: Message): boolean {
  return m.role === 'assistant' || (m.role === 'system' && m.tokenSource !== null)
}

function keyOf(m: Message, query: UsageQuery): null | string {
  switch (query.group) {
    case 'bucket': {
      return String(Math.floor(m.createdAt.getTime() / query.bucketMs))
    }
    case 'model': {
      return m.model
    }
    case 'provider': {
      return m.provider
    }
    case 'session': {
      return m.sessionId
    }
    default: {
      return null
    }
  }
}

function addMessage(totals: UsageTotals, m: Message): void {
  totals.replies++
  totals.inputTokens += m.inputTokens ?? 0
  totals.outputTokens += m.outputTokens ?? 0
  totals.cachedInputTokens += m.cachedInputTokens ?? 0
  if (m.costUsd === null) totals.unpricedReplies++
  else totals.costUsd = (totals.costUsd ?? 0) + m.costUsd
  if (m.tokenSource === 'tokenizer' || m.tokenSource === 'estimate') totals.estimatedReplies++
}

export function emptyTotals(): UsageTotals {
  return {cachedInputTokens: 0, costUsd: null, estimatedReplies: 0, inputTokens: 0, outputTokens: 0, replies: 0, unpricedReplies: 0}
}

function addTotals(into: UsageTotals, row: UsageTotals): void {
  into.replies += row.replies
  into.inputTokens += row.inputTokens
  into.outputTokens += row.outputTokens
  into.cachedInputTokens += row.cachedInputTokens
  into.estimatedReplies += row.estimatedReplies
  into.unpricedReplies += row.unpricedReplies
  if (row.costUsd !== null) into.costUsd = (into.costUsd ?? 0) + row.costUsd
}

/** The local calendar day of an instant, 'YYYY-MM-DD'. */
export function localDay(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`
}

/** The report from rows of either path: buckets become local days, a key met twice is added up, then sorted. */
export function usageReportOf(rows: readonly UsageRow[], options: UsageOptions): UsageReport {
  const total = emptyTotals()
  const groups = new Map<null | string, UsageGroup>()
  for (const row of rows) {
    if (row.replies === 0) continue
    addTotals(total, row)
    if (options.by === undefined) continue
    const key = options.by === 'day' ? localDay(new Date(Number(row.key) * DAY_BUCKET_MS)) : row.key
    let group = groups.get(key)
    if (!group) groups.set(key, (group = {...emptyTotals(), key}))
    addTotals(group, row)
  }
  const list = [...groups.values()]
  if (options.by === 'day') list.sort((a, b) => compareKeys(a.key, b.key))
  else
    list.sort((a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1) || b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens) || compareKeys(a.key, b.key))
  return {by: options.by ?? null, groups: list, total}
}

/** Keys in byte order, null (replies that name none) last. */
function compareKeys(a: null | string, b: null | string): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return a < b ? -1 : 1
}
