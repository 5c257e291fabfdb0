import {type Exchange, type Message, PREVIEW_LENGTH} from './session-store.js'

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

/**
 * The messages still in the conversation, in order: none that was hidden (replaced or undone), and
 * no reply to a hidden question (another process may answer a question after it was undone).
 */
export function currentMessages(history: Message[]): Message[] {
  const hidden = new Set(history.filter(m => m.hiddenAt !== null).map(m => m.id))
  if (hidden.size === 0) return history
  return history.filter(m => m.hiddenAt === null && (m.replyTo === null || !hidden.has(m.replyTo)))
}

/**
 * The first question still in the conversation: what a listing previews a session by. A question
 * an edit replaced or an undo took out is not what the conversation is about any more (nor shown
 * by `sessions show` or found by a search), so the preview moves on to the next current one.
 */
export function firstQuestion(history: Message[]): Message | undefined {
  return history.find(m => m.role === 'user' && m.hiddenAt === null)
}

/** What a listing shows of a session's messages: the start of its first question still in the conversation; null without one. */
export function previewOf(messages: Message[]): null | string {
  const question = firstQuestion(messages)
  return question ? previewText(question.content) : null
}

/**
 * The first PREVIEW_LENGTH characters of a text, counted in code points as SQL's substr counts them
 * (so every backend cuts a preview at the same place, and never between the halves of a pair).
 */
export function previewText(text: string): string {
  let end = 0
  for (let count = 0; count < PREVIEW_LENGTH && end < text.length; count++) end += (text.codePointAt(end) as number) > 0xffff ? 2 : 1
  return text.slice(0, end)
}

/**
 * Why a message is out of the conversation: 'retry' (a new reply to the same question took its
 * place), 'edit' (a new question, or the reply to one, took its place), 'undo' (nothing did), or
 * 'question-out' (not hidden itself, but a reply to a question that is: another process answered
 * after an undo).
 */
export type TakenOut = 'edit' | 'question-out' | 'retry' | 'undo'

/** Message id -> why it is out of the conversation, for every message of `history` that `currentMessages` leaves out. */
export function takenOutOf(history: Message[]): Map<string, TakenOut> {
  const byId = new Map(history.map(m => [m.id, m]))
  // An edit's new reply answers a question that itself replaced one; a retry's answers the same question.
  const replacingQuestions = new Set(history.filter(m => m.role === 'user' && m.supersededBy !== null).map(m => m.supersededBy))
  const reasons = new Map<string, TakenOut>()
  for (const m of history) {
    if (m.hiddenAt === null) {
      if (m.replyTo !== null && byId.get(m.replyTo)?.hiddenAt) reasons.set(m.id, 'question-out')
    } else if (m.supersededBy === null) reasons.set(m.id, 'undo')
    else {
      const replyTo = byId.get(m.supersededBy)?.replyTo ?? null
      reasons.set(m.id, m.role === 'user' || (replyTo !== null && replacingQuestions.has(replyTo)) ? 'edit' : 'retry')
    }
  }
  return reasons
}

/** The last question of a conversation's current messages, with its reply if it has one. */
export function lastExchange(current: Message[]): Exchange | undefined {
  const question = current.findLast(m => m.role === 'user')
  if (!question) return undefined
  const reply = pairReplies(current).get(question.id)
  return reply ? {question, reply} : {question}
}
