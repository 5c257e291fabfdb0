import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {messageJson, type MessageJson, renderSession, sessionJson, type SessionJson} from '../../cli/views/sessions.js'
import type {UsageTotals} from '../../store/session-store.js'

/** `parentDeleted`: the session is a fork whose parent is no longer stored. */
export type SessionsShowResult = SessionJson & {
  messages: MessageJson[]
  parentDeleted: boolean
  /** What the session's replies used and cost in all, every message counted (also with --last). */
  usage: UsageTotals
}

export default class SessionsShow extends StoreCommand {
  static args = {
    id: Args.string({description: 'Session id, a unique prefix of it, or its exact title.', required: true}),
  }
  static description =
    'Prints the session’s model, metadata and system prompt (and, for a fork, the session and position it was forked from), then every message in order, each with its position (#N, what "sessions fork --at" takes) and each reply with its tokens and cost, and the session’s total. At a terminal, replies are rendered (Markdown) and output taller than the screen goes through $PAGER (else `less -R`).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 01JX4Q2B',
    '<%= config.bin %> <%= command.id %> 01JX4Q2B --last 4',
    '<%= config.bin %> <%= command.id %> "Release notes"',
    "<%= config.bin %> <%= command.id %> 01JX4Q2B --json | jq '.messages[].content'",
  ]
  static flags = {
    last: Flags.integer({description: 'Only the last N messages.', min: 0}),
    pager: Flags.boolean({allowNo: true, default: true, description: 'Page output taller than the terminal (--no-pager: print it all).'}),
    raw: Flags.boolean({description: 'Show replies as the model wrote them (Markdown), not rendered.'}),
  }
  static summary = 'Show a session and its messages.'

  async run(): Promise<SessionsShowResult> {
    const {args, flags} = await this.parse(SessionsShow)
    const session = await this.store.get(args.id)
    const messages = await this.store.messages(session.id, {last: flags.last})
    const parentExists = session.parentId === null ? undefined : await this.store.exists(session.parentId)
    const {total: usage} = await this.store.usage({sessionIds: [session.id]})
    const result = {...sessionJson(session), messages: messages.map(m => messageJson(m)), parentDeleted: parentExists === false, usage}
    if (this.jsonEnabled()) return result
    const {style} = this
    // The renderer and the pager load only for a terminal: a pipe gets the text as it is, never a pager.
    const renderer = style.terminal && !flags.raw ? await import('../../cli/markdown/index.js') : undefined
    const markdown = renderer && ((text: string) => renderer.renderMarkdown(text, {style, width: process.stdout.columns}))
    const lines = renderSession(session, messages, style, {markdown, parentExists, usage})
    const paged = style.terminal && (await (await import('../../cli/pager.js')).page(lines, {disabled: !flags.pager}))
    if (!paged) for (const line of lines) this.log(line)
    return result
  }
}
