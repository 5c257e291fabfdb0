import {Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {listItem, renderSessionTable, type SessionListItem} from '../../cli/views/sessions.js'
import {plural, terminalWidth} from '../../cli/output.js'
import {runtime} from '../../cli/runtime.js'
import {SynapseError} from '../../core/errors.js'
import {applyRetention, type RetentionSettings} from '../../core/retention.js'

export interface SessionsPruneResult {
  deleted: SessionListItem[]
  dryRun: boolean
  policy: RetentionSettings
}

export default class SessionsPrune extends StoreCommand {
  static autoCleanup = false
  static description =
    `Applies the retention settings now: sessions not updated for retention_days go, then the least recently updated beyond max_sessions; kept sessions ("sessions keep") never go and do not count. 0 turns a limit off. Lists what would go and asks first on a terminal; without one (scripts, --json) it needs --force. The same cleanup runs before other commands when auto_cleanup is on, and says on stderr what it deleted.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --max-sessions 50',
    '<%= config.bin %> <%= command.id %> --force   # in a script',
    '<%= config.bin %> <%= command.id %> --retention-days 30 --json',
  ]
  static flags = {
    'dry-run': Flags.boolean({description: 'Show what would be deleted; delete nothing.'}),
    force: Flags.boolean({char: 'f', description: 'Delete without asking (what scripts need).', exclusive: ['dry-run']}),
    'max-sessions': Flags.integer({description: 'Keep at most this many sessions (overrides max_sessions).', min: 0}),
    'retention-days': Flags.integer({description: 'Delete sessions not updated for this many days (overrides retention_days).', min: 0}),
  }
  static summary = 'Delete sessions beyond the retention limits.'

  async run(): Promise<SessionsPruneResult> {
    const {flags} = await this.parse(SessionsPrune)
    const store = this.store
    const configured = runtime.config!.settings.session
    const policy: RetentionSettings = {
      maxSessions: flags['max-sessions'] ?? configured.maxSessions,
      retentionDays: flags['retention-days'] ?? configured.retentionDays,
    }
    const limits = `max_sessions ${policy.maxSessions || 'unlimited'}, retention_days ${policy.retentionDays || 'forever'}`
    const width = terminalWidth(this.style, process.stdout)
    const due = await applyRetention(store, policy, {dryRun: true})
    if (due.deleted.length === 0) {
      this.log(`Nothing to prune (${limits}).`)
      return {deleted: [], dryRun: flags['dry-run'] === true, policy}
    }
    let result = due
    let shown = false
    if (!flags['dry-run']) {
      if (!flags.force) {
        if (!process.stdin.isTTY || this.jsonEnabled()) {
          throw new SynapseError('CONFIRMATION_REQUIRED', `Refusing to prune ${plural(due.deleted.length, 'session')} without confirmation.`, {
            suggestions: ['Add --force to delete without asking, or --dry-run to see what would go.'],
          })
        }
        for (const line of renderSessionTable(due.deleted, this.errorStyle, {width: terminalWidth(this.errorStyle, process.stderr)}))
          process.stderr.write(`${line}\n`)
        shown = true
        if (!(await this.confirm(`Delete these ${plural(due.deleted.length, 'session')} (${limits})?`, 'Cancelled; nothing was deleted.'))) {
          this.log('Nothing deleted.')
          return {deleted: [], dryRun: false, policy}
        }
      }
      // Chosen again: what changed since the list above (an append makes an old session new) is respected.
      result = await applyRetention(store, policy)
    }
    const same = shown && result.deleted.map(s => s.id).join() === due.deleted.map(s => s.id).join()
    this.log(`${result.dryRun ? 'Would delete' : 'Deleted'} ${plural(result.deleted.length, 'session')} (${limits})${same ? '.' : ':'}`)
    if (!same) for (const line of renderSessionTable(result.deleted, this.style, {width})) this.log(line)
    return {deleted: result.deleted.map(s => listItem(s)), dryRun: result.dryRun, policy}
  }
}
