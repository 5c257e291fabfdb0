/**
 * Import from simonw/llm: its logs database (what `llm logs path` names) read as synapse sessions.
 * llm's schema is the one its migrations build (llm/migrations.py): `conversations` (id, name, model)
 * and `responses` (one prompt and its reply each) since m010, tokens since m013, schemas m014,
 * fragments m015, tools m017, resolved models m019, parts m022. Older and newer databases are read
 * by the columns and tables they have; what synapse cannot hold is reported, never silently lost.
 */
import {createHash} from 'node:crypto'
import {closeSync, existsSync, openSync, readFileSync, readSync} from 'node:fs'
import {homedir} from 'node:os'
import {join, resolve, win32} from 'node:path'

import {describePathFailure, SynapseError} from '../core/errors.js'
import {ID_LENGTH, normalizeIdPrefix} from '../core/ids.js'
import {MAX_STORED_INTEGER} from '../store/record-codec.js'
import type {Message, Session, SessionSnapshot, SessionStore} from '../store/session-store.js'
import {NO_USAGE} from '../store/usage-fields.js'
import {importSnapshots, type ImportReport, sessionExists} from './transfer.js'

/** llm's own name for its directory: `click.get_app_dir("io.datasette.llm")`. */
const LLM_APP_NAME = 'io.datasette.llm'

/** The last migration of llm's schema this reader was written against (llm/migrations.py). */
const KNOWN_MIGRATIONS = new Set([
  'm001_initial',
  'm002_id_primary_key',
  'm003_chat_id_foreign_key',
  'm004_column_order',
  'm004_drop_provider',
  'm005_debug',
  'm006_new_logs_table',
  'm007_finish_logs_table',
  'm008_reply_to_id_foreign_key',
  'm008_fix_column_order_in_logs',
  'm009_delete_logs_table_if_empty',
  'm010_create_new_log_tables',
  'm011_fts_for_responses',
  'm012_attachments_tables',
  'm013_usage',
  'm014_schemas',
  'm015_fragments_tables',
  'm016_fragments_table_pks',
  'm017_tools_tables',
  'm017_tools_plugin',
  'm018_tool_instances',
  'm019_resolved_model',
  'm020_tool_results_attachments',
  'm021_tool_results_exception',
  'm022_parts_table',
])

/** The columns of `responses` every llm since 0.5 (m010) has written; the rest are optional. */
const REQUIRED_RESPONSE_COLUMNS = ['id', 'prompt', 'response', 'datetime_utc'] as const

/** How long a read waits for llm to finish a write before giving up. */
const BUSY_TIMEOUT_MS = 1000

/**
 * llm's user directory, as llm's `user_dir()` finds it: `$LLM_USER_PATH`, else click's app dir for
 * "io.datasette.llm" (Linux and other Unixes: `$XDG_CONFIG_HOME` or ~/.config; macOS: ~/Library/
 * Application Support; Windows: %APPDATA%, else the home directory).
 */
export function llmUserDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.LLM_USER_PATH) return env.LLM_USER_PATH
  const home = (platform === 'win32' ? env.USERPROFILE : env.HOME) || homedir()
  if (platform === 'win32') return win32.join(env.APPDATA || home, LLM_APP_NAME)
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', LLM_APP_NAME)
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), LLM_APP_NAME)
}

/** llm's `logs_db_path()`: logs.db in its user directory. */
export function llmLogsPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? win32.join(llmUserDir(env, platform), 'logs.db') : join(llmUserDir(env, platform), 'logs.db')
}

export type LlmSkipKind =
  | 'attachment'
  | 'fragment'
  | 'legacy-log'
  | 'options'
  | 'reasoning'
  | 'schema'
  | 'system-fragment'
  | 'token-details'
  | 'tool-call'
  | 'tool-result'

/** Something in llm's database that synapse has no place for, counted, with why. */
export interface LlmSkipped {
  /** Rows of that kind. */
  count: number
  kind: LlmSkipKind
  reason: string
  /** The llm response ids they belonged to, each once, in the database's order (empty for legacy-log). */
  responses: string[]
}

