import {Args, Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'

import {StoreCommand} from '../../cli/base-command.js'
import {plural} from '../../cli/output.js'
import {readPipedStdin} from '../../chat/input.js'
import {runtime} from '../../cli/runtime.js'
import {describePathFailure, SynapseError} from '../../core/errors.js'
import {applyRetention, pastLimitNotice} from '../../core/retention.js'
import {terminalSafe} from '../../core/terminal-text.js'
import {parseExport} from '../../transfer/format.js'
import {importFromLlm, type LlmImportReport, llmLogsPath} from '../../transfer/llm.js'
import {importSnapshots, type ImportReport} from '../../transfer/transfer.js'

export type SessionsImportResult = ImportReport | LlmImportReport

export default class SessionsImport extends StoreCommand {
  static args = {
    file: Args.string({
      description: 'An export in json or jsonl ("-" for stdin); with --from llm, llm\'s logs.db (default: the one llm uses).',
      ignoreStdin: true,
    }),
  }
  static autoCleanup = false
  static description =
    `Reads what "sessions export --format json|jsonl" wrote, from this backend or another, and keeps every id and timestamp. The whole file is checked before anything is written; a session whose id exists stops the import unless --replace or --new-ids says what to do. Kept sessions stay kept. When the store is then past max_sessions or holds sessions older than retention_days, it says what the next cleanup would delete.

With --from llm, reads simonw/llm's logs database (read-only: llm's file is never changed) and turns each llm conversation into a session. Running it again imports only conversations not imported yet; --replace refreshes those imported before. What synapse cannot hold (attachments, fragments, tool calls, options) is listed as skipped.`
  static examples = [
    '<%= config.bin %> <%= command.id %> sessions.jsonl',
    '<%= config.bin %> <%= command.id %> backup.json --replace',
    'DATABASE_URL=sqlite:///old.db <%= config.bin %> sessions export --all | <%= config.bin %> <%= command.id %> - --new-ids',
    '<%= config.bin %> <%= command.id %> --from llm',
    '<%= config.bin %> <%= command.id %> --from llm ~/backups/logs.db --replace',
  ]
  static flags = {
    from: Flags.string({default: 'synapse', description: "What wrote the file: a synapse export, or simonw/llm's logs database.", options: ['synapse', 'llm']}),
    'new-ids': Flags.boolean({description: 'Import copies with fresh ids beside existing sessions.', exclusive: ['replace']}),
    replace: Flags.boolean({
      description: 'Overwrite sessions whose id already exists (with --from llm: refresh those imported before).',
      exclusive: ['new-ids'],
    }),
  }
  static summary = 'Import sessions from an export or from simonw/llm.'

  async run(): Promise<SessionsImportResult> {
    const {args, flags} = await this.parse(SessionsImport)
    if (flags.from === 'llm') {
      if (flags['new-ids']) {
        throw new SynapseError(
          'INVALID_INPUT',
          '--new-ids does not go with --from llm: llm imports keep stable ids so that running it again imports nothing twice.',
          {
            exitCode: 2,
            suggestions: ['Leave out --new-ids; --replace refreshes sessions imported before.'],
          },
        )
      }
      const report = await importFromLlm(this.store, args.file ?? llmLogsPath(), {replace: flags.replace})
      this.printLlmReport(report)
      await this.warnPastLimits(report.imported.map(s => s.id))
      return report
    }
    if (args.file === undefined) {
      throw new SynapseError('INVALID_INPUT', 'Name the export to import.', {
        exitCode: 2,
        suggestions: ['Pass a file written by "synapse sessions export", "-" for stdin, or --from llm.'],
      })
    }
    const source = args.file === '-' ? 'stdin' : args.file
    const text = args.file === '-' ? ((await readPipedStdin()) ?? '') : readExport(args.file)
    const snapshots = parseExport(text, source)
    const report = await importSnapshots(this.store, snapshots, {newIds: flags['new-ids'], replace: flags.replace})
    this.log(`Imported ${importedCounts(report)}.`)
    await this.warnPastLimits(report.imported.map(s => s.id))
    return report
  }

  /** An import runs no cleanup itself; the next command's would take what is past the limits, so say so now. */
  private async warnPastLimits(imported: string[]): Promise<void> {
    const settings = runtime.config!.settings.session
    const due = await applyRetention(this.store, settings, {dryRun: true})
    const notice = pastLimitNotice(due, imported, settings)
    if (notice) process.stderr.write(`${notice}\n`)
  }

  private printLlmReport(report: LlmImportReport): void {
    const counts = report.imported.length === 0 ? 'Nothing new imported' : `Imported ${importedCounts(report)}`
    this.log(`${counts} from llm's ${terminalSafe(report.path)} (${plural(report.responses, 'response')} read).`)
    if (report.alreadyImported.length > 0)
      this.log(`${plural(report.alreadyImported.length, 'session')} imported before and unchanged in llm: left as they are.`)
    if (report.changed.length > 0) {
      this.log(
        `${plural(report.changed.length, 'session')} imported before ${report.changed.length === 1 ? 'has' : 'have'} changed in llm since: left as they are; --replace refreshes them (${report.changed.map(c => c.id).join(', ')}).`,
      )
    }
    if (report.skipped.length > 0) {
      this.log('Not imported:')
      for (const skip of report.skipped)
        this.log(`  ${skip.count} × ${skip.kind}${skip.responses.length > 0 ? ` (in ${plural(skip.responses.length, 'response')})` : ''}: ${skip.reason}.`)
    }
    for (const note of report.notes) this.log(`Note: ${terminalSafe(note)}`)
  }
}

function importedCounts(report: {imported: ImportReport['imported']}): string {
  const messages = report.imported.reduce((sum, s) => sum + s.messages, 0)
  const replaced = report.imported.filter(s => s.replaced).length
  return `${plural(report.imported.length, 'session')} (${plural(messages, 'message')})${replaced > 0 ? `, ${replaced} replaced` : ''}`
}

function readExport(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new SynapseError('INVALID_INPUT', describePathFailure(error, file, 'read'), {suggestions: ['Check the path; "-" reads from stdin.']})
  }
}
