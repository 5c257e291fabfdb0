import {SynapseError} from '../core/errors.js'
import {decodeSnapshot, type EncodedSession, encodeSnapshot, FORMAT_VERSION, READABLE_VERSIONS, READABLE_VERSIONS_TEXT} from '../store/record-codec.js'
import type {SessionSnapshot} from '../store/session-store.js'

export type ExportFormat = 'json' | 'jsonl' | 'markdown'
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'jsonl', 'markdown']
/** `--format json`: one document. */
export interface ExportDocument {
  format: 'synapse-sessions'
  sessions: EncodedSession[]
  version: number
}

export function serialize(snapshots: SessionSnapshot[], format: ExportFormat): string {
  const sessions = snapshots.map(s => encodeSnapshot(s))
  if (format === 'json') return `${JSON.stringify({format: 'synapse-sessions', sessions, version: FORMAT_VERSION} satisfies ExportDocument, null, 2)}\n`
  if (format === 'jsonl') return sessions.map(s => `${JSON.stringify({version: FORMAT_VERSION, ...s})}\n`).join('')
  return sessions.map(s => markdown(s)).join('\n---\n\n')
}

function markdown(session: EncodedSession): string {
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
    throw invalid(where, `has format version ${JSON.stringify(version)}; this synapse reads versions ${READABLE_VERSIONS_TEXT}`)
  }
  return version
}

function toSnapshot(value: unknown, where: string, version: number): SessionSnapshot {
  return decodeSnapshot(value, version, (path, problem) => invalid([where, ...path].join(', '), problem))
}

function invalid(where: string, problem: string): SynapseError {
  return new SynapseError('INVALID_INPUT', `${where} ${problem}.`, {
    exitCode: 1,
    suggestions: ['Import reads what "synapse sessions export --format json|jsonl" writes; nothing was imported.'],
  })
}
