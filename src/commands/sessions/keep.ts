import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {describeSessionBrief} from '../../cli/views/sessions.js'
import {InvalidInputError} from '../../core/errors.js'
import {withPreviews} from '../../core/previews.js'
import type {Session} from '../../store/session-store.js'

export interface SessionsKeepResult {
  sessions: Array<{id: string; kept: boolean; title: null | string}>
}

export default class SessionsKeep extends StoreCommand {
  static args = {
    // Checked by run(), which says how to name them; oclif would otherwise take a missing one from piped stdin.
    ids: Args.string({description: 'Session ids, unique prefixes or exact titles.', ignoreStdin: true}),
  }
  static description =
    'A kept session is never deleted by retention (max_sessions, retention_days, "sessions prune") and does not count toward max_sessions; "sessions delete" still deletes it. Keeping does not change its place in the list. --undo lets retention have it again.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 01JX4Q2B',
    '<%= config.bin %> <%= command.id %> 01JX4Q2B 01JX4R7C',
    '<%= config.bin %> <%= command.id %> 01JX4Q2B --undo',
    '<%= config.bin %> <%= command.id %> "Release notes"',
  ]
  static flags = {
    undo: Flags.boolean({description: 'Stop keeping them: retention may delete them again.'}),
  }
  static strict = false
  static summary = 'Keep sessions from retention.'

  async run(): Promise<SessionsKeepResult> {
    const {argv, flags} = await this.parse(SessionsKeep)
    const ids = argv as string[]
    if (ids.length === 0) {
      throw new InvalidInputError('Name the sessions to keep.', {
        exitCode: 2,
        suggestions: ['Example: synapse sessions keep 01JX4Q2B, or synapse sessions keep "Release notes" ("synapse sessions list" shows ids and titles).'],
      })
    }
    // Every id is resolved before anything changes: a typo in the third changes nothing.
    const sessions = new Map<string, Session>()
    for (const id of ids) {
      const session = await this.store.get(id)
      sessions.set(session.id, session)
    }
    const kept = !flags.undo
    const changed: Session[] = []
    for (const session of sessions.values()) changed.push(session.kept === kept ? session : await this.store.update(session.id, {kept}))
    for (const session of await withPreviews(this.store, changed)) {
      this.log(`${kept ? 'Kept' : 'No longer kept'}: ${describeSessionBrief(session)}`)
    }
    const them = changed.length === 1 ? 'it' : 'them'
    this.log(kept ? `Retention will not delete ${them}; "synapse sessions keep --undo <id>" lets it again.` : `Retention may delete ${them} again.`)
    return {sessions: changed.map(s => ({id: s.id, kept: s.kept, title: s.title}))}
  }
}
