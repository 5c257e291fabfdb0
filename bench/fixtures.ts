import {copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {newId} from '../src/core/ids.js'
import {openSqliteStore} from '../src/store/typeorm/sqlite.js'

export type Row = Record<string, unknown>

/** The part of better-sqlite3 the baseline uses. */
export interface RawStatement {
  all(...params: unknown[]): Row[]
  get(...params: unknown[]): Row | undefined
  run(...params: unknown[]): {changes: number}
}

export interface RawDatabase {
  close(): void
  pragma(source: string, options?: {simple?: boolean}): unknown
  prepare(sql: string): RawStatement
  /** better-sqlite3's wrapper: prepared BEGIN/COMMIT/ROLLBACK around `fn`; `.immediate` uses BEGIN IMMEDIATE. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) & {immediate: (...args: A) => R}
}

// better-sqlite3 ships no type declarations and @types/better-sqlite3 is not a dependency; a
// structural type of the few methods used keeps bench/ from declaring the module for everyone.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => RawDatabase

const BUSY_TIMEOUT_MS = 5000

/** The connection a hand-written client would open: the pragmas the store's connection runs with. */
export function openRaw(path: string): RawDatabase {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  return db
}

/** A private directory tree for one run: databases, and the HOME and XDG dirs child processes see. */
export interface Sandbox {
  cleanup(): void
  /** A complete environment for child processes, pointing at nothing of the user's. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  file(name: string): string
  root: string
}

const ISOLATED_KEYS = ['HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'DATABASE_URL', 'NO_COLOR', 'FORCE_COLOR']

export function makeSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'synapse-bench-'))
  const dirs = {
    HOME: join(root, 'home'),
    XDG_CACHE_HOME: join(root, 'cache'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_STATE_HOME: join(root, 'state'),
  }
  for (const dir of Object.values(dirs)) mkdirSync(dir)
  return {
    cleanup: () => rmSync(root, {force: true, recursive: true}),
    env(extra = {}) {
      const env: NodeJS.ProcessEnv = {...process.env}
      for (const key of ISOLATED_KEYS) delete env[key]
      // The user's SYNAPSE_MAX_SESSIONS and the like would change what a command does.
      for (const key of Object.keys(env)) if (key.startsWith('SYNAPSE_') || key.startsWith('OPENAI_')) delete env[key]
      return {...env, ...dirs, ...extra}
    },
    file: name => join(root, name),
    root,
  }
}

/** An empty database whose schema is exactly what the store's migrations build. */
export async function createDatabase(path: string): Promise<void> {
  const store = await openSqliteStore({path})
  await store.close()
}

/** A closed, checkpointed database that scenarios copy or read. */
export interface Template {
  messagesPerSession: number
  path: string
  sessions: number
}

/** Builds a template of `sessions` sessions of `messagesPerSession` messages each. */
export async function makeTemplate(path: string, sessions: number, messagesPerSession: number): Promise<Template> {
  await createDatabase(path)
  seed(path, {messagesPerSession, now: Date.now(), sessions})
  return {messagesPerSession, path, sessions}
}

export interface SeedOptions {
  /** Ends of the creation times; sessions are a minute apart before it. */
  now: number
  messagesPerSession: number
  sessions: number
}

/**
 * Sessions and messages shaped like real use: alternating user and assistant turns, replies longer
 * than questions and carrying provider, model, tokens and timing. Seeded with raw statements in one
 * transaction because seeding is not what is measured; the rows are the ones the store would write.
 * Returns the session ids, oldest first.
 */
export function seed(path: string, options: SeedOptions): string[] {
  const random = mulberry32(0x5eed)
  const db = openRaw(path)
  try {
    const insertSession = db.prepare(
      'INSERT INTO sessions (id, title, provider, model, system_prompt, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    const insertMessage = db.prepare(
      'INSERT INTO messages (id, session_id, position, role, content, provider, model, input_tokens, output_tokens, status, finish_reason, duration_ms, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    const ids: string[] = []
    db.transaction(() => {
      for (let s = 0; s < options.sessions; s++) {
        const createdAt = options.now - (options.sessions - s) * 60_000
        const id = newId(createdAt)
        // Updated up to an hour after creation: the list order is not simply the id order.
        const updatedAt = createdAt + Math.floor(random() * 3_600_000)
        insertSession.run(id, random() < 0.5 ? null : text(random, 20, 60), 'openai', 'gpt-4o-mini', null, null, createdAt, updatedAt)
        for (let position = 0; position < options.messagesPerSession; position++) {
          const at = createdAt + position * 1000
          if (position % 2 === 0) {
            insertMessage.run(newId(at), id, position, 'user', text(random, 80, 300), null, null, null, null, 'complete', null, null, null, at)
          } else {
            const tokens = Math.floor(random() * 400)
            insertMessage.run(
              newId(at),
              id,
              position,
              'assistant',
              text(random, 300, 1200),
              'openai',
              'gpt-4o-mini',
              tokens + 50,
              tokens,
              'complete',
              'stop',
              500 + tokens * 10,
              null,
              at,
            )
          }
        }
        ids.push(id)
      }
    })()
    db.pragma('wal_checkpoint(TRUNCATE)')
    return ids
  } finally {
    db.close()
  }
}

/**
 * A fresh copy of a closed, checkpointed database: everything is in the main file, so copying it
 * alone is a complete copy.
 */
export function copyDatabase(template: string, target: string): void {
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(template + suffix)) throw new Error(`${template}${suffix} exists: close and checkpoint the template before copying it.`)
    rmSync(target + suffix, {force: true})
  }
  copyFileSync(template, target)
}

export function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, {force: true})
}

const WORDS =
  'the a session model reply token stream context prompt sqlite index query user assistant message of to and in is for with that this on when list load prune retention database write lock'.split(
    ' ',
  )

/** Words up to a length between min and max, so content sizes vary as in real chats. */
function text(random: () => number, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min))
  let out = ''
  while (out.length < length) out += (out ? ' ' : '') + WORDS[Math.floor(random() * WORDS.length)]
  return out.slice(0, length)
}

/** A small seeded PRNG: the same data on every run. */
function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
