import {terminalSafe} from '../../core/terminal-text.js'
import type {Message, Session, SessionSummary, UsageTotals} from '../../store/session-store.js'
import {takenOutOf} from '../../store/exchanges.js'
import {localTimestamp, type OutputStyle, paint, printable, plural, relativeTime, table, type TableColumn, truncate} from '../output.js'
import {summaryRangeOf} from '../../chat/context.js'
import {replyUsageLine, totalsLine} from './usage.js'

/** `sessions list --json`: one object per session. */
export interface SessionListItem {
  createdAt: string
  id: string
  kept: boolean
  messageCount: number
  model: null | string
  /** A fork's parent and the position it was forked at (see Session.parentId); null for other sessions. */
  parentId: null | string
  parentPosition: null | number
  preview: null | string
  provider: null | string
  shortId: string
  title: null | string
  updatedAt: string
}

export type SessionJson = Omit<Session, 'createdAt' | 'updatedAt'> & {createdAt: string; updatedAt: string}
export type MessageJson = Omit<Message, 'createdAt' | 'hiddenAt'> & {createdAt: string; hiddenAt: null | string}

export function sessionJson(session: Session): SessionJson {
  return inKeyOrder({...session, createdAt: session.createdAt.toISOString(), updatedAt: session.updatedAt.toISOString()})
}

export function messageJson(message: Message): MessageJson {
  return inKeyOrder({...message, createdAt: message.createdAt.toISOString(), hiddenAt: message.hiddenAt === null ? null : message.hiddenAt.toISOString()})
}

/**
 * The fields in byte order of their names, as exports have them: each adapter builds its objects in
 * an order of its own (Redis puts the id first), and the same session must print the same --json
 * text from every backend.
 */
function inKeyOrder<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T
}

export function listItem(summary: SessionSummary): SessionListItem {
  return {
    createdAt: summary.createdAt.toISOString(),
    id: summary.id,
    kept: summary.kept,
    messageCount: summary.messageCount,
    model: summary.model,
    parentId: summary.parentId,
    parentPosition: summary.parentPosition,
    preview: summary.preview,
    provider: summary.provider,
    shortId: summary.shortId,
    title: summary.title,
    updatedAt: summary.updatedAt.toISOString(),
  }
}

export function modelLabel(session: {model: null | string; provider: null | string}): string {
  if (session.provider && session.model) return `${session.provider}/${session.model}`
  return session.model ?? session.provider ?? ''
}

/** The title, else the first user message, else a placeholder: white space folded to one line, controls escaped. */
export function headline(session: {preview?: null | string; title: null | string}): string {
  return printable(session.title ?? session.preview ?? '') || '(empty)'
}

/**
 * A terminal gets aligned columns with short ids and relative times, cut to `width` columns (the
 * title gives way first, then the model; CREATED goes when even that is too wide), and a KEPT column
 * when any listed session is kept. A pipe gets full ids and ISO times, tab-separated, whatever the width.
 */
export function renderSessionTable(sessions: SessionSummary[], style: OutputStyle, options: {now?: Date; width?: number} = {}): string[] {
  const now = options.now ?? new Date()
  const when = (date: Date) => (style.terminal ? relativeTime(date, now) : date.toISOString())
  const kept: TableColumn<SessionSummary>[] =
    style.terminal && sessions.some(s => s.kept) ? [{header: 'KEPT', tint: () => 'green', value: s => (s.kept ? 'kept' : '')}] : []
  return table(
    sessions,
    [
      {header: 'ID', tint: () => 'cyan', value: s => (style.terminal ? s.shortId : s.id)},
      {header: 'TITLE', minWidth: 24, value: s => headline(s)},
      {header: 'MODEL', maxWidth: 32, minWidth: 10, value: s => modelLabel(s)},
      {header: 'MSGS', value: s => String(s.messageCount)},
      {header: 'CREATED', optional: true, tint: () => 'dim', value: s => when(s.createdAt)},
      {header: 'UPDATED', value: s => when(s.updatedAt)},
      ...kept,
    ],
    style,
    {width: options.width},
  )
}

/** Under a terminal's list when it shows part of the sessions: how many of how many, and how to see the rest. */
export function listFooter(shown: number, total: number): string | undefined {
  if (shown >= total) return undefined
  return `${shown} of ${plural(total, 'session')} · --all or --limit N`
}

export interface RenderSessionOptions {
  /** Renders a reply's Markdown (at a terminal); without it, replies are shown as they were written. */
  markdown?: (text: string) => string
  /**
   * How many stored messages are not shown because they were taken out of the conversation (shown
   * without --all): the header says so, and how to see them.
   */
  notShown?: number
  /** For a fork: whether its parent is still stored (a fork outlives a deleted parent). */
  parentExists?: boolean
  /** The session's usage in all, printed after its messages. */
  usage?: UsageTotals
}

