import {Flags} from '@oclif/core'

import {DbCommand} from '../../cli/db-command.js'
import {plural} from '../../cli/output.js'
import {SynapseError} from '../../core/errors.js'

export interface DbRevertResult {
  reverted: string[]
}

export default class DbRevert extends DbCommand {
  static description =
    'Reverting drops what the migration created, with its data: back up first. Asks on a terminal; needs --force otherwise. The next command that uses the database migrates it up again.'
  static examples = ['<%= config.bin %> db backup before.db && <%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --all --force']
  static flags = {
    all: Flags.boolean({description: 'Revert every migration, down to an empty database.'}),
    force: Flags.boolean({char: 'f', description: 'Do not ask.'}),
  }
  static summary = 'Revert the newest database migration.'

  async run(): Promise<DbRevertResult> {
    const {flags} = await this.parse(DbRevert)
    const maintenance = this.maintenance
    const applied = (await maintenance.migrations()).filter(m => m.applied)
    if (applied.length === 0) {
      this.log('No migration is applied; nothing to revert.')
      return {reverted: []}
    }
    const what = flags.all ? `all ${plural(applied.length, 'migration')}` : applied.at(-1)!.name
    if (!flags.force) {
      if (!process.stdin.isTTY || this.jsonEnabled()) {
        throw new SynapseError('CONFIRMATION_REQUIRED', `Refusing to revert ${what} without confirmation: it can delete data.`, {
          suggestions: ['Back up with "synapse db backup <file>", then add --force.'],
        })
      }
      if (!(await this.confirm(`Revert ${what} at ${maintenance.location}? Data in dropped tables is lost.`))) {
        this.log('Nothing reverted.')
        return {reverted: []}
      }
    }
    const reverted = await maintenance.revert({all: flags.all})
    this.log(`Reverted ${plural(reverted.length, 'migration')}: ${reverted.join(', ')}`)
    return {reverted}
  }
}
