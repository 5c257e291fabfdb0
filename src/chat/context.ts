import type {ChatMessage} from '../providers/provider.js'
import {currentMessages, pairReplies} from '../store/exchanges.js'
import type {Message} from '../store/session-store.js'

export interface ContextBudget {
  /** Earlier messages sent at most (0: no limit). The new prompt and the system prompt always go. */
  maxMessages: number
  /** Estimated tokens of earlier messages sent at most (0: no limit). */
  maxTokens: number
}

export interface Context {
  messages: ChatMessage[]
  /** Earlier messages left out of the request to fit the budget; they stay in storage. */
  omitted: number
}

/**
 * A rough token count, about four characters a token for English text and code: close enough to
 * keep a request under a budget without shipping a tokenizer per model.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

/**
 * What a request sends: the system prompt, then as much of the history as the budget allows, newest
 * kept, then the new prompt. Only answered questions are sent, each followed by its reply (whatever
 * position the reply was stored at): a question without its reply would make the model answer it
 * again. So questions whose request failed ("error"), those still waiting ("pending": another
 * process's turn under way, or one whose process died) and empty replies are never sent, and
 * neither is anything taken out of the conversation (replaced by a retry or an edit, or undone).
 */
export function buildContext(systemPrompt: null | string, stored: Message[], prompt: string, budget: ContextBudget): Context {
  const history = currentMessages(stored)
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

  let keep = usable.length
  if (budget.maxMessages > 0) keep = Math.min(keep, budget.maxMessages)
  if (budget.maxTokens > 0) {
    let tokens = 0
    let fitting = 0
    for (let i = usable.length - 1; i >= usable.length - keep; i--) {
      tokens += estimateTokens(usable[i].content)
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
  for (const m of kept) messages.push({content: m.content, role: m.role})
  messages.push({content: prompt, role: 'user'})
  return {messages, omitted: usable.length - kept.length}
}
