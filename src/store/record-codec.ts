/**
 * The one record codec: how a session and its messages look outside a database (export and import
 * files, the filesystem backend's session files, the filesystem index; as text, for key-value and
 * document backends such as Redis: `sessionFields`, `messageText`) and which records any backend
 * accepts. A new record field is added here once, in SESSION_FIELDS or MESSAGE_FIELDS, and
 * every file format and check carries it; the `satisfies` clauses make a field missing here a
 * compile error.
 */
import {InvalidInputError} from '../core/errors.js'
import {ID_LENGTH, normalizeIdPrefix} from '../core/ids.js'
import {
  MESSAGE_ROLES,
  MESSAGE_STATUSES,
  type Message,
  type MessagePatch,
  type Metadata,
  type NewMessage,
  type Session,
  type SessionSnapshot,
  TOKEN_SOURCES,
  type TokenSource,
} from './session-store.js'

/**
 * 2: messages carry `replyTo`. Version 1 files are still read (see `decodeSnapshot`). A session's
 * `kept` and a message's usage (cachedInputTokens, tokenSource, costUsd, costSource) needed no new
 * version: absent (any file written before they existed) reads as not kept and null, and a reader
 * that predates them ignores them.
 * 3: sessions carry `parentId` and `parentPosition` (a fork's parent; null for other sessions), in
 * every file, as every field is: the shape changed. Versions 1 and 2 are still read: the fields are
 * absent there, and such a session is no fork.
 * 4: messages carry `hiddenAt` and `supersededBy` (taken out of the conversation by a retry, an edit
 * or an undo); a new version because a reader that ignored them would put replaced replies back into
 * the conversation, so an older synapse must refuse the file. Earlier versions are still read: none
 * of their messages is hidden.
 */
export const FORMAT_VERSION = 4
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3, FORMAT_VERSION]
/** For messages about a file of another version. */
export const READABLE_VERSIONS_TEXT = `${READABLE_VERSIONS[0]} to ${FORMAT_VERSION}`

/** A message as written to a file: every stored field but its session's id, timestamps as ISO-8601 with milliseconds. */
export type EncodedMessage = Omit<Message, 'createdAt' | 'hiddenAt' | 'sessionId'> & {createdAt: string; hiddenAt: null | string}

/** A session as written to a file, with its messages. */
export type EncodedSession = Omit<Session, 'createdAt' | 'updatedAt'> & {createdAt: string; messages: EncodedMessage[]; updatedAt: string}

/**
 * How each field is written and read back. text: a string; optionalText / optionalNumber: null when
 * absent; date: an ISO-8601 string in files, epoch milliseconds in the text forms (optionalDate: or
 * null, null when absent); flag: a boolean, false when absent; metadata: an object, {} when absent;
 * status: a message status, 'complete' when absent.
 */
export type FieldKind = 'date' | 'flag' | 'metadata' | 'number' | 'optionalDate' | 'optionalNumber' | 'optionalText' | 'status' | 'text'

/**
 * Every stored field of a session and of a message with its kind. Every form of a record here walks
 * these rather than naming the fields, so that a field added here reaches every file and backend.
 */
export const SESSION_FIELDS = {
  createdAt: 'date',
  id: 'text',
  kept: 'flag',
  metadata: 'metadata',
  model: 'optionalText',
  parentId: 'optionalText',
  parentPosition: 'optionalNumber',
  provider: 'optionalText',
  systemPrompt: 'optionalText',
  title: 'optionalText',
  updatedAt: 'date',
} as const satisfies Record<keyof Session, FieldKind>

