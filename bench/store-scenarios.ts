import {deepStrictEqual, strictEqual} from 'node:assert/strict'

import {openSqliteStore} from '../src/store/typeorm/sqlite.js'
import {copyDatabase, createDatabase, openRaw, type RawDatabase, removeDatabase, type Sandbox, seed, type Template} from './fixtures.js'
import {interleave, type Plan, time, timeAsync} from './harness.js'
import {type Measurement, rateComparison, timeComparison} from './measurement.js'
import {RawClient} from './raw-client.js'

/** A typical prompt: what one append writes. */
const PROMPT =
  'Summarise the trade-offs between WAL and rollback journaling in SQLite for a CLI that many shells may run at once, and say which synchronous level you would pick and why.'

export async function benchAppend(sandbox: Sandbox, plan: Plan, batch: number): Promise<Measurement> {
  const [storePath, rawPath] = [sandbox.file('append-synapse.db'), sandbox.file('append-raw.db')]
  // One file each: neither side's WAL growth or checkpoints land on the other's clock.
  const ids: string[] = []
  for (const path of [storePath, rawPath]) {
    await createDatabase(path)
    ids.push(...seed(path, {messagesPerSession: 0, now: Date.now(), sessions: 1}))
  }
  const [storeSession, rawSession] = ids
  const store = await openSqliteStore({path: storePath})
  const raw = new RawClient(openRaw(rawPath))
  try {
    const timings = await interleave(
      {
        raw: () =>
          time(() => {
            for (let i = 0; i < batch; i++) raw.append(rawSession, PROMPT)
          }),
        synapse: () =>
          timeAsync(async () => {
            for (let i = 0; i < batch; i++) await store.append(storeSession, [{content: PROMPT, role: 'user'}])
          }),
      },
      plan,
    )
    // Both sides did the same number of appends, each at the next position.
    const stored = await store.messages(storeSession)
    strictEqual(stored.length, raw.messageRows(rawSession).length)
    strictEqual(stored.at(-1)?.position, stored.length - 1)
    return rateComparison(batch, {
      id: 'append',
      notes: [
        `${batch} appends per trial; raw: BEGIN IMMEDIATE, session check, MAX(position), INSERT, UPDATE updated_at, COMMIT`,
        "raw stamps Date.now(); the store's strictly increasing clock runs ahead of it at this write rate (see bench/raw-client.ts)",
      ],
      operation: 'append 1 message/transaction',
      target: {bound: 'min', ratio: 0.5},
      timings,
    })
  } finally {
    await store.close()
    raw.close()
  }
}

export interface LoadResult {
  load: Measurement
  /** The raw rows without mapping to objects: the floor under both. */
  rowsOnly: Measurement
}

export async function benchLoad(sandbox: Sandbox, plan: Plan, size: number): Promise<LoadResult> {
  const path = sandbox.file('load.db')
  await createDatabase(path)
  const [session] = seed(path, {messagesPerSession: size, now: Date.now(), sessions: 1})
  // Both read the same file: reads change nothing, and the pages they share are cached alike.
  const store = await openSqliteStore({path})
  const raw = new RawClient(openRaw(path))
  try {
    // The baseline must do the same work: same messages, same shapes, same values.
    deepStrictEqual(raw.messages(session), await store.messages(session))
    const timings = await interleave(
      {
        raw: () => time(() => raw.messages(session)),
        rows: () => time(() => raw.messageRows(session)),
        synapse: () => timeAsync(() => store.messages(session)),
      },
      plan,
    )
    const operation = `load a ${size.toLocaleString('en-US')}-message session`
    return {
      load: timeComparison({
        id: 'load',
        notes: ['raw maps rows to the same Message objects (camelCase, Date createdAt, parsed metadata): what any caller needs'],
        operation,
        target: {bound: 'max', ratio: 2},
        timings: {raw: timings.raw, synapse: timings.synapse},
      }),
      rowsOnly: timeComparison({
        baseline: 'unmapped raw rows',
        id: 'load-rows',
        notes: ['synapse against raw .all() rows with no mapping: the cost of producing usable objects at all'],
        operation: `load ${size.toLocaleString('en-US')} messages vs unmapped raw rows`,
        timings: {raw: timings.rows, synapse: timings.synapse},
      }),
    }
  } finally {
    await store.close()
    raw.close()
  }
}

export async function benchList(sandbox: Sandbox, plan: Plan, template: Template, limit: number): Promise<Measurement> {
  const path = sandbox.file('list.db')
  copyDatabase(template.path, path)
  const store = await openSqliteStore({path})
  const raw = new RawClient(openRaw(path))
  try {
    deepStrictEqual(raw.list(limit), await store.list({limit}))
    const timings = await interleave(
      {
        raw: () => time(() => raw.list(limit)),
        synapse: () => timeAsync(() => store.list({limit})),
      },
      plan,
    )
    return timeComparison({
      id: 'list',
      notes: ['raw computes the same fields: count, preview (the first question not hidden), and the short id from the two neighbouring ids'],
      operation: `list ${limit} newest of ${template.sessions.toLocaleString('en-US')} sessions`,
      target: {bound: 'max', ratio: 2},
      timings,
    })
  } finally {
    await store.close()
    raw.close()
  }
}

export async function benchPrune(sandbox: Sandbox, plan: Plan, template: Template, keep: number): Promise<Measurement> {
  const [storePath, rawPath] = [sandbox.file('prune-synapse.db'), sandbox.file('prune-raw.db')]
  const survivors: {raw?: string[]; synapse?: string[]} = {}
  // Opening is not timed: each trial prunes a fresh copy of the template through an open connection.
  const timings = await interleave(
    {
      async raw() {
        copyDatabase(template.path, rawPath)
        const db = openRaw(rawPath)
        const raw = new RawClient(db)
        try {
          const ms = time(() => raw.prune(keep))
          survivors.raw = remainingIds(db)
          return ms
        } finally {
          raw.close()
          removeDatabase(rawPath)
        }
      },
      async synapse() {
        copyDatabase(template.path, storePath)
        const store = await openSqliteStore({path: storePath})
        try {
          const ms = await timeAsync(() => store.prune({maxSessions: keep}))
          const check = openRaw(storePath)
          try {
            survivors.synapse = remainingIds(check)
          } finally {
            check.close()
          }
          return ms
        } finally {
          await store.close()
          removeDatabase(storePath)
        }
      },
    },
    plan,
  )
  // The same sessions survive either way.
  strictEqual(survivors.synapse?.length, keep)
  deepStrictEqual(survivors.raw, survivors.synapse)
  return timeComparison({
    id: 'prune',
    notes: [`raw is one DELETE ... LIMIT -1 OFFSET ${keep} and returns a count; the store also reads a summary of every deleted session, which it returns`],
    operation: `prune ${template.sessions.toLocaleString('en-US')} sessions (${template.messagesPerSession} msgs each) to ${keep}`,
    target: {bound: 'max', ratio: 1.5},
    timings,
  })
}

function remainingIds(db: RawDatabase): string[] {
  const ids = db
    .prepare('SELECT id FROM sessions ORDER BY id')
    .all()
    .map(row => row.id as string)
  const orphans = db.prepare('SELECT COUNT(*) AS n FROM messages WHERE session_id NOT IN (SELECT id FROM sessions)').get()?.n
  strictEqual(orphans, 0, 'pruned sessions left messages behind')
  return ids
}
