import {InvalidInputError, StorageUnavailableError} from '../core/errors.js'
import {ID_LENGTH, newId, normalizeIdPrefix} from '../core/ids.js'
import {
  DEFAULT_LIST_LIMIT,
  type ListOptions,
  MAX_LIST_LIMIT,
  MESSAGE_ROLES,
  MESSAGE_STATUSES,
  type Message,
  type MessagePatch,
  type NewMessage,
  type NewSession,
  type RetentionPolicy,
  type Session,
  type SessionSnapshot,
} from './session-store.js'

/** The checks every adapter makes before writing, so that bad input fails the same way everywhere. */
export function checkNewMessages(messages: NewMessage[]): void {
  if (!Array.isArray(messages)) throw new InvalidInputError('Messages to append must be an array.')
  for (const message of messages) {
    if (!MESSAGE_ROLES.includes(message.role)) {
      throw new InvalidInputError(`"${String(message.role)}" is not a message role; use one of ${MESSAGE_ROLES.join(', ')}.`)
    }
    if (typeof message.content !== 'string') throw new InvalidInputError('A message needs text content.')
    if (message.status !== undefined) checkStatus(message.status)
    if (message.replyTo !== undefined && message.replyTo !== null && typeof message.replyTo !== 'string')
      throw new InvalidInputError('"replyTo" must be a message id or null.')
  }
}

export function checkMessagePatch(patch: MessagePatch): void {
  if (patch.status !== undefined) checkStatus(patch.status)
  if (patch.content !== undefined && typeof patch.content !== 'string') throw new InvalidInputError('A message needs text content.')
}

function checkStatus(status: string): void {
  if (!MESSAGE_STATUSES.includes(status as never)) {
    throw new InvalidInputError(`"${status}" is not a message status; use one of ${MESSAGE_STATUSES.join(', ')}.`)
  }
}

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

/**
 * The largest value of an INTEGER column on PostgreSQL (32-bit signed), the narrowest backend:
 * tokens and durations above it cannot be stored everywhere, so no backend takes them.
 */
export const MAX_STORED_INTEGER = 2_147_483_647

/**
 * The highest position a restored message may have. Below MAX_STORED_INTEGER on purpose: appends
 * continue after the last position, and a session restored near the column's limit would take the
 * restore and then refuse every later turn. A billion leaves as many turns again.
 */
export const MAX_RESTORED_POSITION = 1_000_000_000

/** The VARCHAR lengths of the schema (src/migrations), in characters as PostgreSQL counts them. */
const TEXT_LIMITS = {finishReason: 50, model: 200, provider: 100} as const

/** What `restore` accepts: well-formed ids (no path tricks reach any backend), ordered positions, values every backend can hold. */
export function checkSnapshot(snapshot: SessionSnapshot): void {
  const {messages, session} = snapshot
  const checkId = (id: unknown, what: string) => {
    if (typeof id !== 'string' || id.length !== ID_LENGTH || normalizeIdPrefix(id) !== id) {
      throw new InvalidInputError(`${what} id ${JSON.stringify(id)} is not a ULID (26 characters of Crockford base32, upper case).`)
    }
  }
  checkId(session?.id, 'The session')
  for (const date of [session.createdAt, session.updatedAt]) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new InvalidInputError(`Session ${session.id} has an invalid timestamp.`)
  }
  checkText(session, ['title', 'provider', 'model', 'systemPrompt'], `Session ${session.id}`)
  checkParent(session)
  checkNewMessages(messages)
  let previous = -1
  const ids = new Set<string>()
  for (const message of messages) {
    checkId(message.id, 'A message')
    if (ids.has(message.id)) throw new InvalidInputError(`Message id ${message.id} appears twice.`)
    ids.add(message.id)
    if (!Number.isInteger(message.position) || message.position <= previous) {
      throw new InvalidInputError(`Messages of session ${session.id} must have strictly increasing positions (${message.position} after ${previous}).`)
    }
    if (message.position > MAX_RESTORED_POSITION) {
      throw new InvalidInputError(
        `Message ${message.id} has position ${message.position}; positions go from 0 to ${MAX_RESTORED_POSITION.toLocaleString('en-US')}.`,
      )
    }
    previous = message.position
    if (!(message.createdAt instanceof Date) || Number.isNaN(message.createdAt.getTime()))
      throw new InvalidInputError(`Message ${message.id} has an invalid timestamp.`)
    for (const field of ['inputTokens', 'outputTokens', 'durationMs'] as const) {
      const value = message[field]
      if (value !== null && value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= MAX_STORED_INTEGER)) {
        throw new InvalidInputError(
          `Message ${message.id} has ${field} ${value}; it must be a whole number from 0 to ${MAX_STORED_INTEGER.toLocaleString('en-US')}, or null.`,
        )
      }
    }
    checkText(message, ['content', 'provider', 'model', 'finishReason'], `Message ${message.id}`)
  }
}

/**
 * Text every backend can store: PostgreSQL refuses NUL in text and cuts nothing to fit a VARCHAR,
 * so both are refused here, the same on every backend, before anything is written.
 */
function checkText<T extends object>(record: T, fields: Array<keyof T & string>, what: string): void {
  for (const field of fields) {
    const value = record[field] as unknown
    if (value === null || value === undefined) continue
    if (typeof value !== 'string') throw new InvalidInputError(`${what} has a ${field} that is not text.`)
    if (value.includes('\0')) throw new InvalidInputError(`${what} has a NUL character in its ${field}, which not every backend can store.`)
    const limit = TEXT_LIMITS[field as keyof typeof TEXT_LIMITS]
    if (limit !== undefined && [...value].length > limit)
      throw new InvalidInputError(`${what} has a ${field} of ${[...value].length} characters; at most ${limit} fit.`)
  }
}

/** A fork names its parent by full id and a position, both or neither. */
function checkParent(session: Session): void {
  const parentId = session.parentId ?? null
  const parentPosition = session.parentPosition ?? null
  if (parentId === null && parentPosition === null) return
  if (typeof parentId !== 'string' || parentId.length !== ID_LENGTH || normalizeIdPrefix(parentId) !== parentId)
    throw new InvalidInputError(`Session ${session.id} has parentId ${JSON.stringify(parentId)}, which is not a ULID; a fork's parent is named by its full id.`)
  if (parentPosition !== null && !(Number.isInteger(parentPosition) && parentPosition >= 0 && parentPosition <= MAX_RESTORED_POSITION))
    throw new InvalidInputError(
      `Session ${session.id} has parentPosition ${parentPosition}; it must be a whole number from 0 to ${MAX_RESTORED_POSITION.toLocaleString('en-US')}, or null.`,
    )
}

/**
 * What `restoreAll` accepts: every snapshot as `checkSnapshot` says, no session twice, and no message
 * id in two sessions of the batch (ids are unique across the store, not only within a session).
 */
export function checkSnapshotBatch(snapshots: SessionSnapshot[]): void {
  if (!Array.isArray(snapshots)) throw new InvalidInputError('Sessions to restore must be an array.')
  const sessions = new Set<string>()
  const messageOwners = new Map<string, string>()
  for (const snapshot of snapshots) {
    checkSnapshot(snapshot)
    const {id} = snapshot.session
    if (sessions.has(id)) throw new InvalidInputError(`Session ${id} appears twice.`)
    sessions.add(id)
    for (const message of snapshot.messages) {
      const owner = messageOwners.get(message.id)
      if (owner) throw new InvalidInputError(`Message id ${message.id} appears in sessions ${owner} and ${id}; a message id names one message.`)
      messageOwners.set(message.id, id)
    }
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
    content: input.content,
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
  }
}
