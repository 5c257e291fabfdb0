import {terminalSafe} from '../../core/terminal-text.js'
import type {MatchRange, SearchHit} from '../../store/search.js'
import {localTimestamp, type OutputStyle, paint} from '../output.js'
import {cutToWidth, displayWidth} from '../width.js'
import {headline, modelLabel} from './sessions.js'

/** `sessions search --json`: one object per hit, dates as ISO strings, the snippet unmarked with its match ranges. */
export interface SearchHitJson {
  message: null | {createdAt: string; id: string; position: number; role: string}
  /** Out of the conversation (retried, edited or undone): only `--all` finds such a hit. */
  replaced: boolean
  score: number
  /** `preview`: as `sessions list --json` has it (the start of the first question still in the conversation; null without one). */
  session: {id: string; model: null | string; preview: null | string; provider: null | string; shortId: string; title: null | string; updatedAt: string}
  snippet: {matches: MatchRange[]; text: string}
}

export function searchHitJson(hit: SearchHit): SearchHitJson {
  return {
    message: hit.message && {...hit.message, createdAt: hit.message.createdAt.toISOString()},
    replaced: hit.replaced,
    score: hit.score,
    session: {...hit.session, updatedAt: hit.session.updatedAt.toISOString()},
    snippet: hit.snippet,
  }
}

/**
 * The snippet with its matches marked (bold yellow; plain without colour), each piece made safe on
 * its own so that the ranges still fall where the matches are, cut to `width` columns.
 */
export function markedSnippet(snippet: SearchHit['snippet'], style: OutputStyle, width?: number): string {
  const pieces: Array<{marked: boolean; text: string}> = []
  let at = 0
  for (const range of snippet.matches) {
    if (range.start > at) pieces.push({marked: false, text: snippet.text.slice(at, range.start)})
    pieces.push({marked: true, text: snippet.text.slice(range.start, range.end)})
    at = range.end
  }
  if (at < snippet.text.length) pieces.push({marked: false, text: snippet.text.slice(at)})
  let out = ''
  let left = width ?? Number.POSITIVE_INFINITY
  for (const piece of pieces) {
    if (left <= 0) break
    const text = terminalSafe(piece.text)
    const shown = displayWidth(text) > left ? cutToWidth(text, left) : text
    left -= displayWidth(shown)
    out += piece.marked ? paint(style, 'yellow', paint(style, 'bold', shown)) : shown
  }
  return out
}

/**
 * What marks a hit out of the conversation (`--all`), after its role. One word for what `sessions
 * show --all` tells apart (`replaced by "…"`, `undone <time>`): the hit is a pointer, show says which.
 */
export const REPLACED_MARK = 'replaced'

/** The fewest columns a hit's session name is cut to on a narrow terminal: the list's TITLE column's. */
const MIN_NAME_WIDTH = 24

/**
 * A terminal gets two lines a hit: the session's short id, its name as `sessions list` shows it
 * (`headline`: the title, else the start of its first question), the local date of the message (of
 * the session's last update, for a title), model and role, then the snippet, indented, with the
 * matches marked; the name gives way when the head is wider than `width`. A pipe gets one
 * tab-separated line a hit: session id, message id (empty for a title), role (or "title"), ISO
 * date, model, snippet, session name, every field on one line (the name last, so that the fields
 * before it keep their places). A replaced hit's role reads "assistant (replaced)" in both, the
 * mark yellow at a terminal.
 */
export function renderHits(hits: SearchHit[], style: OutputStyle, options: {width?: number} = {}): string[] {
  const lines: string[] = []
  for (const hit of hits) {
    const when = hit.message ? hit.message.createdAt : hit.session.updatedAt
    const role = hit.message ? hit.message.role : 'title'
    const model = modelLabel(hit.session)
    const shownRole = hit.replaced ? `${role} (${REPLACED_MARK})` : role
    if (!style.terminal) {
      lines.push(
        [hit.session.id, hit.message?.id ?? '', shownRole, when.toISOString(), terminalSafe(model), terminalSafe(hit.snippet.text), headline(hit.session)].join(
          '\t',
        ),
      )
      continue
    }
    const name = headline(hit.session)
    const facts = [localTimestamp(when), terminalSafe(model), shownRole].filter(Boolean)
    const room = options.width === undefined ? undefined : options.width - displayWidth([hit.session.shortId, '', ...facts].join('  '))
    const head = [
      paint(style, 'cyan', hit.session.shortId),
      paint(style, 'bold', room === undefined ? name : cutToWidth(name, Math.max(MIN_NAME_WIDTH, room))),
      paint(style, 'dim', localTimestamp(when)),
      terminalSafe(model),
      paint(style, 'dim', role) + (hit.replaced ? ` ${paint(style, 'yellow', `(${REPLACED_MARK})`)}` : ''),
    ]
    lines.push(head.filter(Boolean).join('  '))
    lines.push(`  ${markedSnippet(hit.snippet, style, options.width === undefined ? undefined : options.width - 2)}`)
  }
  return lines
}

const DURATION = /^(\d+)\s*(m|min|h|d|w)$/i
const UNIT_MS: Record<string, number> = {d: 86_400_000, h: 3_600_000, m: 60_000, min: 60_000, w: 604_800_000}
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * A `--since` / `--until` value: a duration back from `now` (`30m`, `12h`, `7d`, `2w`), a date
 * (`2026-11-30`, local time: its first millisecond, or its last with `endOfDay`), or an ISO
 * timestamp. Throws with a line saying what is accepted.
 */
export function parseWhen(text: string, options: {endOfDay?: boolean; now?: Date} = {}): Date {
  const now = options.now ?? new Date()
  const trimmed = text.trim()
  const duration = DURATION.exec(trimmed)
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2].toLowerCase()])
  const day = DATE_ONLY.exec(trimmed)
  if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]) - 1, Number(day[3])]
    const start = new Date(year, month, date)
    if (start.getFullYear() === year && start.getMonth() === month && start.getDate() === date) {
      return options.endOfDay ? new Date(new Date(year, month, date + 1).getTime() - 1) : start
    }
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(trimmed) && !Number.isNaN(Date.parse(trimmed))) {
    return new Date(trimmed)
  }
  throw new Error(`"${text}" is neither a date (2026-11-30, 2026-11-30T14:00Z) nor a duration (30m, 12h, 7d, 2w)`)
}
