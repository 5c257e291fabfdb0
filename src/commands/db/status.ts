import {DbCommand} from '../../cli/db-command.js'
import {paint, plural} from '../../cli/output.js'

export interface DbStatusResult {
  backend: string
  location: string
  migrations: Array<{applied: boolean; name: string}>
  pending: number
}

export default class DbStatus extends DbCommand {
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static summary = 'Show where the database is and which migrations are applied.'

  async run(): Promise<DbStatusResult> {
    await this.parse(DbStatus)
    const maintenance = this.maintenance
    const migrations = (await maintenance.migrations()).map(m => ({applied: m.applied, name: m.name}))
    const pending = migrations.filter(m => !m.applied).length
    const style = this.style
    this.log(`${paint(style, 'bold', 'Database')} ${maintenance.location} (${this.store.backend})`)
    for (const m of migrations) {
      this.log(`  ${m.applied ? paint(style, 'green', 'applied') : paint(style, 'yellow', 'pending')}  ${m.name}`)
    }
    this.log(pending === 0 ? 'Up to date.' : `${plural(pending, 'migration')} pending: run "synapse db migrate".`)
    return {backend: this.store.backend, location: maintenance.location, migrations, pending}
  }
}
