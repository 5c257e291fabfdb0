import {Args, Flags} from '@oclif/core'

import {DbCommand} from '../../cli/db-command.js'

export interface DbBackupResult {
  bytes: number
  path: string
}

export default class DbBackup extends DbCommand {
  static args = {
    file: Args.string({description: 'Where to write the copy.', required: true}),
  }
  static description =
    'The copy is a consistent snapshot even while other synapse processes write, readable by you alone. Restore by pointing DATABASE_URL at it, or by moving it into place.'
  static examples = ['<%= config.bin %> <%= command.id %> ~/backups/sessions-$(date +%F).db', '<%= config.bin %> <%= command.id %> sessions.bak --force']
  static flags = {
    force: Flags.boolean({char: 'f', description: 'Replace the file if it exists.'}),
  }
  static summary = 'Copy the database to a file.'

  async run(): Promise<DbBackupResult> {
    const {args, flags} = await this.parse(DbBackup)
    const maintenance = this.maintenance
    const result = await maintenance.backup(args.file, {replace: flags.force})
    // On stderr, as export's: written to /dev/stdout, the copy is what stdout carries.
    if (!this.jsonEnabled()) process.stderr.write(`Backed up ${maintenance.location} to ${result.path} (${result.bytes} bytes)\n`)
    return result
  }
}