/** What was read from an llm database, before anything is written. */
export interface LlmReading {
  /** Things worth knowing that lose nothing: a system prompt that changes, a newer llm. */
  notes: string[]
  path: string
  /** llm responses read (each became a question and its reply). */
  responses: number
  skipped: LlmSkipped[]
  /** One per llm conversation, oldest first. */
  snapshots: SessionSnapshot[]
}

interface ResponseRow {
  conversation_id: null | string
  datetime_utc: null | string
  duration_ms: unknown
  id: string
  input_tokens: unknown
  model: null | string
  options_json: null | string
  output_tokens: unknown
  prompt: null | string
  resolved_model: null | string
  response: null | string
  response_json: null | string
  rowid: number
  schema_id: null | string
  system: null | string
  token_details: null | string
}

interface ConversationRow {
  id: string
  model: null | string
  name: null | string
}

type Database = import('better-sqlite3').Database

/**
 * Reads an llm logs database without changing it: opened read-only (no journal, -wal or -shm is made
 * beside it), every table read in one read transaction so that llm writing meanwhile is seen whole or
 * not at all. Bad input (no file, not a database, locked, not llm's schema) is one SynapseError.
 */
export async function readLlmDatabase(file: string): Promise<LlmReading> {
  const path = resolve(file)
  const {default: Sqlite} = await import('better-sqlite3')
  let db: Database | undefined
  try {
    db = openReadOnly(Sqlite, path)
    db.exec('BEGIN')
    try {
      return readAll(db, path)
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK')
    }
  } catch (error) {
    throw describeLlmFailure(error, path)
  } finally {
    db?.close()
  }
}

function openReadOnly(Sqlite: typeof import('better-sqlite3'), path: string): Database {
  if (!existsSync(path)) throw Object.assign(new Error('no such file'), {code: 'ENOENT'})
  // A WAL database at rest has no -wal file; opening it read-only would still make -wal and -shm
  // beside it. Its bytes alone are then the whole database: read them into memory instead.
  const header = readHeader(path)
  if (header && header[18] === 2 && !existsSync(`${path}-wal`)) {
    const image = readFileSync(path)
    image[18] = image[19] = 1
    return new Sqlite(image, {readonly: true})
  }
  return new Sqlite(path, {fileMustExist: true, readonly: true, timeout: BUSY_TIMEOUT_MS})
}

function readHeader(path: string): Buffer | undefined {
  const bytes = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  try {
    if (readSync(fd, bytes, 0, 100, 0) < 100) return undefined
  } finally {
    closeSync(fd)
  }
  return bytes.length === 100 && bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\u0000' ? bytes : undefined
}

function describeLlmFailure(error: unknown, path: string): unknown {
  if (error instanceof SynapseError) return error
  const code = (error as {code?: string}).code ?? ''
  const remedy = 'Pass the path of llm\'s database ("llm logs path" prints it), or set LLM_USER_PATH to its directory.'
  if (code === 'ENOENT') return new SynapseError('INVALID_INPUT', `There is no llm database at ${path}; nothing was imported.`, {suggestions: [remedy]})
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new SynapseError('STORAGE_BUSY', `llm's database ${path} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s; nothing was imported.`, {
      cause: error,
      suggestions: ['Try again once llm has finished writing (a running "llm chat" holds no lock between prompts).'],
    })
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new SynapseError('INVALID_INPUT', `${path} is not an SQLite database, so not llm's logs.db (${code}); nothing was imported.`, {
      cause: error,
      suggestions: [remedy],
    })
  }
  if (code.startsWith('SQLITE_')) {
    return new SynapseError('INVALID_INPUT', `${path} cannot be read as llm's database (${code}: ${(error as Error).message}); nothing was imported.`, {
      cause: error,
      suggestions: [remedy],
    })
  }
  if (typeof code === 'string' && code.startsWith('E'))
    return new SynapseError('INVALID_INPUT', `${describePathFailure(error, path, 'read')} Nothing was imported.`, {cause: error, suggestions: [remedy]})
  return error
}

