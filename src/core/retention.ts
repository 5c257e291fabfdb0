import type {PruneResult, RetentionPolicy, SessionStore} from '../store/session-store.js'

export interface RetentionSettings {
  /** 0: no count limit. */
  maxSessions: number
  /** 0: keep forever. */
  retentionDays: number
}

const DAY_MS = 86_400_000

/** The `[session]` settings as a store policy, at a given instant. */
export function retentionPolicy(settings: RetentionSettings, now: Date = new Date(), dryRun = false): RetentionPolicy {
  return {
    dryRun,
    maxSessions: settings.maxSessions > 0 ? settings.maxSessions : undefined,
    olderThan: settings.retentionDays > 0 ? new Date(now.getTime() - settings.retentionDays * DAY_MS) : undefined,
  }
}

export function applyRetention(store: SessionStore, settings: RetentionSettings, options: {dryRun?: boolean; now?: Date} = {}): Promise<PruneResult> {
  return store.prune(retentionPolicy(settings, options.now, options.dryRun))
}
