import {deepStrictEqual} from 'node:assert/strict'

import {fts5Query} from '../src/store/typeorm/search-sql.js'
import {parseSearchQuery} from '../src/store/search.js'
import {openSqliteStore} from '../src/store/typeorm/sqlite.js'
import {createDatabase, openRaw, type Sandbox, seed} from './fixtures.js'
import {interleave, type Plan, time, timeAsync} from './harness.js'
import {type Measurement, timeComparison} from './measurement.js'

export interface SearchShape {
  messagesPerSession: number
  /** One page of hits. */
  page: number
  sessions: number
}

/** Words no seeded message has, put into a few: what a person searches for is rarer than "the". */
const RARE = ['kestrel', 'migration']
/** Every how many messages holds the first rare word, and the second. */
const EVERY = [50, 7]

export interface SearchResult {
  broad: Measurement
  search: Measurement
}

/**
 * The first page of `sessions search` through the SessionStore (parse, the FTS5 query joined to
 * messages and sessions, ordered by the contract, short ids, snippets) against the raw FTS5 query
 * for the same words on the same file: `MATCH … ORDER BY rank LIMIT n` with FTS5's own snippet().
 */
export async function benchSearch(sandbox: Sandbox, plan: Plan, shape: SearchShape): Promise<SearchResult> {
  const path = sandbox.file('search.db')
  await createDatabase(path)
  seed(path, {messagesPerSession: shape.messagesPerSession, now: Date.now(), sessions: shape.sessions})
  const db = openRaw(path)
  // Through the triggers, as any write: the index stays in step.
  db.transaction(() => {
    // Titles come first in a page of hits, and the seed's titles are of the same 40 words: without
    // them, both sides rank messages.
    db.prepare('UPDATE sessions SET title = NULL').run()
    for (const [i, every] of EVERY.entries()) db.prepare(`UPDATE messages SET content = content || ' ${RARE[i]}' WHERE rowid % ${every} = 0`).run()
    // Every reply names its question, as synapse stores them: a search looks each candidate reply's
    // question up to leave out replies to undone questions. Nothing is hidden, so the raw query,
    // which filters nothing, finds the same hits.
    db.prepare(
      `UPDATE messages SET reply_to = (SELECT q.id FROM messages q WHERE q.session_id = messages.session_id AND q.position = messages.position - 1)
        WHERE role = 'assistant'`,
    ).run()
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  const store = await openSqliteStore({path})
  const count = Number((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as {n: number}).n)
  const raw = db.prepare(
    "SELECT rowid, snippet(messages_fts, 0, '', '', '…', 24) AS snippet FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
  )
  try {
    const measure = async (text: string, id: string, note: string): Promise<Measurement> => {
      const match = fts5Query(parseSearchQuery(text))
      const hits = raw.all(match, shape.page)
      const ours = await store.search(text, {limit: shape.page})
      // The same page: as many hits, with the scores of FTS5's best (which of equal ones comes first may differ).
      const best = db.prepare('SELECT -bm25(messages_fts) AS score FROM messages_fts WHERE messages_fts MATCH ? ORDER BY score DESC LIMIT ?')
      deepStrictEqual(ours.length, hits.length)
      deepStrictEqual(
        ours.map(hit => hit.score),
        best.all(match, shape.page).map(row => Number(row.score)),
      )
      const matched = Number((db.prepare('SELECT COUNT(*) AS n FROM messages_fts WHERE messages_fts MATCH ?').get(match) as {n: number}).n)
      const timings = await interleave(
        {
          raw: () => time(() => raw.all(match, shape.page)),
          synapse: () => timeAsync(() => store.search(text, {limit: shape.page})),
        },
        plan,
      )
      return timeComparison({
        id,
        notes: [
          `"${text}" matches ${matched.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} messages; ${note}`,
          'synapse also joins each match to its message and session (filters, the recency tie-break), searches titles, and builds its own snippets',
          'synapse leaves out messages taken out of the conversation (hidden, or a reply to a hidden question: a look-up of each reply’s question); the raw query filters nothing, and no seeded message is hidden',
        ],
        operation: `search ${count.toLocaleString('en-US')} messages, first ${shape.page} hits`,
        target: id === 'search' ? {bound: 'max', ratio: 2} : undefined,
        timings,
      })
    }
    return {
      broad: await measure('sqlite index', 'search-broad', 'two of the seed’s 40 words: nearly every message, the worst case for ranking'),
      search: await measure(`${RARE[0]} ${RARE[1]}`, 'search', 'two words as rare as a real search'),
    }
  } finally {
    await store.close()
    db.close()
  }
}