function unknownSchema(path: string, problem: string): SynapseError {
  return new SynapseError('INVALID_INPUT', `${path} is an SQLite database but not in a schema of llm's that synapse knows: ${problem}; nothing was imported.`, {
    suggestions: ['Point at the logs.db that "llm logs path" prints; synapse reads what llm 0.5 and later write.'],
  })
}

function readAll(db: Database, path: string): LlmReading {
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").all() as Array<{name: string}>).map(t => t.name))
  if (!tables.has('responses')) {
    const legacy = tables.has('logs') || tables.has('log')
    throw unknownSchema(path, legacy ? 'it has only the "logs" table of llm before 0.5, no "responses" table' : 'it has no "responses" table')
  }
  const columns = columnsOf(db, 'responses')
  const missing = REQUIRED_RESPONSE_COLUMNS.filter(c => !columns.has(c))
  if (missing.length > 0) throw unknownSchema(path, `its "responses" table has no ${missing.map(c => `"${c}"`).join(', ')} column`)

  const notes: string[] = []
  if (tables.has('_llm_migrations')) {
    const newer = (db.prepare('SELECT name FROM _llm_migrations').all() as Array<{name: string}>).map(r => r.name).filter(n => !KNOWN_MIGRATIONS.has(n))
    if (newer.length > 0)
      notes.push(`The database was migrated by an llm newer than this synapse knows (${newer.join(', ')}); what synapse recognises was imported.`)
  }

  const optional = (column: string, as = column) => (columns.has(column) ? `"${column}" AS ${as}` : `NULL AS ${as}`)
  const responses = db
    .prepare(
      `SELECT rowid AS rowid, id, prompt, response, datetime_utc, ${['model', 'system', 'conversation_id', 'duration_ms', 'options_json', 'response_json', 'input_tokens', 'output_tokens', 'token_details', 'schema_id', 'resolved_model'].map(c => optional(c)).join(', ')} FROM responses ORDER BY rowid`,
    )
    .all() as ResponseRow[]
  const conversations = new Map<string, ConversationRow>()
  if (tables.has('conversations')) {
    const conversationColumns = columnsOf(db, 'conversations')
    const pick = (c: string) => (conversationColumns.has(c) ? `"${c}" AS ${c}` : `NULL AS ${c}`)
    for (const row of db.prepare(`SELECT id, ${pick('name')}, ${pick('model')} FROM conversations`).all() as ConversationRow[])
      conversations.set(String(row.id), row)
  }

  const skipped = collectSkipped(db, tables, responses)
  const snapshots = toSnapshots(responses, conversations, notes)
  return {notes, path, responses: responses.length, skipped, snapshots}
}

function columnsOf(db: Database, table: string): Set<string> {
  return new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{name: string}>).map(c => c.name))
}

