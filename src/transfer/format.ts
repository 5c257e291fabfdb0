import {SynapseError} from '../core/errors.js'
import type {Message, Metadata, SessionSnapshot} from '../store/session-store.js'

export type ExportFormat = 'json' | 'jsonl' | 'markdown'
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'jsonl', 'markdown']
/**
 * 2: messages carry `replyTo`. Version 1 files are still read (see `parseExport`). A session's `kept`
 * needed no new version: absent (any file written before it existed) reads as not kept, and a reader
 * that predates it ignores it. Nor did a fork's `parentId` and `parentPosition`, for the same reasons,
 * and because they are written only for a fork: the export of any other session is byte for byte
 * what it was, and an older synapse imports a fork as a session of its own.
 */
export const FORMAT_VERSION = 2
const READABLE_VERSIONS: readonly number[] = [1, FORMAT_VERSION]

/** A message as exported: every stored field, timestamps as ISO-8601 with milliseconds. */
export interface ExportedMessage {
  content: string
  createdAt: string
  durationMs: null | number
  finishReason: null | string
  id: string
  inputTokens: null | number
  metadata: Metadata
  model: null | string
  outputTokens: null | number
  position: number
  provider: null | string
  /** The id of the question a reply answers; null for questions. */
  replyTo: null | string
  role: Message['role']
  status: Message['status']
}

export interface ExportedSession {
  createdAt: string
  id: string
  /** Kept from retention. Exports written before it existed have no such key: not kept. */
  kept: boolean
  messages: ExportedMessage[]
  metadata: Metadata
  model: null | string
  /** A fork's parent (see Session.parentId): present only for a fork. */
  parentId?: string
  /** Present with parentId, possibly null (the parent had no messages). */
  parentPosition?: null | number
  provider: null | string
  systemPrompt: null | string
  title: null | string
  updatedAt: string
}

/** `--format json`: one document. */
export interface ExportDocument {
  format: 'synapse-sessions'
  sessions: ExportedSession[]
  version: number
}

/**
 * The exported form of a session. Keys are written in a fixed order and nothing depends on when
 * the export ran, so exporting the same sessions from any backend gives the same bytes.
 */
export function exportedSession({messages, session}: SessionSnapshot): ExportedSession {
  return {
    createdAt: session.createdAt.toISOString(),
    id: session.id,
    kept: session.kept === true,
    messages: messages.map(m => ({
      content: m.content,
      createdAt: m.createdAt.toISOString(),
      durationMs: m.durationMs,
      finishReason: m.finishReason,
      id: m.id,
      inputTokens: m.inputTokens,
      metadata: m.metadata,
      model: m.model,
      outputTokens: m.outputTokens,
      position: m.position,
      provider: m.provider,
      replyTo: m.replyTo,
      role: m.role,
      status: m.status,
    })),
    metadata: session.metadata,
    model: session.model,
    ...(session.parentId === null ? {} : {parentId: session.parentId, parentPosition: session.parentPosition}),
    provider: session.provider,
    systemPrompt: session.systemPrompt,
    title: session.title,
    updatedAt: session.updatedAt.toISOString(),
  }
}

export function serialize(snapshots: SessionSnapshot[], format: ExportFormat): string {
  const sessions = snapshots.map(s => exportedSession(s))
  if (format === 'json') return `${JSON.stringify({format: 'synapse-sessions', sessions, version: FORMAT_VERSION} satisfies ExportDocument, null, 2)}\n`
  if (format === 'jsonl') return sessions.map(s => `${JSON.stringify({version: FORMAT_VERSION, ...s})}\n`).join('')
  return sessions.map(s => markdown(s)).join('\n---\n\n')
}

function markdown(session: ExportedSession): string {
  const heading =
    session.title ??
    session.messages
      .find(m => m.role === 'user')
      ?.content.split('\n')[0]
      .slice(0, 80) ??
    'Untitled session'
  const facts = [`id \`${session.id}\``, `created ${session.createdAt}`, `updated ${session.updatedAt}`]
  if (session.model) facts.splice(1, 0, `model ${session.provider ? `${session.provider}/` : ''}${session.model}`)
  const lines = [`# ${heading}`, '', facts.join(' · '), '']
  if (session.systemPrompt) lines.push(`> **system:** ${session.systemPrompt.replaceAll('\n', '\n> ')}`, '')
  const meta = Object.entries(session.metadata)
  if (meta.length > 0) lines.push(meta.map(([k, v]) => `- **${k}:** ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n'), '')
  const numberOf = new Map(session.messages.map((m, i) => [m.id, i + 1]))
  session.messages.forEach((m, i) => {
    // A reply that does not follow its question (two processes wrote into the session) says which it answers.
    const answers =
      m.replyTo !== null && session.messages[i - 1]?.id !== m.replyTo && numberOf.has(m.replyTo) ? `reply to message ${numberOf.get(m.replyTo)}` : undefined
    const status = m.status === 'complete' ? undefined : m.status === 'pending' ? 'unanswered' : m.status
    const details = [m.role, m.model, status, answers, m.createdAt].filter(Boolean).join(' · ')
    lines.push(`## ${details}`, '', m.content, '')
  })
  return `${lines.join('\n').trimEnd()}\n`
}

/**
 * Reads an export (json or jsonl, told apart by content) back into snapshots, checking every field
 * so that a bad file fails here, before anything is written, with where it went wrong.
 */
