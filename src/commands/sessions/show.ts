import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {messageJson, type MessageJson, renderSession, sessionJson, type SessionJson} from '../../cli/views/sessions.js'

export type SessionsShowResult = SessionJson & {messages: MessageJson[]}

export default class SessionsShow extends StoreCommand {
  static args = {
    id: Args.string({description: 'Session id or a unique prefix of it.', required: true}),
  }
  static description = 'Prints the session’s model, metadata and system prompt, then every message in order.'
  static examples = ['<%= config.bin %> <%= command.id %> 01JX4Q2B', '<%= config.bin %> <%= command.id %> 01JX4Q2B --last 4', '<%= config.bin %> <%= command.id %> 01JX4Q2B --json | jq \'.messages[].content\'']
  static flags = {
    last: Flags.integer({description: 'Only the last N messages.', min: 0}),
  }
  static summary = 'Show a session and its messages.'

  async run(): Promise<SessionsShowResult> {
    const {args, flags} = await this.parse(SessionsShow)
    const session = await this.store.get(args.id)
    const messages = await this.store.messages(session.id, {last: flags.last})
    for (const line of renderSession(session, messages, this.style)) this.log(line)
    return {...sessionJson(session), messages: messages.map((m) => messageJson(m))}
  }
}
