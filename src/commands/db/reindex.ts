import {DbCommand} from '../../cli/db-command.js'
import {paint} from '../../cli/output.js'
import type {IntegrityCheck} from '../../store/session-store.js'

export default class DbReindex extends DbCommand {
  static description =
    'Rebuilds the index `sessions search` reads from every stored message and title, in one transaction: searches keep working meanwhile, and a failure changes nothing. Run it when "synapse db check" reports the search index out of step (on SQLite also its triggers are put back). Exits 1 if the index is still not in step afterwards.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> db check && <%= config.bin %> <%= command.id %> --json']
  static summary = 'Rebuild the full-text search index.'

  async run(): Promise<IntegrityCheck> {
    await this.parse(DbReindex)
    const check = await this.maintenance.reindex()
    const style = this.style
    this.log(`${check.ok ? paint(style, 'green', '✓') : paint(style, 'red', '✗')} ${check.name}: ${check.detail}`)
    if (!check.ok) process.exitCode = 1
    return check
  }
}