/** Rows of the tables (and JSON columns) synapse has nowhere to put, by kind. */
function collectSkipped(db: Database, tables: Set<string>, responses: ResponseRow[]): LlmSkipped[] {
  const skipped: LlmSkipped[] = []
  const add = (kind: LlmSkipKind, reason: string, responseIds: string[]) => {
    if (responseIds.length > 0) skipped.push({count: responseIds.length, kind, reason, responses: [...new Set(responseIds)]})
  }
  const linked = (table: string, extra = '') => {
    if (!tables.has(table) || !columnsOf(db, table).has('response_id')) return []
    return (db.prepare(`SELECT response_id FROM "${table}" ${extra} ORDER BY rowid`).all() as Array<{response_id: string}>).map(r => String(r.response_id))
  }
  add('attachment', 'synapse keeps text only: images, files and URLs attached to prompts are not imported (the prompt text is)', linked('prompt_attachments'))
  add('fragment', 'fragments (-f files and URLs) are stored apart from the prompt in llm and are not imported; the prompt text is', linked('prompt_fragments'))
  add('system-fragment', 'system fragments (--sf) are not imported; the system prompt text is', linked('system_fragments'))
  add('tool-call', 'synapse has no tool calls: the calls a model asked for are not imported (its text reply is)', linked('tool_calls'))
  add('tool-result', 'the outputs of tools sent back to the model are not imported', linked('tool_results'))
  if (tables.has('parts') && columnsOf(db, 'parts').has('part_type'))
    add('reasoning', 'reasoning a model showed is not imported; its reply is', linked('parts', "WHERE part_type = 'reasoning'"))
  const withJson = (value: null | string) => value !== null && value.trim() !== '' && value.trim() !== '{}' && value.trim() !== 'null'
  add(
    'options',
    'model options (-o temperature and the like) are not kept per message in synapse',
    responses.filter(r => withJson(r.options_json)).map(r => r.id),
  )
  add(
    'token-details',
    'token details beyond input and output counts (cached, reasoning tokens) are not kept',
    responses.filter(r => withJson(r.token_details)).map(r => r.id),
  )
  add(
    'schema',
    'structured-output schemas (--schema) are not imported; the JSON reply is',
    responses.filter(r => r.schema_id !== null).map(r => r.id),
  )
  for (const legacy of ['logs', 'log']) {
    if (!tables.has(legacy)) continue
    const {count} = db.prepare(`SELECT count(*) AS count FROM "${legacy}"`).get() as {count: number}
    if (count > 0)
      skipped.push({
        count,
        kind: 'legacy-log',
        reason: `rows of llm's pre-0.5 "${legacy}" table, which llm itself no longer shows, are not imported`,
        responses: [],
      })
  }
  return skipped
}

function toSnapshots(responses: ResponseRow[], conversations: Map<string, ConversationRow>, notes: string[]): SessionSnapshot[] {
  // A response without a conversation (possible in llm's schema, never written by llm itself) is a session of its own.
  const groups = new Map<string, ResponseRow[]>()
  for (const row of responses) {
    const key = row.conversation_id === null ? `\u0000${row.id}` : String(row.conversation_id)
    const group = groups.get(key) ?? []
    group.push(row)
    groups.set(key, group)
  }
  const snapshots = [...groups.entries()].map(([key, rows]) => {
    const timed = rows.map(row => ({row, start: startOf(row)}))
    timed.sort((a, b) => a.start - b.start || a.row.rowid - b.row.rowid)
    return toSnapshot(key.startsWith('\u0000') ? null : key, timed, conversations, notes)
  })
  return snapshots.sort((a, b) => a.session.createdAt.getTime() - b.session.createdAt.getTime() || (a.session.id < b.session.id ? -1 : 1))
}

