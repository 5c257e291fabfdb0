import {Command, Errors} from '@oclif/core'

import {isSynapseError, SynapseError} from '../core/errors.js'
import type {ProviderRegistry} from '../providers/registry.js'
import {terminalSafe} from '../core/terminal-text.js'
import type {SessionStore} from '../store/session-store.js'
import {detectStyle, type OutputStyle, paint} from './output.js'
import {runtime} from './runtime.js'

/**
 * What every synapse command shares: `--json`, terminal-aware styling, and one way of reporting
 * errors: `Error: message` and the remedies under it, or `{"error": {...}}` under --json, with the
 * error's exit code (1 for failures, 2 for usage errors). A stack trace only with DEBUG set.
 */
export abstract class SynapseCommand extends Command {
  static enableJsonFlag = true

  protected get style(): OutputStyle {
    return detectStyle(process.stdout)
  }

  protected get errorStyle(): OutputStyle {
    return detectStyle(process.stderr)
  }

  async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() and oclif's own help/version exits travel as errors; let them through.
    if (error instanceof Errors.ExitError) throw error
    const report = toReport(error, this.id, this.config.bin)
    if (this.jsonEnabled()) {
      this.logJson({error: report})
    } else {
      const style = this.errorStyle
      // Messages quote stored values and servers' words: data, never escape sequences.
      process.stderr.write(`${paint(style, 'red', 'Error:')} ${terminalSafe(report.message, {multiline: true})}\n`)
      for (const hint of report.suggestions) process.stderr.write(`  ${paint(style, 'dim', '→')} ${terminalSafe(hint, {multiline: true})}\n`)
      if (process.env.DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    }
    this.exit(report.exitCode)
  }

  /** The installed providers; a plugin whose hook failed costs one warning line on stderr, not the command. */
  protected async providerRegistry(): Promise<ProviderRegistry> {
    const {formatWarning, loadProviderRegistry} = await import('../plugins/extensions.js')
    const {registry, warnings} = await loadProviderRegistry(this.config)
    for (const warning of warnings) process.stderr.write(`${formatWarning(warning)}\n`)
    return registry
  }

  /**
   * Asks on a terminal; refuses (false) when stdin is not one. Ctrl-D, or any answer but yes, is no.
   * Ctrl-C cancels the command: exit 130 with `cancelled` as its one line.
   */
  protected async confirm(question: string, cancelled = 'Cancelled; nothing was changed.'): Promise<boolean> {
    if (!process.stdin.isTTY) return false
    const {createInterface} = await import('node:readline')
    const rl = createInterface({input: process.stdin, output: process.stderr})
    const INTERRUPT = Symbol('interrupt')
    try {
      const answer = await new Promise<string | typeof INTERRUPT | undefined>((resolve) => {
        // With a listener, readline leaves Ctrl-C to us instead of closing with an AbortError.
        rl.on('SIGINT', () => resolve(INTERRUPT))
        rl.on('close', () => resolve(undefined))
        rl.question(`${question} [y/N] `, resolve)
      })
      if (answer === INTERRUPT) {
        process.stderr.write('\n')
        throw new SynapseError('INTERRUPTED', cancelled, {exitCode: 130})
      }
      if (answer === undefined) process.stderr.write('\n')
      return /^y(es)?$/i.test(answer?.trim() ?? '')
    } finally {
      rl.close()
    }
  }
}

/** A command that works on the session store, which the init hook opened for it. */
export abstract class StoreCommand extends SynapseCommand {
  /** Read by the init hook from the manifest: open the store before this command runs. */
  static usesStore = true
  /** Read by the init hook: apply pending migrations on open. The `db` commands manage them. */
  static migratesStore = true
  /** Read by the init hook: apply retention first (when auto_cleanup is on). */
  static autoCleanup = true

  protected get store(): SessionStore {
    if (runtime.openError) throw runtime.openError
    if (!runtime.store) throw new SynapseError('STORAGE_UNAVAILABLE', 'The session store was not opened.', {suggestions: ['This is a bug: please report it.']})
    return runtime.store
  }

  async finally(error: Error | undefined): Promise<unknown> {
    const store = runtime.store
    delete runtime.store
    delete runtime.openError
    delete runtime.openReadOnly
    delete runtime.cleanup
    delete runtime.cleanupError
    await store?.close()
    return super.finally(error)
  }
}

export interface ErrorReport {
  code: string
  exitCode: number
  message: string
  suggestions: string[]
}

function toReport(error: Error & {oclif?: {exit?: number}}, commandId: string | undefined, bin: string): ErrorReport {
  if (isSynapseError(error)) return error.toJSON()
  // oclif's parser reports bad flags and arguments with exit code 2.
  if (error.oclif?.exit === 2 || error.name === 'NonExistentFlagsError' || /Missing \d+ required arg|Unexpected argument|Nonexistent flag/.test(error.message)) {
    return {
      code: 'USAGE',
      exitCode: 2,
      message: oneLine(error.message),
      suggestions: [`See "${bin} ${(commandId ?? '').replaceAll(':', ' ')} --help".`],
    }
  }
  if (error instanceof Errors.CLIError) {
    return {code: 'FAILED', exitCode: error.oclif?.exit ?? 1, message: firstLine(error.message), suggestions: []}
  }
  return {
    code: 'INTERNAL',
    exitCode: 1,
    message: firstLine(error.message || String(error)),
    suggestions: ['This looks like a bug in synapse. Run again with DEBUG=1 to see where, and report it.'],
  }
}

/** oclif lists missing arguments on lines of their own; one line reads better in a terminal and a log. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .replaceAll(/\s{2,}/g, ' ')
    // The hint under the message already says where help is.
    .replace(/:?\s*See more help with --help\.?$/, '')
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? text
}
