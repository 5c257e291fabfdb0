import {Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {listItem, renderSessionTable, type SessionListItem} from '../../cli/views/sessions.js'
import {plural} from '../../cli/output.js'
import {runtime} from '../../cli/runtime.js'
import {applyRetention, type RetentionSettings} from '../../core/retention.js'

export interface SessionsPruneResult {
  deleted: SessionListItem[]
  dryRun: boolean
  policy: RetentionSettings
}

export default class SessionsPrune extends StoreCommand {
  static autoCleanup = false
  static description = `Applies the retention settings now: sessions not updated for retention_days go, then the least recently updated beyond max_sessions. 0 turns a limit off. The same cleanup runs before other commands when auto_cleanup is on.`
  static examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --max-sessions 50',
    '<%= config.bin %> <%= command.id %> --retention-days 30 --json',
  ]
  static flags = {
    'dry-run': Flags.boolean({description: 'Show what would be deleted; delete nothing.'}),
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
    const result = await applyRetention(store, policy, {dryRun: flags['dry-run']})
    const limits = `max_sessions ${policy.maxSessions || 'unlimited'}, retention_days ${policy.retentionDays || 'forever'}`
    if (result.deleted.length === 0) {
      this.log(`Nothing to prune (${limits}).`)
    } else {
      this.log(`${result.dryRun ? 'Would delete' : 'Deleted'} ${plural(result.deleted.length, 'session')} (${limits}):`)
      for (const line of renderSessionTable(result.deleted, this.style)) this.log(line)
    }
    return {deleted: result.deleted.map((s) => listItem(s)), dryRun: result.dryRun, policy}
  }
}
