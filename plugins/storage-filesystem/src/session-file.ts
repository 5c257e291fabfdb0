import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

import {
  syncDirectory,
  writeFileAtomic as atomicWrite,
  writeTemporary as temporaryWrite,
  type Message,
  MESSAGE_ROLES,
  MESSAGE_STATUSES,
  type MessageRole,
  type MessageStatus,
  type Metadata,
  type Session,
  StorageUnavailableError,
} from 'synapse-cli'

import {describeFsError} from './fs-errors.js'

export {syncDirectory}

/**
 * The file format, version 1: `<dir>/<session id>.json`, pretty-printed UTF-8 JSON
 * `{"version": 1, "session": {...}, "messages": [...]}`, timestamps as ISO 8601 strings, messages in
 * ascending position. `session.kept: true` marks a session kept from retention; absent means not kept.
 * `session.parentId` and `session.parentPosition` mark a fork; absent means not one. A message's
 * sessionId is the file's and is not repeated in it.
 */
export const FORMAT_VERSION = 1

/**
 * A canonical ULID and nothing else: the only strings this package ever joins into a path. Checked
 * here rather than trusted from the core, because this check is what keeps `../`, absolute paths,
 * NUL and percent-escapes out of the directory.
 */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/
export const SESSION_FILE = /^([0-9A-HJKMNP-TV-Z]{26})\.json$/

/** Leftovers of writes and deletes cut short by a crash: `.<name>.<pid>.<random>.tmp` and `.deleted`. */
export const LEFTOVER_FILE = /^\..+\.[0-9a-f]{12}\.(deleted|tmp)$/

/**
 * The commit record of a write of several session files (`.batch.<random>.journal`): once it exists,
 * the batch is decided, and a writer that finds it (its author crashed) finishes the renames it lists.
 */
export const JOURNAL_FILE = /^\.batch\.[0-9a-f]{12}\.journal$/

export function journalNameOf(): string {
  return `.batch.${randomBytes(6).toString('hex')}.journal`
}

export function isUlid(value: unknown): value is string {
  return typeof value === 'string' && ULID.test(value)
}

export function fileNameOf(sessionId: string): string {
  if (!isUlid(sessionId)) throw new Error(`refusing to build a path from ${JSON.stringify(sessionId)}`)
  return `${sessionId}.json`
}

export interface SessionFile {
  messages: Message[]
  session: Session
}

export function encodeSessionFile(file: SessionFile): string {
  return `${JSON.stringify({version: FORMAT_VERSION, session: encodeSession(file.session), messages: file.messages.map(m => encodeMessage(m))}, null, 2)}\n`
}

/** Keys in the order a person reading the file wants them; content last, as it may be long. */
export function encodeSession(session: Session): Record<string, unknown> {
  return {
    id: session.id,
    title: session.title,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
    provider: session.provider,
    model: session.model,
    systemPrompt: session.systemPrompt,
    metadata: session.metadata,
    // Only when set: the files of sessions nobody kept read as they did before the field existed.
    ...(session.kept ? {kept: true} : {}),
    // Likewise only for a fork, so that the files of other sessions are unchanged.
    ...(session.parentId === null ? {} : {parentId: session.parentId, parentPosition: session.parentPosition}),
  }
}

function encodeMessage(message: Message): Record<string, unknown> {
  return {
    id: message.id,
    position: message.position,
    role: message.role,
    status: message.status,
    createdAt: message.createdAt.toISOString(),
    provider: message.provider,
    model: message.model,
    finishReason: message.finishReason,
    inputTokens: message.inputTokens,
    outputTokens: message.outputTokens,
    durationMs: message.durationMs,
    replyTo: message.replyTo,
    metadata: message.metadata,
    content: message.content,
  }
}

/**
 * Reads a session file back. Files may have been edited by hand, so every field is checked; optional
 * ones (nullable fields, metadata, status) may be left out. Anything wrong names the file and field.
 */
export function decodeSessionFile(text: string, path: string, sessionId: string): SessionFile {
  const fail = (reason: string) =>
    new StorageUnavailableError(`The session file ${path} cannot be read: ${reason}.`, {
      suggestions: ['Correct the file by hand, or move it out of the session directory (it holds one session).'],
    })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw fail(`it is not valid JSON (${(error as Error).message})`)
  }
  const root = value as {messages?: unknown; session?: unknown; version?: unknown}
  if (!isObject(root)) throw fail('it is not a JSON object')
  if (root.version !== FORMAT_VERSION) throw fail(`its format version is ${JSON.stringify(root.version)}, and this synapse reads version ${FORMAT_VERSION}`)
  const session = decodeSession(root.session, fail)
  if (session.id !== sessionId) throw fail(`it holds session ${session.id}, but its name says ${sessionId}`)
  if (!Array.isArray(root.messages)) throw fail('"messages" is not an array')
  let previous = -1
  const messages = root.messages.map((raw, index) => {
    const message = decodeMessage(raw, sessionId, reason => fail(`message ${index}: ${reason}`))
    if (message.position <= previous) throw fail(`message ${index}: position ${message.position} does not follow ${previous}`)
    previous = message.position
    return message
  })
  return {messages, session}
}

