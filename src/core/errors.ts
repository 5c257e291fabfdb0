/**
 * Every failure a user can act on is a SynapseError: a stable code for scripts, the exit code the CLI
 * ends with, and the remedies it prints under the message. Anything else that escapes is a bug and
 * is reported as such.
 */
export type ErrorCode =
  | 'SESSION_NOT_FOUND'
  | 'AMBIGUOUS_SESSION_ID'
  | 'AMBIGUOUS_SESSION_TITLE'
  | 'MESSAGE_NOT_FOUND'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_BUSY'
  | 'UNKNOWN_STORAGE_SCHEME'
  | 'CONFIG_INVALID'
  | 'INVALID_INPUT'
  | 'CONFIRMATION_REQUIRED'
  | 'MIGRATION_FAILED'
  | 'PROVIDER_ERROR'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_NOT_FOUND'
  | 'MISSING_API_KEY'
  | 'INTERRUPTED'
  | 'NOT_SAVED'

export interface SynapseErrorOptions {
  cause?: unknown
  /** Process exit code; 1 unless the failure is a usage error (2) or an interruption (130). */
  exitCode?: number
  /** What the user can do about it, one line each, printed under the message. */
  suggestions?: string[]
}

// The one brand kept. synapse itself loads one copy of this module (one build, scripts/build.mjs), but
// a plugin a user installs may bring a synapse-cli of its own: npm installs a plugin's peer dependency
// beside it in the data directory, and an author may bundle it. Such a copy's errors still carry a
// code, an exit code and remedies that the CLI must print, so `instanceof SynapseError` answers by a
// brand in the global symbol registry, not by prototype. (Tests under mocha load src/ through tsx
// beside the build that the plugins import: the same case.) Subclasses keep the ordinary check.
const BRAND = Symbol.for('synapse.error')

export class SynapseError extends Error {
  static [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about: a subclass keeps the prototype check
    if (this !== SynapseError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as {[BRAND]?: unknown})[BRAND] === true
  }

  readonly [BRAND] = true
  readonly code: ErrorCode
  readonly exitCode: number
  readonly suggestions: string[]

  constructor(code: ErrorCode, message: string, options: SynapseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'SynapseError'
    this.code = code
    this.exitCode = options.exitCode ?? 1
    this.suggestions = options.suggestions ?? []
  }

  toJSON(): {code: ErrorCode; exitCode: number; message: string; suggestions: string[]} {
    return {code: this.code, exitCode: this.exitCode, message: this.message, suggestions: this.suggestions}
  }
}

export class SessionNotFoundError extends SynapseError {
  constructor(readonly sessionId: string) {
    super('SESSION_NOT_FOUND', `No session matches "${sessionId}".`, {
      suggestions: ['Run "synapse sessions list" to see the saved sessions.'],
    })
  }
}

export class AmbiguousSessionIdError extends SynapseError {
  constructor(
    readonly prefix: string,
    readonly candidates: string[],
  ) {
    super(
      'AMBIGUOUS_SESSION_ID',
      `"${prefix}" matches ${candidates.length} sessions: ${candidates.slice(0, 5).join(', ')}${candidates.length > 5 ? ', …' : ''}.`,
      {
        suggestions: ['Type more characters of the id.'],
      },
    )
  }
}

/** A session an ambiguous title could mean, as the error lists it. */
export interface SessionCandidate {
  id: string
  /** The shortest prefix (at least 8 characters) that names this session alone: what to type instead. */
  shortId: string
  updatedAt: Date
}

/** How many candidates an ambiguity error names before it says "…". */
export const CANDIDATES_SHOWN = 5

export class AmbiguousSessionTitleError extends SynapseError {
  /** `candidates` holds up to CANDIDATES_SHOWN + 1 sessions: one more than shown means "and more". */
  constructor(
    readonly title: string,
    readonly candidates: SessionCandidate[],
  ) {
    const shown = candidates.slice(0, CANDIDATES_SHOWN).map(c => `${c.shortId} (updated ${c.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`)
    const count = candidates.length > CANDIDATES_SHOWN ? `more than ${CANDIDATES_SHOWN}` : String(candidates.length)
    super(
      'AMBIGUOUS_SESSION_TITLE',
      `${JSON.stringify(title)} is the title of ${count} sessions: ${shown.join(', ')}${candidates.length > CANDIDATES_SHOWN ? ', …' : ''}.`,
      {
        suggestions: ['Use the id instead ("synapse sessions list" shows them), or give one of them another title with "synapse sessions rename".'],
      },
    )
  }
}

export class MessageNotFoundError extends SynapseError {
  constructor(readonly messageId: string) {
    super('MESSAGE_NOT_FOUND', `No message has the id "${messageId}".`)
  }
}

export class StorageUnavailableError extends SynapseError {
  constructor(message: string, options: SynapseErrorOptions = {}) {
    super('STORAGE_UNAVAILABLE', message, options)
  }
}

export class InvalidInputError extends SynapseError {
  constructor(message: string, options: SynapseErrorOptions = {}) {
    super('INVALID_INPUT', message, {exitCode: 2, ...options})
  }
}

export class ConfigError extends SynapseError {
  constructor(message: string, options: SynapseErrorOptions = {}) {
    super('CONFIG_INVALID', message, options)
  }
}

/** An error as one line for a warning: its message and, for a SynapseError, the first remedy. */
export function describeWithRemedy(error: unknown): string {
  if (error instanceof SynapseError) return error.suggestions.length > 0 ? `${error.message} — ${error.suggestions[0]}` : error.message
  return error instanceof Error ? error.message : String(error)
}

const ERRNO_WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EEXIST: 'it already exists',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space is left on the disk',
  ENOTDIR: 'a part of the path is not a directory',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
}

/**
 * "Cannot write /a/b/x.db: the directory /a/b does not exist." A file operation the system refused, in
 * one line that names the path: the user's to fix (a typo, a permission), never reported as a bug.
 */
export function describePathFailure(error: unknown, path: string, action: 'back up to' | 'read' | 'write'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT' && action !== 'read') return `Cannot ${action} ${path}: the directory ${parentOf(path)} does not exist.`
  const why = code === undefined ? (error instanceof Error ? error.message : String(error)) : (ERRNO_WORDS[code] ?? code)
  return `Cannot ${action} ${path}: ${why}.`
}

function parentOf(path: string): string {
  const cut = path.replace(/\/+$/, '').lastIndexOf('/')
  return cut <= 0 ? '/' : path.slice(0, cut)
}
