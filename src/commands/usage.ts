import {Flags} from '@oclif/core'

import {StoreCommand} from '../cli/base-command.js'
import {terminalWidth} from '../cli/output.js'
import {parseInstant} from '../cli/time-range.js'
import {renderUsage} from '../cli/views/usage.js'
import {InvalidInputError} from '../core/errors.js'
import {USAGE_GROUPINGS, type UsageGroup, type UsageGrouping, type UsageTotals} from '../store/session-store.js'

/** `synapse usage --json`. */
export interface UsageResult {
  by: null | UsageGrouping
  /** The groups, as `SessionStore.usage` orders them: days oldest first, otherwise the costliest first. */
  groups: UsageGroup[]
  /** ISO 8601, or null when unbounded. */
  since: null | string
  total: UsageTotals
  until: null | string
}

const instantFlag = Flags.custom<Date>({
  async parse(input) {
    return parseInstant(input)
  },
})

export default class Usage extends StoreCommand {
  static description =
    'Adds up the tokens (input, output, and the cached part of the input) and the cost in US dollars of the replies stored in every session (those a retry, an edit or an undo took out of the conversation included: they were paid for), as each reply recorded them when it was made: a later price change rewrites nothing. Costs a model without a price could not have are counted as unpriced, never as $0; counts synapse made itself because the provider reported none are counted as estimated. By day at a terminal, a bar chart of the cost (of the tokens when no cost is known) follows each row.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --by day --since 7d',
    '<%= config.bin %> <%= command.id %> --by model --since 2026-11-01 --until 2026-12-01',
    "<%= config.bin %> <%= command.id %> --by session --json | jq '.groups[0]'",
  ]
  static flags = {
    by: Flags.string({description: 'Group the totals by day (local), model, provider or session.', options: [...USAGE_GROUPINGS]}),
    since: instantFlag({description: 'Only replies made since then: a duration back from now (7d, 12h), a day (2026-11-01) or an ISO 8601 time.'}),
    until: instantFlag({description: 'Only replies made before then; the same forms as --since.'}),
  }
  static summary = 'Show the tokens and cost of replies, in total or by day, model, provider or session.'

  async run(): Promise<UsageResult> {
    const {flags} = await this.parse(Usage)
    const {since, until} = flags
    if (since && until && since >= until) {
      throw new InvalidInputError(`--since (${since.toISOString()}) is not before --until (${until.toISOString()}).`, {
        suggestions: ['Give --since an earlier time than --until, or leave one out.'],
      })
    }
    const report = await this.store.usage({by: flags.by as UsageGrouping | undefined, since, until})
    for (const line of renderUsage(report, this.style, {width: terminalWidth(this.style, process.stdout)})) this.log(line)
    return {...report, since: since?.toISOString() ?? null, until: until?.toISOString() ?? null}
  }
}
