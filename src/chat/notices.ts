/** A turn as the user asked for it: a new prompt, the last question again, or a new version of it. */
export type TurnKind = 'edit' | 'retry' | 'send'

/** What a retry or an edit that got no reply leaves in the conversation. */
export function earlierStays(kind: Exclude<TurnKind, 'send'>): string {
  return kind === 'retry' ? 'the earlier reply stays' : 'the earlier question and reply stay'
}

/**
 * The line an interrupted turn ends with, in the REPL and in one shot alike: a new prompt's partial
 * reply is kept when it could be stored (when none had come, only its question is there to keep);
 * a retry's or an edit's never is, as it would replace what was there.
 */
export function interruptedNotice(kind: TurnKind, kept: boolean, reply: string): string {
  if (kind === 'send')
    return kept ? (reply === '' ? 'Interrupted before a reply; the question is kept.' : 'Interrupted; the reply so far is kept.') : 'Interrupted.'
  return `Interrupted; ${earlierStays(kind)} (this partial reply is not kept).`
}
