import {Args} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {sessionJson, type SessionJson} from '../../cli/views/sessions.js'
import {terminalSafe} from '../../core/terminal-text.js'

export default class SessionsRename extends StoreCommand {
  static args = {
    id: Args.string({description: 'Session id, a unique prefix of it, or its exact (current) title.', required: true}),
    title: Args.string({description: 'The new title.', required: true}),
  }
  static description =
    'The title shows in "sessions list" in place of the first question, and names the session wherever an id is asked for (-s "Release notes"). Titles need not be unique; one that several sessions share is refused as a name until you use the id.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 01JX4Q2B "Release notes for 2.0"',
    '<%= config.bin %> <%= command.id %> "Release notes for 2.0" "Release notes for 2.1"',
  ]
  static summary = 'Give a session a title.'

  async run(): Promise<SessionJson> {
    const {args} = await this.parse(SessionsRename)
    const session = await this.store.get(args.id)
    const renamed = await this.store.update(session.id, {title: args.title})
    this.log(`Renamed ${renamed.id} to "${terminalSafe(renamed.title ?? '')}"`)
    return sessionJson(renamed)
  }
}
