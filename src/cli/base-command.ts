import {Command, Errors, type Interfaces, ux} from '@oclif/core'
import {format, inspect} from 'node:util'

import {describePathFailure, SynapseError} from '../core/errors.js'
import {closest} from '../config/values.js'
import {terminalSafe, terminalSafeJson} from '../core/terminal-text.js'
import type {ProviderRegistry} from '../providers/registry.js'
import type {SessionStore} from '../store/session-store.js'
import {detectStyle, isOutputFailure, type OutputStyle, paint, reportOutputFailure, writeOutput} from './output.js'
import {askYesNo} from './question.js'
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
    if (isOutputFailure(error)) return reportOutputFailure(error)
    // --help and --json are flags of every command, not in its own list: a near miss of them is named too.
    const flags = {...this.ctor.flags, ...this.ctor.baseFlags, ...(this.ctor.enableJsonFlag ? {json: {}} : {}), help: {}}
    const report = toReport(error, {bin: this.config.bin, commandId: this.id, flags})
    if (this.jsonEnabled()) this.logJson({error: report, ...this.errorContext()})
    else printReport(report, error)
    this.exit(report.exitCode)
  }

  /** What a command's --json error output carries beside `error` (chat: the session a script can continue); nothing by default. */
  protected errorContext(): object {
    return {}
  }

  log(message = '', ...args: unknown[]): void {
    if (this.jsonEnabled()) return
    writeOutput(`${format(typeof message === 'string' ? message : inspect(message), ...args)}\n`)
  }

  logJson(json: unknown): void {
    const text = ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})
    writeOutput(`${process.stdout.isTTY ? terminalSafeJson(text) : text}\n`)
  }

  /**
   * oclif's parser rewrites the message of an error a flag's parser throws ("Parsing --limit \n\t…
   * See more help with --help"); each parser is wrapped so the error keeps the flag and its own words.
   */
  protected async parse<F extends Record<string, unknown>, B extends Record<string, unknown>, A extends Record<string, unknown>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const input = options ?? (this.ctor as unknown as Interfaces.Input<F, B, A>)
    const flags = withNamedFlagErrors(input.flags ?? {})
    // A proxy rather than a copy: oclif reads the class's own and inherited statics (strict, baseFlags…).
    const named = new Proxy(input, {get: (target, key, receiver) => (key === 'flags' ? flags : Reflect.get(target, key, receiver))})
    return super.parse(named, argv)
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
    return askYesNo(`${question} [y/N] `, {cancelled})
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

/** Prints a report as every synapse error looks on a terminal: `Error: message`, then one remedy a line. */
export function printReport(report: ErrorReport, error?: Error): void {
  const style = detectStyle(process.stderr)
  // Messages quote stored values and servers' words: data, never escape sequences.
  process.stderr.write(`${paint(style, 'red', 'Error:')} ${terminalSafe(report.message, {multiline: true})}\n`)
  for (const hint of report.suggestions) process.stderr.write(`  ${paint(style, 'dim', '→')} ${terminalSafe(hint, {multiline: true})}\n`)
  if (process.env.DEBUG && error?.stack) process.stderr.write(`${error.stack}\n`)
}

interface ReportContext {
  bin: string
  commandId?: string
  /** The command's flags, to name the closest one to an unknown flag. */
  flags?: Record<string, {char?: string}>
}

type ParseInput = {args?: Record<string, unknown>; flags?: Record<string, {char?: string; exclusive?: string[]; required?: boolean}>}
type ParseOutput = {flags?: Record<string, unknown>}

/**
 * oclif's parse errors are subclasses of CLIParseError, which @oclif/core does not export by name; a
 * CLIError that carries the parse (`error.parse`) is one, and its class name says which. Their
 * fields (`args`, `flags`, the parse) give what the message says, in synapse's words.
 */
type ParseError = Errors.CLIError & {
  args?: Array<{description?: string; name: string}> | unknown[]
  flags?: string[]
  parse: {input?: ParseInput; output?: ParseOutput}
}

function isParseError(error: unknown): error is ParseError {
  return error instanceof Errors.CLIError && 'parse' in error
}