/**
 * Every stored value is shown with its control characters escaped; bodies keep newlines and tabs.
 * Times are local, to the minute (--json has the exact ISO times). What the user wrote is shown as
 * written; replies are rendered when `options.markdown` is given.
 */
export function renderSession(session: Session, messages: Message[], style: OutputStyle, options: RenderSessionOptions = {}): string[] {
  const line = (text: string) => terminalSafe(text)
  const body = (text: string) => terminalSafe(text, {multiline: true})
  const reply = options.markdown ? (text: string) => options.markdown!(text).replace(/\n$/, '') : body
  const lines = [
    `${paint(style, 'bold', 'Session')} ${paint(style, 'cyan', session.id)}${session.title ? `  ${paint(style, 'bold', line(session.title))}` : ''}`,
  ]
  const facts: string[] = []
  const model = line(modelLabel(session))
  if (model) facts.push(`model ${model}`)
  facts.push(`created ${localTimestamp(session.createdAt)}`, `updated ${localTimestamp(session.updatedAt)}`, plural(messages.length, 'message'))
  const takenOut = takenOutOf(messages)
  const out = takenOut.size
  if (out > 0) facts.push(`${out} taken out of the conversation`)
  if (options.notShown) facts.push(`${options.notShown} more taken out of the conversation (--all shows them)`)
  if (session.kept) facts.push('kept from retention')
  lines.push(paint(style, 'dim', facts.join(' · ')))
  if (session.parentId !== null) {
    const at = session.parentPosition === null ? 'when it had no messages' : `at position ${session.parentPosition}`
    lines.push(paint(style, 'dim', `forked from ${session.parentId} ${at}${options.parentExists === false ? ' (since deleted)' : ''}`))
  }
  if (session.systemPrompt) lines.push(`${paint(style, 'dim', 'system:')} ${body(session.systemPrompt)}`)
  const meta = Object.entries(session.metadata)
  if (meta.length > 0)
    lines.push(`${paint(style, 'dim', 'meta:')} ${meta.map(([k, v]) => line(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)).join(' ')}`)
  const byId = new Map(messages.map(m => [m.id, m]))
  messages.forEach((message, index) => {
    // A reply stored after another turn's messages (two processes in one session) names its question.
    const question = message.replyTo !== null && messages[index - 1]?.id !== message.replyTo ? (byId.get(message.replyTo) ?? message.replyTo) : undefined
    const replacement = message.supersededBy === null ? undefined : (byId.get(message.supersededBy) ?? message.supersededBy)
    const header = messageHeader(message, style, {answersTakenOut: takenOut.get(message.id) === 'question-out', question, replacement})
    lines.push('', header, ...(message.role === 'assistant' ? reply : body)(message.content).split('\n'))
  })
  if (options.usage && options.usage.replies > 0) lines.push('', paint(style, 'dim', `total: ${totalsLine(options.usage)}`))
  return lines
}

interface HeaderContext {
  /** Not hidden itself, but the reply to a question that was (another process answered it after an undo or an edit). */
  answersTakenOut: boolean
  question?: Message | string
  replacement?: Message | string
}

function messageHeader(message: Message, style: OutputStyle, {answersTakenOut, question, replacement}: HeaderContext): string {
  const tint = message.role === 'user' ? 'green' : message.role === 'assistant' ? 'cyan' : 'yellow'
  // The position is what `sessions fork --at` takes.
  const details: string[] = [`#${message.position}`]
  if (message.model) details.push(terminalSafe(message.model))
  const summary = summaryRangeOf(message)
  if (summary) details.push(`summary of positions ${summary.from}–${summary.to}`)
  const usage = message.role === 'assistant' || summary ? replyUsageLine(message) : undefined
  if (usage) details.push(usage)
  if (message.status === 'pending') details.push(paint(style, 'yellow', 'unanswered'))
  else if (message.status !== 'complete') details.push(paint(style, message.status === 'error' ? 'red' : 'yellow', message.status))
  if (question !== undefined) details.push(`reply to ${quoted(question)}`)
  if (message.hiddenAt !== null)
    details.push(paint(style, 'yellow', replacement === undefined ? `undone ${localTimestamp(message.hiddenAt)}` : `replaced by ${quoted(replacement)}`))
  else if (answersTakenOut) details.push(paint(style, 'yellow', 'answers a question taken out'))
  const head = paint(style, 'bold', paint(style, tint, message.role))
  return `${head} ${paint(style, 'dim', `· ${details.join(' · ')}`)}`
}

/** Another message as a header names it: the start of its content, or its id when it is not at hand. */
function quoted(message: Message | string): string {
  return typeof message === 'string' ? message : `"${truncate(printable(message.content), 40)}"`
}

export function describeSessionBrief(session: {id: string; title: null | string; preview?: null | string}): string {
  return `${session.id}  ${truncate(headline(session), 60)}`
}
