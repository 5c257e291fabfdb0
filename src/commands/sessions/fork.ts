import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {plural} from '../../cli/output.js'
import {sessionJson, type SessionJson} from '../../cli/views/sessions.js'
import {terminalSafe} from '../../core/terminal-text.js'

export type SessionsForkResult = SessionJson & {messageCount: number}

export default class SessionsFork extends StoreCommand {
  static args = {
    session: Args.string({description: 'The session to fork: its id, a unique prefix of it, or its exact title.', required: true}),
  }
  static description =
    'The new session gets copies (with new ids) of the messages up to and including position N (all of them without --at), and the system prompt, model, provider and metadata; it records its parent and the position, which "sessions show" prints. The original is not changed. Questions still waiting for their reply are not copied. Prints the new id (only the id when piped).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 01JX4Q2B',
    '<%= config.bin %> <%= command.id %> "Release notes" --at 3 --title "Release notes, shorter"',
    'id=$(<%= config.bin %> <%= command.id %> 01JX4Q2B --at 5) && <%= config.bin %> -s "$id" "Try it the other way"',
    "<%= config.bin %> <%= command.id %> 01JX4Q2B --json | jq -r '.id'",
  ]
  static flags = {
    at: Flags.integer({description: 'Copy the messages up to and including this position (0 is the first; "sessions show" prints each message’s as #N).'}),
    title: Flags.string({char: 't', description: 'Title of the fork (default: the parent’s title and "(fork)").'}),
  }
  static summary = 'Continue a session in a new one, from any point, leaving the original as it is.'

  async run(): Promise<SessionsForkResult> {
    const {args, flags} = await this.parse(SessionsFork)
    const parent = await this.store.get(args.session)
    const fork = await this.store.fork(parent.id, {at: flags.at, title: flags.title})
    const messageCount = (await this.store.messages(fork.id)).length
    if (this.style.terminal) {
      const where = fork.parentPosition === null ? 'with no messages' : `at position ${fork.parentPosition}, ${plural(messageCount, 'message')}`
      this.log(`Forked ${parent.id} ${where}, into ${fork.id}${fork.title ? `  ${terminalSafe(fork.title)}` : ''}`)
    } else this.log(fork.id)
    return {...sessionJson(fork), messageCount}
  }
}