export function toReport(error: Error & {code?: string; oclif?: {exit?: number}; path?: string; syscall?: string}, context: ReportContext): ErrorReport {
  const usage = (message: string, extra: string[] = []): ErrorReport => ({
    code: 'USAGE',
    exitCode: 2,
    message,
    suggestions: [...extra, `See "${[context.bin, ...(context.commandId ?? '').split(':')].filter(Boolean).join(' ')} --help".`],
  })
  if (error instanceof FlagValueError) return usage(error.toJSON().message)
  if (error instanceof SynapseError) return error.toJSON()
  if (isParseError(error)) return usage(...describeParseError(error, context))
  // readline/promises' question() rejects so on Ctrl-C.
  if (error.name === 'AbortError' || error.code === 'ABORT_ERR') return {code: 'INTERRUPTED', exitCode: 130, message: 'Cancelled.', suggestions: []}
  // A file or directory the system refused: the user's to fix, not a bug.
  if (typeof error.code === 'string' && typeof error.path === 'string' && error.code.startsWith('E')) {
    const action = /write|open|mkdir|mkdtemp|rename|copy/.test(error.syscall ?? '') ? 'write' : 'read'
    return {code: 'FAILED', exitCode: 1, message: describePathFailure(error, error.path, action), suggestions: ['Check the path and its permissions.']}
  }
  if (error instanceof Errors.CLIError) {
    const exitCode = error.oclif?.exit ?? 1
    // The parser's own CLIErrors ("Flag --x expects a value") exit 2, as usage errors do.
    return exitCode === 2 ? usage(firstLine(error.message)) : {code: 'FAILED', exitCode, message: firstLine(error.message), suggestions: []}
  }
  return {
    code: 'INTERNAL',
    exitCode: 1,
    message: firstLine(error.message || String(error)),
    suggestions: ['This looks like a bug in synapse. Run again with DEBUG=1 to see where, and report it.'],
  }
}

function describeParseError(error: ParseError, context: ReportContext): [string, string[]?] {
  switch (error.constructor.name) {
    case 'RequiredArgsError': {
      const args = (error.args ?? []) as Array<{description?: string; name: string}>
      const names = args.map(arg => arg.name.toUpperCase())
      const what = args.length === 1 && args[0].description ? ` (${args[0].description.replace(/\.$/, '')})` : ''
      return [`Missing ${names.length === 1 ? 'argument' : 'arguments'} ${names.join(', ')}${what}.`]
    }

    case 'UnexpectedArgsError': {
      const args = (error.args ?? []).map(String)
      return [`Unexpected ${args.length === 1 ? 'argument' : 'arguments'}: ${args.join(' ')}.`]
    }

    case 'NonExistentFlagsError': {
      const flags = error.flags ?? []
      const known = Object.keys(context.flags ?? error.parse.input?.flags ?? {})
      const guess = flags.length === 1 ? closest(flags[0].replace(/^-+/, '').split('=')[0], known) : undefined
      return [`Unknown ${flags.length === 1 ? 'flag' : 'flags'} ${flags.join(', ')}.`, guess ? [`Did you mean --${guess}?`] : []]
    }

    case 'FailedFlagValidationError':
    case 'ViolatedFlagConstraintError': {
      return [describeFlagConflict(error.parse.input?.flags ?? {}, error.parse.output?.flags ?? {})]
    }

    default: {
      return [firstLine(error.message)]
    }
  }
}

/** What the given flags break: two that exclude each other, or a required one left out. */
function describeFlagConflict(defined: NonNullable<ParseInput['flags']>, given: Record<string, unknown>): string {
  const label = (name: string) => (defined[name]?.char ? `-${defined[name].char}/--${name}` : `--${name}`)
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue
    const other = defined[name]?.exclusive?.find(excluded => given[excluded] !== undefined)
    if (other) return `${label(name)} and ${label(other)} cannot be used together.`
  }

  const missing = Object.keys(defined).filter(name => defined[name].required && given[name] === undefined)
  if (missing.length > 0) return `Missing ${missing.map(label).join(', ')}.`
  return 'These flags cannot be used together.'
}

/** A flag's value its parser refused: the flag, what was given and the parser's own reason. */
export class FlagValueError extends SynapseError {
  constructor(
    readonly flag: string,
    readonly reason: string,
  ) {
    super('INVALID_INPUT', `--${flag}: ${reason}`, {exitCode: 2})
  }

  // The message as built here, whatever the parser wrote over it.
  toJSON(): ReturnType<SynapseError['toJSON']> {
    return {...super.toJSON(), message: `--${this.flag}: ${this.reason}`, suggestions: this.suggestions}
  }
}

function withNamedFlagErrors<T extends Record<string, unknown>>(flags: T): T {
  const out: Record<string, unknown> = {}
  for (const [name, flag] of Object.entries(flags)) {
    const parse = (flag as {parse?: (...args: unknown[]) => Promise<unknown>}).parse
    if (typeof parse !== 'function') {
      out[name] = flag
      continue
    }

    out[name] = {
      ...(flag as object),
      async parse(...args: unknown[]) {
        try {
          return await parse.apply(this, args)
        } catch (error) {
          const reason = firstLine(error instanceof Error ? error.message : String(error))
          throw new FlagValueError(name, `${reason.charAt(0).toLowerCase()}${reason.slice(1)}${/[.!?]$/.test(reason) ? '' : '.'}`)
        }
      },
    }
  }

  return out as T
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find(line => line.trim() !== '')
      ?.trim() ?? text
  )
}