export const MESSAGE_FIELDS = {
  cachedInputTokens: 'optionalNumber',
  content: 'text',
  costSource: 'optionalText',
  costUsd: 'optionalNumber',
  createdAt: 'date',
  durationMs: 'optionalNumber',
  finishReason: 'optionalText',
  hiddenAt: 'optionalDate',
  id: 'text',
  inputTokens: 'optionalNumber',
  metadata: 'metadata',
  model: 'optionalText',
  outputTokens: 'optionalNumber',
  position: 'number',
  provider: 'optionalText',
  replyTo: 'optionalText',
  role: 'text',
  status: 'status',
  supersededBy: 'optionalText',
  // Which one of TOKEN_SOURCES: checkNewMessages says.
  tokenSource: 'optionalText',
} as const satisfies Record<keyof EncodedMessage, FieldKind>

// Keys in byte order, `messages` among the session's: the bytes of a file never depend on which
// backend the records came from or in which order a field was added.
const SESSION_KEYS = [...Object.keys(SESSION_FIELDS), 'messages'].sort() as Array<keyof EncodedSession>
const MESSAGE_KEYS = Object.keys(MESSAGE_FIELDS).sort() as Array<keyof EncodedMessage>

/** The written form of a session: fixed key order, nothing that depends on when or where it was written. */
export function encodeSnapshot({messages, session}: SessionSnapshot): EncodedSession {
  const encoded: Record<string, unknown> = {}
  for (const key of SESSION_KEYS) encoded[key] = key === 'messages' ? messages.map(m => encodeMessage(m)) : encodeField(SESSION_FIELDS[key], session[key])
  return encoded as EncodedSession
}

function encodeMessage(message: Message): EncodedMessage {
  const encoded: Record<string, unknown> = {}
  for (const key of MESSAGE_KEYS) encoded[key] = encodeField(MESSAGE_FIELDS[key], message[key])
  return encoded as EncodedMessage
}

function encodeField(kind: FieldKind, value: unknown): unknown {
  if (kind === 'date' || (kind === 'optionalDate' && value !== null)) return (value as Date).toISOString()
  if (kind === 'flag') return value === true
  return value
}

/**
 * Where a decoded value went wrong: `path` locates it inside the session ([] for the session
 * itself, ['message 3'] for its third message), `problem` says what is wrong ("has no text "role"").
 * The caller turns both into its own error (an import's INVALID_INPUT, a session file's STORAGE_UNAVAILABLE).
 */
export type DecodeFailure = (path: string[], problem: string) => Error

/**
 * Reads the written form of a session back, checking the type of every field: records may come
 * from a file a person edited. Optional fields (the nullable ones, metadata, kept, status) may be
 * left out. What the values must be beyond their types is `checkSnapshot`'s to say.
 * `version` is the file's format version: version 1 predates `replyTo`.
 */
export function decodeSnapshot(value: unknown, version: number, fail: DecodeFailure): SessionSnapshot {
  const raw = objectOf(value, [], 'a session', fail)
  if (!Array.isArray(raw.messages)) throw fail([], 'has no "messages" list')
  const session = decodeFields(raw, SESSION_FIELDS, [], fail) as unknown as Session
  const messages = raw.messages.map((item, index) => {
    const path = [`message ${index + 1}`]
    const message = decodeFields(objectOf(item, path, 'a message', fail), MESSAGE_FIELDS, path, fail) as unknown as Message
    message.sessionId = session.id
    return message
  })
  // Version 1 predates replyTo; one process wrote each turn then, so a reply answered the question before it.
  if (version === 1) {
    let question: null | string = null
    for (const message of messages) {
      message.replyTo = message.role === 'assistant' ? question : null
      if (message.role === 'user') question = message.id
    }
  }
  return {messages, session}
}

function decodeFields(raw: Record<string, unknown>, fields: Record<string, FieldKind>, path: string[], fail: DecodeFailure): Record<string, unknown> {
  const decoded: Record<string, unknown> = {}
  for (const [key, kind] of Object.entries(fields)) decoded[key] = decodeField(kind, raw[key], key, path, fail)
  return decoded
}

