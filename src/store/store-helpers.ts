import {InvalidInputError, StorageUnavailableError} from '../core/errors.js'
import {newId} from '../core/ids.js'
import {
  DEFAULT_LIST_LIMIT,
  type ListOptions,
  MAX_LIST_LIMIT,
  type Message,
  type NewMessage,
  type NewSession,
  type RetentionPolicy,
  type Session,
} from './session-store.js'

export function pageOf(options: ListOptions = {}): {limit: number; offset: number} {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT
  const offset = options.offset ?? 0
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidInputError(`A page holds 1 to ${MAX_LIST_LIMIT} sessions, not ${limit}.`)
  }
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidInputError(`An offset is a whole number ≥ 0, not ${offset}.`)
  return {limit, offset}
}

export function checkLast(last: number | undefined): void {
  if (last !== undefined && (!Number.isInteger(last) || last < 0)) {
    throw new InvalidInputError(`"last" is a whole number ≥ 0, not ${last}.`)
  }
}

export function checkPolicy(policy: RetentionPolicy): void {
  if (policy.maxSessions !== undefined && (!Number.isInteger(policy.maxSessions) || policy.maxSessions < 0)) {
    throw new InvalidInputError(`max_sessions is a whole number ≥ 0, not ${policy.maxSessions}.`)
  }
  if (policy.olderThan !== undefined && Number.isNaN(policy.olderThan.getTime())) {
    throw new InvalidInputError('The retention cut-off is not a valid date.')
  }
}

/**
 * Which sessions a retention policy deletes, for an adapter that selects in memory: from sessions
 * most recently updated first, those older than the cut-off, then the unkept ones beyond
 * `maxSessions`; never a kept or protected one. Returns them oldest first, as `prune` reports them.
 */
export function selectForPrune<T extends {id: string; kept: boolean; updatedAt: Date}>(newestFirst: readonly T[], policy: RetentionPolicy): T[] {
  const spared = new Set(policy.protect ?? [])
  const counted = newestFirst.filter(s => !s.kept)
  const doomed = new Set<T>()
  if (policy.olderThan) {
    for (const s of counted) if (s.updatedAt < policy.olderThan) doomed.add(s)
  }
  if (policy.maxSessions !== undefined) {
    // Age-expired sessions are the oldest, so "beyond the newest N" of the survivors is what is left.
    for (const s of counted.filter(s => !doomed.has(s)).slice(policy.maxSessions)) doomed.add(s)
  }
  return counted.filter(s => doomed.has(s) && !spared.has(s.id)).reverse()
}

export function closedStoreError(backend: string): StorageUnavailableError {
  return new StorageUnavailableError(`The ${backend} session store is closed.`)
}

/**
 * A clock whose readings strictly increase within one store: "most recently updated" then always
 * names the session that was written last, even when two writes fall in the same millisecond.
 */
export function monotonicClock(clock: () => Date = () => new Date()): () => Date {
  let last = -Infinity
  return () => {
    const reading = clock().getTime()
    last = reading > last ? reading : last + 1
    return new Date(last)
  }
}

/** A new session as every adapter stores it: defaults filled in, a fresh id unless one is given. */
export function newSessionRecord(input: NewSession, now: Date): Session {
  return {
    createdAt: now,
    id: input.id ?? newId(now.getTime()),
    kept: input.kept ?? false,
    metadata: structuredClone(input.metadata ?? {}),
    model: input.model ?? null,
    parentId: null,
    parentPosition: null,
    provider: input.provider ?? null,
    systemPrompt: input.systemPrompt ?? null,
    title: input.title ?? null,
    updatedAt: now,
  }
}

/** A message being appended, as every adapter stores it: defaults filled in, a fresh id. */
export function newMessageRecord(input: NewMessage, sessionId: string, position: number, now: Date): Message {
  return {
    cachedInputTokens: input.cachedInputTokens ?? null,
    content: input.content,
    costSource: input.costSource ?? null,
    costUsd: input.costUsd ?? null,
    createdAt: now,
    durationMs: input.durationMs ?? null,
    finishReason: input.finishReason ?? null,
    id: newId(now.getTime()),
    inputTokens: input.inputTokens ?? null,
    metadata: structuredClone(input.metadata ?? {}),
    model: input.model ?? null,
    outputTokens: input.outputTokens ?? null,
    position,
    provider: input.provider ?? null,
    replyTo: input.replyTo ?? null,
    role: input.role,
    sessionId,
    status: input.status ?? 'complete',
    tokenSource: input.tokenSource ?? null,
  }
}
