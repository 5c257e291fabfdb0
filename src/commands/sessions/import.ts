import {Args, Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'

import {StoreCommand} from '../../cli/base-command.js'
import {plural} from '../../cli/output.js'
import {readPipedStdin} from '../../chat/input.js'
import {runtime} from '../../cli/runtime.js'
import {SynapseError} from '../../core/errors.js'
import {applyRetention, pastLimitNotice} from '../../core/retention.js'
import {parseExport} from '../../transfer/format.js'
import {importSnapshots, type ImportReport} from '../../transfer/transfer.js'

export default class SessionsImport extends StoreCommand {
  static args = {
    file: Args.string({description: 'An export in json or jsonl ("-" for stdin).', ignoreStdin: true, required: true}),
  }
  static autoCleanup = false
  static description = `Reads what "sessions export --format json|jsonl" wrote, from this backend or another, and keeps every id and timestamp. The whole file is checked before anything is written; a session whose id exists stops the import unless --replace or --new-ids says what to do. Kept sessions stay kept. When the store is then past max_sessions or holds sessions older than retention_days, it says what the next cleanup would delete.`
  static examples = [
    '<%= config.bin %> <%= command.id %> sessions.jsonl',
    '<%= config.bin %> <%= command.id %> backup.json --replace',
    'DATABASE_URL=sqlite:///old.db <%= config.bin %> sessions export --all | <%= config.bin %> <%= command.id %> - --new-ids',
  ]
  static flags = {
    'new-ids': Flags.boolean({description: 'Import copies with fresh ids beside existing sessions.', exclusive: ['replace']}),
    replace: Flags.boolean({description: 'Overwrite sessions whose id already exists.', exclusive: ['new-ids']}),
  }
  static summary = 'Import sessions from an export.'

  async run(): Promise<ImportReport> {
    const {args, flags} = await this.parse(SessionsImport)
    const source = args.file === '-' ? 'stdin' : args.file
    const text = args.file === '-' ? ((await readPipedStdin()) ?? '') : readExport(args.file)
    const snapshots = parseExport(text, source)
    const report = await importSnapshots(this.store, snapshots, {newIds: flags['new-ids'], replace: flags.replace})
    const messages = report.imported.reduce((sum, s) => sum + s.messages, 0)
    const replaced = report.imported.filter((s) => s.replaced).length
    this.log(`Imported ${plural(report.imported.length, 'session')} (${plural(messages, 'message')})${replaced > 0 ? `, ${replaced} replaced` : ''}.`)
    // An import runs no cleanup itself; the next command's would take what is past the limits, so say so now.
    const settings = runtime.config!.settings.session
    const due = await applyRetention(this.store, settings, {dryRun: true})
    const notice = pastLimitNotice(due, report.imported.map((s) => s.id), settings)
    if (notice) process.stderr.write(`${notice}\n`)
    return report
  }
}

function readExport(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new SynapseError('INVALID_INPUT', `Cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {suggestions: ['Check the path; "-" reads from stdin.']})
  }
}