/** What a field that is left out reads as (a record written before the field existed); undefined for a field that is required. */
export function absentValue(kind: FieldKind): unknown {
  if (kind === 'flag') return false
  if (kind === 'metadata') return {}
  if (kind === 'status') return 'complete'
  return kind === 'optionalDate' || kind === 'optionalNumber' || kind === 'optionalText' ? null : undefined
}

// ---- Records as text, for key-value and document backends --------------------------------------

/**
 * One field as text, for a backend that stores strings (the Redis adapter's hashes): a timestamp as
 * milliseconds since the epoch, anything else as JSON (so null is "null").
 */
export function fieldText(kind: FieldKind, value: unknown): string {
  return JSON.stringify(toJsonValue(kind, value))
}

/** `fieldText` read back; undefined (a record written before the field existed) reads as `absentValue`. */
export function fieldFromText(kind: FieldKind, text: string | undefined): unknown {
  return fromJsonValue(kind, text === undefined ? undefined : JSON.parse(text))
}

/** A field as a JSON value of a record in text: a timestamp as epoch milliseconds. */
function toJsonValue(kind: FieldKind, value: unknown): unknown {
  return kind === 'date' || (kind === 'optionalDate' && value !== null) ? (value as Date).getTime() : value
}

function fromJsonValue(kind: FieldKind, value: unknown): unknown {
  if (value === undefined) return absentValue(kind)
  return kind === 'date' || (kind === 'optionalDate' && value !== null) ? new Date(value as number) : value
}

const SESSION_TEXT_FIELDS = Object.entries(SESSION_FIELDS).filter(([field]) => field !== 'id') as Array<[keyof Session, FieldKind]>
// `position` and `id` are the head (see messageText); sessionId is never written.
const MESSAGE_TEXT_FIELDS = Object.entries(MESSAGE_FIELDS).filter(([field]) => field !== 'id' && field !== 'position') as Array<
  [keyof EncodedMessage, FieldKind]
>
const MESSAGE_DATES = MESSAGE_TEXT_FIELDS.filter(([, kind]) => kind === 'date' || kind === 'optionalDate').map(([field]) => field)

/**
 * A session as text fields (`fieldText`), for a backend that keeps a session as a hash of strings
 * (the Redis adapter): the fields `fields` names, except its id, which the backend's key holds. A
 * field left undefined is left out, so a SessionPatch becomes the fields it changes.
 */
export function sessionFields(fields: Partial<Session>): Record<string, string> {
  const text: Record<string, string> = {}
  for (const [field, kind] of SESSION_TEXT_FIELDS) if (fields[field] !== undefined) text[field] = fieldText(kind, fields[field])
  return text
}

/** `sessionFields` read back; a field the hash lacks (written before the field existed) reads as `absentValue`. Other fields are ignored. */
export function sessionFromFields(id: string, fields: Record<string, string | undefined>): Session {
  const session: Record<string, unknown> = {id}
  for (const [field, kind] of SESSION_TEXT_FIELDS) session[field] = fieldFromText(kind, fields[field])
  return session as unknown as Session
}

/**
 * A message as one JSON text, for a backend that keeps each message as a string (the Redis
 * adapter's lists) or a document: the fields `fields` names, timestamps as epoch milliseconds,
 * undefined ones left out (so a MessagePatch becomes the fields it changes), never the sessionId
 * (the backend's key says it). The order is fixed: `position` and `id` first, then the others in
 * MESSAGE_FIELDS order, so a whole record has a head a backend can match without decoding it:
 * `{"position":N,"id":"<ULID>",` for a placed message, `{"id":"<ULID>",` for an UnplacedMessage.
 * A backend that assigns positions itself puts `"position":N,` after the unplaced text's opening
 * brace, which makes exactly the placed message's text.
 *
 * Changed fields may be spliced onto the end of a stored text (`…}` becomes `…,"status":"complete"}`):
 * JSON.parse, and so `messageFromText`, keeps the last of two equal keys.
 */