function toSnapshot(
  conversationId: null | string,
  rows: Array<{row: ResponseRow; start: number}>,
  conversations: Map<string, ConversationRow>,
  notes: string[],
): SessionSnapshot {
  const first = rows[0]
  const conversation = conversationId === null ? undefined : conversations.get(conversationId)
  const sessionId = ulidOf(conversationId ?? `response-without-conversation:${first.row.id}`, first.start, 'conversation')
  const llmConversation = conversationId ?? null
  const systemPrompt = text(first.row.system)
  let currentSystem = systemPrompt
  const messages: Message[] = []
  for (const {row, start} of rows) {
    const responseId = String(row.id)
    const llm: Record<string, unknown> = {conversationId: llmConversation, responseId}
    const system = text(row.system)
    // llm records the system prompt on the response that set it; a later one that differs changed it.
    if (system !== null && system !== currentSystem) {
      llm.system = system
      currentSystem = system
      notes.push(
        `llm conversation ${llmConversation ?? responseId} changes its system prompt at response ${responseId}; the new one is kept in that message's metadata (llm.system).`,
      )
    }
    const durationMs = storedInteger(row.duration_ms, 'duration_ms', responseId, notes)
    const questionId = ulidOf(responseId, start, 'response')
    const question: Message = {
      ...NO_USAGE,
      content: row.prompt ?? '',
      createdAt: new Date(start),
      durationMs: null,
      finishReason: null,
      id: questionId,
      inputTokens: null,
      metadata: {llm},
      model: null,
      outputTokens: null,
      position: messages.length,
      provider: null,
      replyTo: null,
      role: 'user',
      sessionId,
      status: 'complete',
    }
    messages.push(question)
    const repliedAt = start + (durationMs ?? 0)
    const replyLlm: Record<string, unknown> = {conversationId: llmConversation, responseId}
    if (text(row.resolved_model) !== null && row.resolved_model !== row.model) replyLlm.resolvedModel = row.resolved_model
    const inputTokens = storedInteger(row.input_tokens, 'input_tokens', responseId, notes)
    const outputTokens = storedInteger(row.output_tokens, 'output_tokens', responseId, notes)
    messages.push({
      ...NO_USAGE,
      content: row.response ?? '',
      createdAt: new Date(repliedAt),
      durationMs,
      finishReason: finishReasonOf(row.response_json),
      id: derivedId(repliedAt, `llm reply\u0000${responseId}`),
      inputTokens,
      metadata: {llm: replyLlm},
      model: text(row.model),
      outputTokens,
      // llm stores the counts its model plugins report; it counts none itself.
      tokenSource: inputTokens === null && outputTokens === null ? null : 'provider',
      position: messages.length,
      provider: null,
      replyTo: questionId,
      role: 'assistant',
      sessionId,
      status: 'complete',
    })
  }
  // Built apart from the snapshot literal: stores that have a `kept` flag (retention) get it unset,
  // and those that do not yet have one are not told about a field they lack.
  const session: Session = Object.assign(
    {
      createdAt: new Date(first.start),
      id: sessionId,
      metadata: {llm: {conversationId: llmConversation}},
      model: text(conversation?.model) ?? text(first.row.model),
      provider: null,
      systemPrompt,
      title: text(conversation?.name),
      updatedAt: messages.at(-1)!.createdAt,
    },
    {kept: false, parentId: null, parentPosition: null},
  )
  return {messages, session}
}

function text(value: unknown): null | string {
  if (value === null || value === undefined) return null
  const s = String(value)
  return s === '' ? null : s
}

/**
 * When a response started: llm's `datetime_utc`, UTC with microseconds and no zone ("2024-06-01T12:00:00.123456"),
 * written with a space or a zone by some versions; else the time in its ULID.
 */
function startOf(row: ResponseRow): number {
  const raw = row.datetime_utc === null ? '' : String(row.datetime_utc).trim()
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(raw)
  if (match) {
    const millis = (match[3] ?? '').padEnd(3, '0').slice(0, 3)
    const zone = match[4] === undefined || match[4] === 'Z' ? 'Z' : match[4]
    const parsed = Date.parse(`${match[1]}T${match[2]}.${millis}${zone}`)
    if (!Number.isNaN(parsed)) return parsed
  }
  const asUlid = normalizeIdPrefix(String(row.id))
  if (asUlid && asUlid.length === ID_LENGTH && asUlid[0] <= '7') return ulidTime(asUlid)
  throw new SynapseError(
    'INVALID_INPUT',
    `llm response ${String(row.id)} has no readable time (datetime_utc ${JSON.stringify(row.datetime_utc)}); nothing was imported.`,
    {
      suggestions: ['Correct that row in a copy of the database and import the copy.'],
    },
  )
}

/** A count or duration every backend can store, else null (and said so). */
function storedInteger(value: unknown, column: string, responseId: string, notes: string[]): null | number {
  if (value === null || value === undefined) return null
  const number = typeof value === 'bigint' ? Number(value) : value
  if (typeof number === 'number' && Number.isInteger(number) && number >= 0 && number <= MAX_STORED_INTEGER) return number
  notes.push(`llm response ${responseId} has ${column} ${JSON.stringify(String(value))}, which is not a count synapse stores; it was left empty.`)
  return null
}

