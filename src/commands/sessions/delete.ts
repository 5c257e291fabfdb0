import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {describeSessionBrief} from '../../cli/views/sessions.js'
import {plural} from '../../cli/output.js'
import {SynapseError} from '../../core/errors.js'
import {withPreviews} from '../../core/previews.js'
import type {Session} from '../../store/session-store.js'

export interface SessionsDeleteResult {
  deleted: Array<{id: string; title: null | string}>
}

export default class SessionsDelete extends StoreCommand {
  static aliases = ['sessions:rm']
  static args = {
    ids: Args.string({description: 'Session ids, unique prefixes, or exact titles.', required: true}),
  }
  static description =
    'Deletes the sessions and all their messages. Asks first on a terminal; without one (scripts, --json) it needs --force. Every id is checked before anything is deleted.'
  static examples = [
    '<%= config.bin %> <%= command.id %> 01JX4Q2B',
    '<%= config.bin %> <%= command.id %> 01JX4Q2B 01JX4R7C --force',
    '<%= config.bin %> <%= command.id %> "Scratch" --force',
  ]
  static flags = {
    force: Flags.boolean({char: 'f', description: 'Delete without asking.'}),
  }
  static strict = false
  static summary = 'Delete sessions.'

  async run(): Promise<SessionsDeleteResult> {
    const {argv, flags} = await this.parse(SessionsDelete)
    const sessions = new Map<string, Session>()
    for (const id of argv as string[]) {
      const session = await this.store.get(id)
      sessions.set(session.id, session)
    }
    const doomed = await withPreviews(this.store, [...sessions.values()])
    if (!flags.force) {
      const interactive = process.stdin.isTTY && !this.jsonEnabled()
      if (!interactive) {
        throw new SynapseError('CONFIRMATION_REQUIRED', `Refusing to delete ${plural(doomed.length, 'session')} without confirmation.`, {
          suggestions: ['Add --force to delete without asking.'],
        })
      }
      for (const session of doomed) process.stderr.write(`  ${describeSessionBrief(session)}\n`)
      if (!(await this.confirm(`Delete ${plural(doomed.length, 'session')} and all their messages?`, 'Cancelled; nothing was deleted.'))) {
        this.log('Nothing deleted.')
        return {deleted: []}
      }
    }
    await this.store.delete(doomed.map(s => s.id))
    this.log(`Deleted ${plural(doomed.length, 'session')}: ${doomed.map(s => s.id).join(', ')}`)
    return {deleted: doomed.map(s => ({id: s.id, title: s.title}))}
  }
}