export function messageText(fields: Partial<Message>): string {
  const record: Record<string, unknown> = {}
  if (fields.position !== undefined) record.position = fields.position
  if (fields.id !== undefined) record.id = fields.id
  for (const [field, kind] of MESSAGE_TEXT_FIELDS) if (fields[field] !== undefined) record[field] = toJsonValue(kind, fields[field])
  return JSON.stringify(record)
}

/**
 * `messageText` read back as a message of `sessionId`; a field the text lacks (written before the
 * field existed: the usage fields, hiddenAt) reads as `absentValue`. The text is trusted as the
 * backend's own (keys the codec does not know stay as they are): a record of unknown origin goes
 * through `decodeSnapshot`.
 */
export function messageFromText(text: string, sessionId: string): Message {
  // Completed in place, touching only absent fields and dates: a 10,000-message session reads in
  // half the time it takes copied field by field.
  const message = JSON.parse(text)
  for (const [field, kind] of MESSAGE_TEXT_FIELDS) if (message[field] === undefined) message[field] = absentValue(kind)
  for (const field of MESSAGE_DATES) if (message[field] !== null) message[field] = new Date(message[field])
  message.sessionId = sessionId
  return message
}

function decodeField(kind: FieldKind, value: unknown, key: string, path: string[], fail: DecodeFailure): unknown {
  const absent = value === null || value === undefined
  if (absent && absentValue(kind) !== undefined) return absentValue(kind)
  switch (kind) {
    case 'optionalDate':
    case 'date': {
      if (absent && kind === 'optionalDate') return null
      if (typeof value !== 'string') throw fail(path, `has no text "${key}"`)
      const date = new Date(value)
      if (Number.isNaN(date.getTime())) throw fail(path, `has an invalid date in "${key}"`)
      return date
    }
    case 'flag': {
      if (typeof value !== 'boolean') throw fail(path, `has "${key}" that is neither true nor false`)
      return value
    }
    case 'metadata': {
      return objectOf(value, path, 'a metadata', fail) as Metadata
    }
    case 'number':
    case 'optionalNumber': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail(path, `has no number "${key}"`)
      return value
    }
    default: {
      if (typeof value !== 'string') throw fail(path, `has no text "${key}"`)
      return value
    }
  }
}

function objectOf(value: unknown, path: string[], what: string, fail: DecodeFailure): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(path, `is not ${what} object`)
  return value as Record<string, unknown>
}

// ---- What every backend accepts -----------------------------------------------------------------

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
const TEXT_LIMITS = {costSource: 100, finishReason: 50, model: 200, provider: 100} as const

/** The checks made before any write, so that bad input fails the same way on every backend. */
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
    checkUsage(message, 'A message')
  }
}

export function checkMessagePatch(patch: MessagePatch): void {
  if (patch.status !== undefined) checkStatus(patch.status)
  if (patch.content !== undefined && typeof patch.content !== 'string') throw new InvalidInputError('A message needs text content.')
  checkUsage(patch, 'A message')
}

/**
 * Usage values every backend can hold: a token source synapse knows, a cost that is a finite amount
 * ≥ 0 (null when unknown), cached tokens a whole number. Checked on every write path alike.
 */
function checkUsage(
  fields: {cachedInputTokens?: null | number; costSource?: null | string; costUsd?: null | number; tokenSource?: null | TokenSource},
  what: string,
): void {
  const {cachedInputTokens, costSource, costUsd, tokenSource} = fields
  if (tokenSource !== undefined && tokenSource !== null && !TOKEN_SOURCES.includes(tokenSource)) {
    throw new InvalidInputError(`"${String(tokenSource)}" is not a token source; use one of ${TOKEN_SOURCES.join(', ')}, or null.`)
  }
  if (costUsd !== undefined && costUsd !== null && !(typeof costUsd === 'number' && Number.isFinite(costUsd) && costUsd >= 0)) {
    throw new InvalidInputError(`${what} has costUsd ${String(costUsd)}; a cost is an amount ≥ 0 in US dollars, or null when unknown.`)
  }
  if (costSource !== undefined && costSource !== null && typeof costSource !== 'string')
    throw new InvalidInputError(`${what} has a costSource that is not text.`)
  if (
    cachedInputTokens !== undefined &&
    cachedInputTokens !== null &&
    !(Number.isInteger(cachedInputTokens) && cachedInputTokens >= 0 && cachedInputTokens <= MAX_STORED_INTEGER)
  ) {
    throw new InvalidInputError(
      `${what} has cachedInputTokens ${cachedInputTokens}; it must be a whole number from 0 to ${MAX_STORED_INTEGER.toLocaleString('en-US')}, or null.`,
    )
  }
}

