import {Args, Flags} from '@oclif/core'

import {SynapseCommand} from '../../cli/base-command.js'
import {type Candidate, VALUE_KINDS} from '../../completion/candidates.js'
import {completionValues} from '../../completion/values.js'

export type AutocompleteValuesResult = Candidate[]

/**
 * What the completion scripts call on TAB for values oclif's scripts cannot know. Not a StoreCommand:
 * the init hook would apply retention (deleting sessions on a TAB), migrate, and print plugin warnings
 * into the user's prompt; this command opens the store itself, read-only, and says nothing but
 * candidates. Named under `autocomplete` so that no prompt ("synapse complete this sentence") is
 * mistaken for it.
 */
export default class AutocompleteValues extends SynapseCommand {
  static args = {
    kind: Args.string({description: 'What to list.', options: [...VALUE_KINDS], required: true}),
    prefix: Args.string({default: '', description: 'Only values that start with this (session ids: in any case).'}),
  }
  static description =
    `One candidate per line: session ids (short ids, most recently updated first, at most 50), model names (the configured one, every provider's, and those saved sessions use) or provider names. With --describe, each is followed by a tab and a description, for zsh. On any failure it prints nothing and exits 0, so that a TAB never writes an error into the command line. Used by the scripts that "synapse autocomplete" installs.`
  static examples = ['<%= config.bin %> <%= command.id %> sessions 01JX', '<%= config.bin %> <%= command.id %> models gpt-4 --describe']
  static flags = {
    describe: Flags.boolean({description: 'Follow each value with a tab and a description.'}),
  }
  static hidden = true
  static summary = 'Print completion candidates for the shell scripts.'

  async run(): Promise<AutocompleteValuesResult> {
    const {args, flags} = await this.parse(AutocompleteValues)
    const candidates = await completionValues(this.config, args.kind as (typeof VALUE_KINDS)[number], {prefix: args.prefix})
    for (const {description, value} of candidates) this.log(flags.describe ? `${value}\t${description}` : value)
    return candidates
  }

  /** Whatever went wrong (a bad argument, an unreadable database), the shell gets no candidates and no error. */
  async catch(): Promise<void> {
    // Arguments it could not parse end here too; oclif would warn (outside production) that they were never parsed.
    this.parsed = true
  }
}
