import {DbCommand} from '../../cli/db-command.js'
import {plural} from '../../cli/output.js'

export interface DbMigrateResult {
  applied: string[]
}

export default class DbMigrate extends DbCommand {
  static description = 'Every command that uses the database does this on its own; this command does it on demand, for example after an upgrade.'
  static examples = ['<%= config.bin %> <%= command.id %>', 'DATABASE_URL=./team.db <%= config.bin %> <%= command.id %> --json']
  static summary = 'Apply pending database migrations.'

  async run(): Promise<DbMigrateResult> {
    await this.parse(DbMigrate)
    const applied = await this.maintenance.migrate()
    this.log(applied.length === 0 ? 'The database is up to date.' : `Applied ${plural(applied.length, 'migration')}: ${applied.join(', ')}`)
    return {applied}
  }
}