function checkStatus(status: string): void {
  if (!MESSAGE_STATUSES.includes(status as never)) {
    throw new InvalidInputError(`"${status}" is not a message status; use one of ${MESSAGE_STATUSES.join(', ')}.`)
  }
}

/** A canonical ULID: what every method that takes a full id accepts, and what a snapshot's ids must be. */
export function isFullId(id: unknown): id is string {
  return typeof id === 'string' && id.length === ID_LENGTH && normalizeIdPrefix(id) === id
}

/** What `restore` accepts: a well-formed snapshot (`checkSnapshotShape`) of values every backend can hold. */
export function checkSnapshot(snapshot: SessionSnapshot): void {
  checkSnapshotShape(snapshot)
  const {messages, session} = snapshot
  checkText(session, ['title', 'provider', 'model', 'systemPrompt'], `Session ${session.id}`)
  checkParent(session)
  for (const message of messages) {
    if (message.position > MAX_RESTORED_POSITION) {
      throw new InvalidInputError(
        `Message ${message.id} has position ${message.position}; positions go from 0 to ${MAX_RESTORED_POSITION.toLocaleString('en-US')}.`,
      )
    }
    for (const field of ['inputTokens', 'outputTokens', 'durationMs'] as const) {
      const value = message[field]
      if (value !== null && value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= MAX_STORED_INTEGER)) {
        throw new InvalidInputError(
          `Message ${message.id} has ${field} ${value}; it must be a whole number from 0 to ${MAX_STORED_INTEGER.toLocaleString('en-US')}, or null.`,
        )
      }
    }
    checkText(message, ['content', 'provider', 'model', 'finishReason', 'costSource'], `Message ${message.id}`)
  }
}

/**
 * What any stored session is: well-formed ids (no path tricks reach any backend), known roles and
 * statuses, valid timestamps, strictly increasing positions. What a session file is checked for.
 */
export function checkSnapshotShape(snapshot: SessionSnapshot): void {
  const {messages, session} = snapshot
  const checkId = (id: unknown, what: string) => {
    if (!isFullId(id)) {
      throw new InvalidInputError(`${what} id ${JSON.stringify(id)} is not a ULID (26 characters of Crockford base32, upper case).`)
    }
  }
  checkId(session?.id, 'The session')
  for (const date of [session.createdAt, session.updatedAt]) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new InvalidInputError(`Session ${session.id} has an invalid timestamp.`)
  }
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
    previous = message.position
    if (!(message.createdAt instanceof Date) || Number.isNaN(message.createdAt.getTime()))
      throw new InvalidInputError(`Message ${message.id} has an invalid timestamp.`)
    if (message.hiddenAt !== null && !(message.hiddenAt instanceof Date && !Number.isNaN(message.hiddenAt.getTime())))
      throw new InvalidInputError(`Message ${message.id} has an invalid hiddenAt; it is a timestamp or null.`)
    if (message.supersededBy !== null && (message.hiddenAt === null || !isFullId(message.supersededBy)))
      throw new InvalidInputError(`Message ${message.id} has a supersededBy that is not the id of a message replacing a hidden one.`)
  }
}

/** A fork names its parent by full id and a position (null: the parent had no messages); neither for other sessions. */
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
