import type {Exchange, Message} from './session-store.js'

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

/** The last question of a conversation's current messages, with its reply if it has one. */
export function lastExchange(current: Message[]): Exchange | undefined {
  const question = current.findLast(m => m.role === 'user')
  if (!question) return undefined
  const reply = pairReplies(current).get(question.id)
  return reply ? {question, reply} : {question}
}