/** The finish reason an OpenAI-style response_json carries ("stop", "length"), when it has one. */
function finishReasonOf(json: null | string): null | string {
  if (!json) return null
  try {
    const parsed = JSON.parse(json) as unknown
    const reason = (parsed as {finish_reason?: unknown})?.finish_reason
    return typeof reason === 'string' && reason.length > 0 && reason.length <= 50 ? reason : null
  } catch {
    return null
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** llm's ids are lower-case ULIDs: the same id in synapse's case. Anything else gets a derived one. */
function ulidOf(llmId: string, time: number, kind: string): string {
  const upper = normalizeIdPrefix(llmId)
  if (upper !== undefined && upper.length === ID_LENGTH && upper[0] <= '7') return upper
  return derivedId(time, `llm ${kind}\u0000${llmId}`)
}

/** A ULID whose time is `time` and whose random part is a hash of `key`: the same key gives the same id on every import. */
function derivedId(time: number, key: string): string {
  const digest = createHash('sha256').update(key).digest()
  let encodedTime = ''
  let t = Math.max(0, Math.floor(time))
  for (let i = 0; i < 10; i++) {
    encodedTime = CROCKFORD[t % 32] + encodedTime
    t = Math.floor(t / 32)
  }
  return encodedTime + Array.from(digest.subarray(0, 16), byte => CROCKFORD[byte & 31]).join('')
}

function ulidTime(ulid: string): number {
  let time = 0
  for (const char of ulid.slice(0, 10)) time = time * 32 + CROCKFORD.indexOf(char)
  return time
}

export interface LlmImportOptions {
  /** Rewrite sessions imported before from llm with what llm has now. */
  replace?: boolean
}

export interface LlmImportReport {
  /** Sessions imported before and still as llm has them: left alone. */
  alreadyImported: Array<{id: string; llmConversationId: null | string}>
  /** Sessions imported before whose llm conversation has changed since: left alone without --replace. */
  changed: Array<{id: string; llmConversationId: null | string}>
  from: 'llm'
  imported: ImportReport['imported']
  notes: string[]
  path: string
  /** llm responses read. */
  responses: number
  skipped: LlmSkipped[]
}

/**
 * Imports llm's conversations that are not in the store yet, all or nothing, through the same path as
 * `sessions import`. Ids are stable across runs, so a second import finds what the first wrote and
 * leaves it; `replace` rewrites those sessions from llm (synapse turns added to them since are lost).
 */
export async function importFromLlm(store: SessionStore, file: string, options: LlmImportOptions = {}): Promise<LlmImportReport> {
  const reading = await readLlmDatabase(file)
  const fresh: SessionSnapshot[] = []
  const alreadyImported: LlmImportReport['alreadyImported'] = []
  const changed: LlmImportReport['changed'] = []
  for (const snapshot of reading.snapshots) {
    const llmConversationId = (snapshot.session.metadata.llm as {conversationId: null | string}).conversationId
    if (!(await sessionExists(store, snapshot.session.id))) fresh.push(snapshot)
    else if (options.replace) fresh.push(snapshot)
    else if (sameMessages(await store.messages(snapshot.session.id), snapshot.messages)) alreadyImported.push({id: snapshot.session.id, llmConversationId})
    else changed.push({id: snapshot.session.id, llmConversationId})
  }
  const {imported} = fresh.length === 0 ? {imported: []} : await importSnapshots(store, fresh, {replace: options.replace})
  return {alreadyImported, changed, from: 'llm', imported, notes: reading.notes, path: reading.path, responses: reading.responses, skipped: reading.skipped}
}

function sameMessages(stored: Message[], fromLlm: Message[]): boolean {
  return stored.length === fromLlm.length && stored.every((m, i) => m.id === fromLlm[i].id && m.content === fromLlm[i].content)
}
