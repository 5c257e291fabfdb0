import type {ChatMessage} from '../providers/provider.js'
import {estimateTokens} from '../providers/token-count.js'
import type {Message} from '../store/session-store.js'

export {estimateTokens} from '../providers/token-count.js'

export interface ContextBudget {
  /** Earlier messages sent at most (0: no limit). The new prompt and the system prompt always go. */
  maxMessages: number
  /** Tokens of earlier messages sent at most, a summary sent in their place included (0: no limit). */
  maxTokens: number
}

export interface Context {
  /**
   * Earlier messages the budget left out, oldest first: what a summary would cover. Neither those a
   * summary already covers nor questions never answered are among them.
   */
  left: Message[]
  messages: ChatMessage[]
  /** Earlier messages left out of the request to fit the budget; they stay in storage. */
  omitted: number
  /** The stored summary sent in place of the turns it covers, and how many usable messages those are. */
  summary?: {covered: number; message: Message; range: SummaryRange}
}

/** Positions a..b (inclusive) of the session a summary message stands for. */
export interface SummaryRange {
  from: number
  to: number
}

/**
 * A summary is a system message whose metadata names the positions it covers (`summary: {from, to}`):
 * every original message stays stored, and this says which of them it is sent in place of.
 */
export const SUMMARY_KEY = 'summary'

export function summaryRangeOf(message: Message): SummaryRange | undefined {
  if (message.role !== 'system' || message.status !== 'complete') return undefined
  const range = message.metadata[SUMMARY_KEY] as Partial<SummaryRange> | undefined
  if (!range || !Number.isInteger(range.from) || !Number.isInteger(range.to) || range.from! > range.to!) return undefined
  return {from: range.from!, to: range.to!}
}

/** How the conversation's earlier turns are introduced when a summary stands for them. */
export function summaryText(content: string): string {
  return `Summary of the earlier conversation:\n${content}`
}

/**
 * Which reply answers which question: question id -> reply. A reply names its question (`replyTo`);
 * one stored before replies did answers the nearest earlier question not otherwise answered, as one
 * process wrote each turn then. A question with no entry is unanswered.
 */
export function pairReplies(history: Message[]): Map<string, Message> {
  const questions = new Set(history.filter(m => m.role === 'user').map(m => m.id))
  const answered = new Map<string, Message>()
  for (const m of history) {
    if (m.role === 'assistant' && m.replyTo !== null && questions.has(m.replyTo) && !answered.has(m.replyTo)) answered.set(m.replyTo, m)
  }

  let open: Message | undefined
  for (const m of history) {
    if (m.role === 'user') open = answered.has(m.id) ? undefined : m
    else if (m.role === 'assistant' && m.replyTo === null && open) {
      answered.set(open.id, m)
      open = undefined
    }
  }

  return answered
}

/** The messages of a history that a request may carry, in order: answered questions each followed by its reply, tool output. */
export function usableMessages(history: Message[]): Message[] {
  const replies = pairReplies(history)
  const pairedReplies = new Set([...replies.values()].map(m => m.id))
  const usable: Message[] = []
  for (const m of history) {
    if (m.role === 'system' || m.status === 'error' || m.status === 'pending' || pairedReplies.has(m.id)) continue
    if (m.role === 'user') {
      const reply = replies.get(m.id)
      if (!reply) continue
      usable.push(m)
      if (reply.content !== '') usable.push(reply)
    } else if (!(m.role === 'assistant' && m.content === '')) {
      // Tool output, and a reply to no question (a history that lost its start), which the trimming below drops.
      usable.push(m)
    }
  }
  return usable
}

/**
 * What a request sends: the system prompt, the latest stored summary in place of the turns it covers
 * (if there is one), then as much of the rest of the history as the budget allows, newest kept, then
 * the new prompt. Only answered questions are sent, each followed by its reply (whatever position the
 * reply was stored at): a question without its reply would make the model answer it again. So
 * questions whose request failed ("error"), those still waiting ("pending": another process's turn
 * under way, or one whose process died) and empty replies are never sent. `count` is the token count
 * of one message (default: the estimate).
 */
export function buildContext(
  systemPrompt: null | string,
  history: Message[],
  prompt: string,
  budget: ContextBudget,
  count: (text: string) => number = estimateTokens,
): Context {
  const summaryMessage = history.findLast(m => summaryRangeOf(m) !== undefined)
  const range = summaryMessage ? summaryRangeOf(summaryMessage) : undefined
  const all = usableMessages(history)
  // A reply goes with its question: a turn is covered when its question's position is.
  const questionOf = new Map([...pairReplies(history)].map(([question, reply]) => [reply.id, question]))
  const positionOf = new Map(history.map(m => [m.id, m.position]))
  const turnPosition = (m: Message) => positionOf.get(questionOf.get(m.id) ?? m.id) ?? m.position
  const usable = range ? all.filter(m => turnPosition(m) > range.to) : all
  const covered = all.length - usable.length

  let keep = usable.length
  if (budget.maxMessages > 0) keep = Math.min(keep, budget.maxMessages)
  let tokens = summaryMessage ? count(summaryText(summaryMessage.content)) : 0
  if (budget.maxTokens > 0) {
    let fitting = 0
    for (let i = usable.length - 1; i >= usable.length - keep; i--) {
      tokens += count(usable[i].content)
      if (tokens > budget.maxTokens) break
      fitting++
    }
    keep = fitting
  }
  let kept = usable.slice(usable.length - keep)
  // A request should not open with a reply whose question was cut off.
  while (kept.length > 0 && kept[0].role === 'assistant') kept = kept.slice(1)
  const messages: ChatMessage[] = []
  if (systemPrompt) messages.push({content: systemPrompt, role: 'system'})
  if (summaryMessage) messages.push({content: summaryText(summaryMessage.content), role: 'system'})
  for (const m of kept) messages.push({content: m.content, role: m.role})
  messages.push({content: prompt, role: 'user'})
  const left = usable.slice(0, usable.length - kept.length)
  return {
    left,
    messages,
    omitted: left.length,
    ...(summaryMessage && range ? {summary: {covered, message: summaryMessage, range}} : {}),
  }
}
