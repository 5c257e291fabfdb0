import {DbCommand} from '../../cli/db-command.js'
import {paint} from '../../cli/output.js'
import type {IntegrityReport} from '../../store/session-store.js'

export default class DbCheck extends DbCommand {
  static description =
    'Runs SQLite’s integrity check and foreign-key check, compares the schema with what this version expects, and checks that the search index is in step with the messages (rebuild it with "synapse db reindex"). Exits 1 when anything is wrong.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static summary = 'Check the database for corruption and inconsistencies.'

  async run(): Promise<IntegrityReport> {
    await this.parse(DbCheck)
    const report = await this.maintenance.check()
    const style = this.style
    for (const check of report.checks) {
      this.log(`${check.ok ? paint(style, 'green', '✓') : paint(style, 'red', '✗')} ${check.name}: ${check.detail}`)
    }
    this.log(report.ok ? paint(style, 'green', 'The database is healthy.') : paint(style, 'red', 'The database has problems: see above.'))
    if (!report.ok) process.exitCode = 1
    return report
  }
}
