import {Args, Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'

import {StoreCommand} from '../../cli/base-command.js'
import {plural, writeOutput} from '../../cli/output.js'
import {isStream, outputTargetOf, writeFileAtomic} from '../../core/atomic-write.js'
import {describePathFailure, InvalidInputError} from '../../core/errors.js'
import {terminalSafe, terminalSafeJson} from '../../core/terminal-text.js'
import {EXPORT_FORMATS, type ExportFormat, serialize} from '../../transfer/format.js'
import {collectSnapshots} from '../../transfer/transfer.js'

export interface SessionsExportResult {
  format: ExportFormat
  output: null | string
  sessions: number
}

export default class SessionsExport extends StoreCommand {
  static args = {
    // oclif would otherwise take a missing id from piped stdin (`… | synapse sessions export --all`).
    ids: Args.string({description: 'Session ids, unique prefixes or exact titles (or --all).', ignoreStdin: true}),
  }
  static description =
    `json and jsonl keep everything (ids, timestamps, token counts, statuses, metadata) and are what "sessions import" reads, into this backend or any other; markdown is for reading. The same sessions export to the same bytes from any backend.`
  static examples = [
    '<%= config.bin %> <%= command.id %> 01JX4Q2B --format markdown > notes.md',
    '<%= config.bin %> <%= command.id %> "Release notes" --format markdown > release-notes.md',
    '<%= config.bin %> <%= command.id %> --all --output backup.jsonl',
    '<%= config.bin %> <%= command.id %> --all --format json | DATABASE_URL=postgres://db/team <%= config.bin %> sessions import -',
  ]
  static flags = {
    all: Flags.boolean({description: 'Export every session.'}),
    format: Flags.string({default: 'jsonl', description: 'Output format.', options: [...EXPORT_FORMATS]}),
    output: Flags.string({char: 'o', description: 'Write to this file (readable by you alone) instead of stdout.'}),
  }
  static strict = false
  static summary = 'Export sessions as JSON, JSON lines or Markdown.'

  async run(): Promise<SessionsExportResult | undefined> {
    const {argv, flags} = await this.parse(SessionsExport)
    const ids = argv as string[]
    if (ids.length === 0 && !flags.all)
      throw new InvalidInputError('Name the sessions to export, or add --all.', {
        suggestions: ['Example: synapse sessions export --all --output sessions.jsonl'],
      })
    if (ids.length > 0 && flags.all) throw new InvalidInputError('Give session ids or --all, not both.')
    const snapshots = await collectSnapshots(this.store, flags.all ? {all: true} : {ids})
    const format = flags.format as ExportFormat
    const text = serialize(snapshots, format)
    if (!flags.output) {
      // The export is the output: under --json too, since it is already JSON (or the user asked for Markdown).
      // On a terminal it is read, not kept: stored text must not reach it as escape sequences.
      if (!process.stdout.isTTY) writeOutput(text)
      else writeOutput(format === 'markdown' ? terminalSafe(text, {multiline: true}) : terminalSafeJson(text))
      return
    }
    const path = await writePrivately(flags.output, text)
    process.stderr.write(`Exported ${plural(snapshots.length, 'session')} to ${path}\n`)
    return {format, output: path, sessions: snapshots.length}
  }
}

/**
 * Writes the file whole or not at all, 0600 from the start (core/atomic-write): an export is as
 * private as the history. A target that is no file but a stream (a FIFO, /dev/stdout, a terminal) is
 * written into, as `>` would: renaming a file over it would put a file where the stream was. A link
 * is followed (outputTargetOf).
 */
async function writePrivately(file: string, text: string): Promise<string> {
  const target = outputTargetOf(file)
  try {
    if (isStream(target)) await writeFile(target, text)
    else await writeFileAtomic(target, text)
  } catch (error) {
    throw new InvalidInputError(describePathFailure(error, target, 'write'), {exitCode: 1})
  }
  return target
}