type Fail = (reason: string) => Error

export function decodeSession(raw: unknown, fail: Fail): Session {
  if (!isObject(raw)) throw fail('"session" is not an object')
  if (!isUlid(raw.id)) throw fail(`session id ${JSON.stringify(raw.id)} is not a ULID`)
  return {
    createdAt: dateOf(raw.createdAt, 'createdAt', fail),
    id: raw.id,
    kept: keptOf(raw.kept, fail),
    metadata: metadataOf(raw.metadata, fail),
    model: nullableString(raw.model, 'model', fail),
    // Absent in files of sessions that are not forks, and in every file written before forks existed.
    parentId: parentIdOf(raw.parentId, fail),
    parentPosition: nullableNumber(raw.parentPosition, 'parentPosition', fail),
    provider: nullableString(raw.provider, 'provider', fail),
    systemPrompt: nullableString(raw.systemPrompt, 'systemPrompt', fail),
    title: nullableString(raw.title, 'title', fail),
    updatedAt: dateOf(raw.updatedAt, 'updatedAt', fail),
  }
}

function decodeMessage(raw: unknown, sessionId: string, fail: Fail): Message {
  if (!isObject(raw)) throw fail('not an object')
  if (!isUlid(raw.id)) throw fail(`id ${JSON.stringify(raw.id)} is not a ULID`)
  if (!Number.isInteger(raw.position) || (raw.position as number) < 0) throw fail('"position" is not a whole number ≥ 0')
  if (!MESSAGE_ROLES.includes(raw.role as MessageRole)) throw fail(`"${String(raw.role)}" is not a message role`)
  const status = raw.status ?? 'complete'
  if (!MESSAGE_STATUSES.includes(status as MessageStatus)) throw fail(`"${String(status)}" is not a message status`)
  if (typeof raw.content !== 'string') throw fail('"content" is not a string')
  return {
    content: raw.content,
    createdAt: dateOf(raw.createdAt, 'createdAt', fail),
    durationMs: nullableNumber(raw.durationMs, 'durationMs', fail),
    finishReason: nullableString(raw.finishReason, 'finishReason', fail),
    id: raw.id,
    inputTokens: nullableNumber(raw.inputTokens, 'inputTokens', fail),
    metadata: metadataOf(raw.metadata, fail),
    model: nullableString(raw.model, 'model', fail),
    outputTokens: nullableNumber(raw.outputTokens, 'outputTokens', fail),
    position: raw.position as number,
    provider: nullableString(raw.provider, 'provider', fail),
    // Absent in files written before replies recorded their question.
    replyTo: nullableString(raw.replyTo, 'replyTo', fail),
    role: raw.role as MessageRole,
    sessionId,
    status: status as MessageStatus,
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function dateOf(value: unknown, field: string, fail: Fail): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined
  if (!date || Number.isNaN(date.getTime())) throw fail(`"${field}" is not an ISO 8601 timestamp`)
  return date
}

function nullableString(value: unknown, field: string, fail: Fail): null | string {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') throw fail(`"${field}" is neither a string nor null`)
  return value
}

function nullableNumber(value: unknown, field: string, fail: Fail): null | number {
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fail(`"${field}" is neither a number nor null`)
  return value
}

function parentIdOf(value: unknown, fail: Fail): null | string {
  if (value === undefined || value === null) return null
  if (!isUlid(value)) throw fail(`"parentId" ${JSON.stringify(value)} is not a ULID`)
  return value
}

/** Absent in files written before sessions could be kept: not kept. */
function keptOf(value: unknown, fail: Fail): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw fail('"kept" is neither true nor false')
  return value
}

function metadataOf(value: unknown, fail: Fail): Metadata {
  if (value === undefined) return {}
  if (!isObject(value)) throw fail('"metadata" is not an object')
  return value
}

/** Replaces `dir/name` whole (the core's atomic write: 0600 temporary, fsync, rename, directory fsync). */
export async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  try {
    await atomicWrite(join(dir, name), text)
  } catch (error) {
    throw describeFsError(error, join(dir, name))
  }
}

/** A fsynced private temporary file beside `dir/name`, for a batch to rename later; the error names `dir/name`. */
export async function writeTemporary(dir: string, name: string, text: string): Promise<string> {
  try {
    return await temporaryWrite(join(dir, name), text)
  } catch (error) {
    throw describeFsError(error, join(dir, name))
  }
}

/** A name for a file being deleted, so a batch of deletions can be undone until it is complete. */
export function trashNameOf(name: string): string {
  return `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.deleted`
}
