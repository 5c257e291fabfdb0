import {appendFileSync, chmodSync, mkdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {homeDir} from '../config/files.js'
import {writeFileAtomicSync} from '../core/atomic-write.js'

/** How many entries the REPL keeps and offers with the up arrow. */
export const REPL_HISTORY_LIMIT = 1000

/** A longer entry (a pasted file) is sent but not kept: it would crowd out everything else. */
export const MAX_HISTORY_ENTRY_CHARS = 16 * 1024

/** `$XDG_STATE_HOME/synapse/repl_history`, by default `~/.local/state/synapse/repl_history`. */
export function replHistoryPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME
  // The XDG spec says a relative value is invalid and must be ignored.
  const stateHome = xdg && path.isAbsolute(xdg) ? xdg : path.join(homeDir(env), '.local', 'state')
  return path.join(stateHome, 'synapse', 'repl_history')
}

/**
 * The REPL's input history, kept across runs in a file of its own, readable only by its owner
 * (0600, in a 0700 directory): it holds what the user typed, so it never goes into the session
 * database, an export or a log. One JSON string per line, so entries of several lines round-trip.
 * Each entry is appended as it is made, which keeps two REPLs at once from overwriting each
 * other; the file is compacted when it has grown well past the limit.
 * The history is a convenience: a file that cannot be read or written costs it, never the REPL.
 */
export class ReplHistory {
  /** Most recent first, without duplicates: what readline's `history` expects. */
  readonly entries: string[]
  private failed = false

  private constructor(
    /** Where entries are appended; undefined: they are kept in memory only. */
    private readonly file: string | undefined,
    entries: string[],
    private readonly onError: (error: unknown) => void,
  ) {
    this.entries = entries
  }

  /**
   * Reads the file; a missing one is an empty history. With `persist: false` (--no-save: nothing is
   * written) the earlier entries are offered, and new ones are kept in memory only.
   */
  static load(file: string, options: {onError?: (error: unknown) => void; persist?: boolean} = {}): ReplHistory {
    const onError = options.onError ?? (() => {})
    let lines: string[] = []
    try {
      lines = readFileSync(file, 'utf8').split('\n')
      // Written by an older version or by hand: nobody else should read what the user typed.
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError(error)
    }

    const entries = newestFirst(lines.flatMap(line => parseEntry(line)))
    const history = new ReplHistory(options.persist === false ? undefined : file, entries, onError)
    if (lines.length > 2 * REPL_HISTORY_LIMIT) history.compact()
    return history
  }

  /** A history of this run only: a pipe, or a test. */
  static inMemory(): ReplHistory {
    return new ReplHistory(undefined, [], () => {})
  }

  /** Remembers an entry at the top of the history and in the file. */
  add(entry: string): void {
    if (entry.trim() === '' || entry.length > MAX_HISTORY_ENTRY_CHARS) return
    const earlier = this.entries.indexOf(entry)
    if (earlier !== -1) this.entries.splice(earlier, 1)
    this.entries.unshift(entry)
    if (this.entries.length > REPL_HISTORY_LIMIT) this.entries.length = REPL_HISTORY_LIMIT
    this.write(file => {
      mkdirSync(path.dirname(file), {mode: 0o700, recursive: true})
      appendFileSync(file, `${JSON.stringify(entry)}\n`, {mode: 0o600})
    })
  }

  private compact(): void {
    this.write(file => {
      writeFileAtomicSync(
        file,
        [...this.entries]
          .reverse()
          .map(entry => `${JSON.stringify(entry)}\n`)
          .join(''),
      )
    })
  }

  /** The first failure is reported; later ones would only repeat it at every line. */
  private write(work: (file: string) => void): void {
    if (this.failed || this.file === undefined) return
    try {
      work(this.file)
    } catch (error) {
      this.failed = true
      this.onError(error)
    }
  }
}

function parseEntry(line: string): string[] {
  if (line === '') return []
  try {
    const entry: unknown = JSON.parse(line)
    return typeof entry === 'string' && entry.length <= MAX_HISTORY_ENTRY_CHARS ? [entry] : []
  } catch {
    // A line cut short by a crash, or written by hand: skipped, the rest still counts.
    return []
  }
}

/** The file holds oldest first, perhaps with repeats; the history keeps each entry's latest use. */
function newestFirst(oldestFirst: string[]): string[] {
  const seen = new Set<string>()
  const entries: string[] = []
  for (let i = oldestFirst.length - 1; i >= 0 && entries.length < REPL_HISTORY_LIMIT; i--) {
    if (seen.has(oldestFirst[i])) continue
    seen.add(oldestFirst[i])
    entries.push(oldestFirst[i])
  }
  return entries
}
