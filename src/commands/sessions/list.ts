import {Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {paint, terminalWidth} from '../../cli/output.js'
import {listFooter, listItem, renderSessionTable, type SessionListItem} from '../../cli/views/sessions.js'

/** `sessions list --json`: one object per session, with what its replies used and cost in all (see `synapse usage`). */
export type SessionsListEntry = SessionListItem & {usage: UsageTotals}
import {MAX_LIST_LIMIT, type SessionSummary, type UsageGroup, type UsageTotals} from '../../store/session-store.js'
import {emptyTotals} from '../../store/usage.js'

export default class SessionsList extends StoreCommand {
  static aliases = ['sessions:ls', 'logs']
  static description =
    'Most recently updated first. On a terminal: short ids (any unique prefix, or a session’s exact title, works wherever an id is asked for), relative times, titles cut to the width of the terminal, the number of messages stored (what a retry, an edit or an undo took out of the conversation included), kept sessions marked, and how many there are in all; in a pipe: full ids and ISO times, tab-separated.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --limit 5',
    "<%= config.bin %> <%= command.id %> --all --json | jq '.[].id'",
  ]
  static flags = {
    all: Flags.boolean({description: 'List every session.', exclusive: ['limit']}),
    limit: Flags.integer({char: 'n', default: 20, description: 'How many sessions to list.', max: MAX_LIST_LIMIT, min: 1}),
  }
  static summary = 'List saved sessions.'

  async run(): Promise<SessionsListEntry[]> {
    const {flags} = await this.parse(SessionsList)
    const sessions = flags.all ? await this.everySession() : await this.store.list({limit: flags.limit})
    const {style} = this
    if (sessions.length === 0) {
      if (style.terminal) this.log('No saved sessions yet. Start one with: synapse "Hello"')
    } else {
      for (const line of renderSessionTable(sessions, style, {width: terminalWidth(style, process.stdout)})) this.log(line)
      // Only a terminal is told there is more: a pipe gets the rows and nothing else.
      const footer = style.terminal && sessions.length === flags.limit ? listFooter(sessions.length, await this.store.count()) : undefined
      if (footer) this.log(paint(style, 'dim', footer))
    }
    const usage = await this.store.usage({by: 'session', sessionIds: sessions.map(s => s.id)})
    const bySession = new Map(usage.groups.map(group => [group.key, group]))
    return sessions.map(s => ({...listItem(s), usage: totalsOf(bySession.get(s.id))}))
  }

  private async everySession(): Promise<SessionSummary[]> {
    const all: SessionSummary[] = []
    for (;;) {
      const page = await this.store.list({limit: 1000, offset: all.length})
      all.push(...page)
      if (page.length < 1000) return all
    }
  }
}

/** A session's totals without its key; a session with no replies has none to report. */
function totalsOf(group: undefined | UsageGroup): UsageTotals {
  if (!group) return emptyTotals()
  const {key: _, ...totals} = group
  return totals
}