export function parseExport(text: string, source: string): SessionSnapshot[] {
  const trimmed = text.trim()
  if (trimmed === '') throw invalid(source, 'is empty')
  let whole: unknown
  try {
    whole = JSON.parse(trimmed)
  } catch {
    // Not one JSON document: one session per line.
  }
  // A jsonl export of one session is also one JSON document: that of a session, not of an export.
  const oneSession = typeof whole === 'object' && whole !== null && 'id' in whole && !('format' in whole)
  if (whole !== undefined && !oneSession) {
    const document = whole as Partial<ExportDocument>
    if (document.format !== 'synapse-sessions' || !Array.isArray(document.sessions)) {
      throw invalid(source, 'is JSON but not a synapse export (expected {"format": "synapse-sessions", "sessions": [...]})')
    }
    const version = checkVersion(document.version, source)
    return document.sessions.map((s, i) => toSnapshot(s, `${source}: session ${i + 1}`, version))
  }
  return trimmed.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return []
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch (error) {
      throw invalid(`${source} line ${i + 1}`, `is not JSON (${(error as Error).message})`)
    }
    const version = checkVersion((parsed as {version?: unknown}).version, `${source} line ${i + 1}`)
    return [toSnapshot(parsed, `${source} line ${i + 1}`, version)]
  })
}

function checkVersion(version: unknown, where: string): number {
  if (typeof version !== 'number' || !READABLE_VERSIONS.includes(version)) {
    throw invalid(where, `has format version ${JSON.stringify(version)}; this synapse reads versions ${READABLE_VERSIONS.join(' and ')}`)
  }

  return version
}

function toSnapshot(value: unknown, where: string, version: number): SessionSnapshot {
  const s = object(value, where, 'a session')
  const id = string(s.id, where, 'id')
  const messages = array(s.messages, where, 'messages').map((raw, i) => {
    const at = `${where}, message ${i + 1}`
    const m = object(raw, at, 'a message')
    return {
      content: string(m.content, at, 'content'),
      createdAt: date(m.createdAt, at, 'createdAt'),
      durationMs: nullableNumber(m.durationMs, at, 'durationMs'),
      finishReason: nullableString(m.finishReason, at, 'finishReason'),
      id: string(m.id, at, 'id'),
      inputTokens: nullableNumber(m.inputTokens, at, 'inputTokens'),
      metadata: metadata(m.metadata, at),
      model: nullableString(m.model, at, 'model'),
      outputTokens: nullableNumber(m.outputTokens, at, 'outputTokens'),
      position: number(m.position, at, 'position'),
      provider: nullableString(m.provider, at, 'provider'),
      replyTo: version === 1 ? null : nullableString(m.replyTo, at, 'replyTo'),
      role: string(m.role, at, 'role') as Message['role'],
      sessionId: id,
      status: string(m.status, at, 'status') as Message['status'],
    }
  })
  // Version 1 predates replyTo; one process wrote each turn then, so a reply answered the question before it.
  if (version === 1) {
    let question: null | string = null
    for (const message of messages) {
      if (message.role === 'user') question = message.id
      else if (message.role === 'assistant') message.replyTo = question
    }
  }

  return {
    messages,
    session: {
      createdAt: date(s.createdAt, where, 'createdAt'),
      id,
      kept: boolean(s.kept, where, 'kept'),
      metadata: metadata(s.metadata, where),
      model: nullableString(s.model, where, 'model'),
      // Absent for sessions that are no forks; checked as a ULID and a position by the store's restore.
      parentId: nullableString(s.parentId, where, 'parentId'),
      parentPosition: nullableNumber(s.parentPosition, where, 'parentPosition'),
      provider: nullableString(s.provider, where, 'provider'),
      systemPrompt: nullableString(s.systemPrompt, where, 'systemPrompt'),
      title: nullableString(s.title, where, 'title'),
      updatedAt: date(s.updatedAt, where, 'updatedAt'),
    },
  }
}

function invalid(where: string, problem: string): SynapseError {
  return new SynapseError('INVALID_INPUT', `${where} ${problem}.`, {
    exitCode: 1,
    suggestions: ['Import reads what "synapse sessions export --format json|jsonl" writes; nothing was imported.'],
  })
}

function object(value: unknown, where: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(where, `is not ${what} object`)
  return value as Record<string, unknown>
}

function array(value: unknown, where: string, key: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(where, `has no "${key}" list`)
  return value
}

function string(value: unknown, where: string, key: string): string {
  if (typeof value !== 'string') throw invalid(where, `has no text "${key}"`)
  return value
}

function nullableString(value: unknown, where: string, key: string): null | string {
  if (value === null || value === undefined) return null
  return string(value, where, key)
}

function number(value: unknown, where: string, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(where, `has no number "${key}"`)
  return value
}

function nullableNumber(value: unknown, where: string, key: string): null | number {
  if (value === null || value === undefined) return null
  return number(value, where, key)
}

function date(value: unknown, where: string, key: string): Date {
  const parsed = new Date(string(value, where, key))
  if (Number.isNaN(parsed.getTime())) throw invalid(where, `has an invalid date in "${key}"`)
  return parsed
}

/** An absent flag is false: exports from before the flag existed still import. */
function boolean(value: unknown, where: string, key: string): boolean {
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') throw invalid(where, `has "${key}" that is neither true nor false`)
  return value
}

function metadata(value: unknown, where: string): Metadata {
  if (value === undefined || value === null) return {}
  return object(value, where, 'a metadata') as Metadata
}
