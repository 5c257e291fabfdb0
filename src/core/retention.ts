import type {PruneResult, RetentionPolicy, SessionStore} from '../store/session-store.js'

export interface RetentionSettings {
  /** 0: no count limit. */
  maxSessions: number
  /** 0: keep forever. */
  retentionDays: number
}

export interface RetentionRun {
  dryRun?: boolean
  now?: Date
  /** Sessions the running command created or imported: never deleted by its own cleanup. */
  protect?: readonly string[]
}

const DAY_MS = 86_400_000

/**
 * The `[session]` settings as a store policy, at a given instant. A retention_days reaching back
 * past the earliest instant a Date holds (some 270,000 years) is no age limit at all: no session is
 * that old, and the cut-off would be an invalid date.
 */
export function retentionPolicy(settings: RetentionSettings, now: Date = new Date(), dryRun = false, protect?: readonly string[]): RetentionPolicy {
  const cutOff = new Date(now.getTime() - settings.retentionDays * DAY_MS)
  return {
    dryRun,
    maxSessions: settings.maxSessions > 0 ? settings.maxSessions : undefined,
    olderThan: settings.retentionDays > 0 && !Number.isNaN(cutOff.getTime()) ? cutOff : undefined,
    ...(protect && protect.length > 0 ? {protect} : {}),
  }
}

export function applyRetention(store: SessionStore, settings: RetentionSettings, options: RetentionRun = {}): Promise<PruneResult> {
  return store.prune(retentionPolicy(settings, options.now, options.dryRun, options.protect))
}

export interface RetentionBreakdown {
  /** Deleted for not being updated within retention_days. */
  byAge: number
  /** Deleted for being beyond the newest max_sessions. */
  byCount: number
}

/**
 * Which limit took each deleted session. The age limit is applied first, so a session older than
 * the cut-off counts there even if it was also beyond max_sessions.
 */
export function retentionBreakdown(result: PruneResult, settings: RetentionSettings, now: Date = new Date()): RetentionBreakdown {
  const {olderThan} = retentionPolicy(settings, now)
  const byAge = olderThan ? result.deleted.filter(s => s.updatedAt < olderThan).length : 0
  return {byAge, byCount: result.deleted.length - byAge}
}

const KEEP_HINT = 'or keep one with "synapse sessions keep <id>"'

/** "3 sessions older than 90 days (retention_days)", and the settings that would change it. */
function describeDeletion(result: PruneResult, settings: RetentionSettings, now: Date): {keys: string; what: string} {
  const {byAge, byCount} = retentionBreakdown(result, settings, now)
  const days = `older than ${settings.retentionDays} ${settings.retentionDays === 1 ? 'day' : 'days'} (retention_days)`
  const most = `beyond the ${settings.maxSessions} most recently updated (max_sessions)`
  const sessions = (count: number) => `${count} ${count === 1 ? 'session' : 'sessions'}`
  if (byCount === 0) return {keys: 'retention_days', what: `${sessions(byAge)} ${days}`}
  if (byAge === 0) return {keys: 'max_sessions', what: `${sessions(byCount)} ${most}`}
  return {keys: 'retention_days and max_sessions', what: `${sessions(result.deleted.length)}: ${byAge} ${days}, ${byCount} ${most}`}
}

/**
 * The one stderr line automatic cleanup owes the user whenever it deleted something: how many, by
 * which limit, and which setting changes it. Undefined when nothing went.
 */
export function cleanupNotice(result: PruneResult, settings: RetentionSettings, now: Date = new Date()): string | undefined {
  if (result.deleted.length === 0) return undefined
  const {keys, what} = describeDeletion(result, settings, now)
  return `synapse: retention deleted ${what} — set [session] ${keys} (0 turns a limit off), ${KEEP_HINT}`
}

/**
 * What an import says when the store is now past a retention limit: its sessions survive the import,
 * but the next cleanup (a dry run of it is `due`) would delete some, perhaps of those just imported.
 * Undefined when nothing is due.
 */
export function pastLimitNotice(
  due: PruneResult,
  imported: readonly string[],
  settings: RetentionSettings & {autoCleanup: boolean},
  now: Date = new Date(),
): string | undefined {
  if (due.deleted.length === 0) return undefined
  const {keys, what} = describeDeletion(due, settings, now)
  const importedIds = new Set(imported)
  const ofThem = due.deleted.filter(s => importedIds.has(s.id)).length
  const which = ofThem === due.deleted.length ? ' (all of them just imported)' : ofThem > 0 ? ` (${ofThem} of them just imported)` : ''
  const when = settings.autoCleanup ? 'the next command’s automatic cleanup will delete' : '"synapse sessions prune" would delete'
  return `synapse: the store is now past its retention limits: ${when} ${what}${which} — set [session] ${keys} (0 turns a limit off), ${KEEP_HINT}`
}
