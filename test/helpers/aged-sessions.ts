// Sessions of known ages in a SQLite database, for the retention tests in-process and end to end.
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {ManualClock} from '../../src/testing/session-store-suite.js'

const DAY = 86_400_000

/** Sessions updated `ages` days before now, one message each; returns their ids oldest first. */
export async function sessionsAged(path: string, ages: number[]): Promise<string[]> {
  const oldestFirst = [...ages].sort((a, b) => b - a)
  const clock = new ManualClock(Date.now() - oldestFirst[0] * DAY)
  const store = await openSqliteStore({clock: clock.now, path})
  try {
    const ids: string[] = []
    for (const [i, age] of oldestFirst.entries()) {
      if (i > 0) clock.advance((oldestFirst[i - 1] - age) * DAY)
      const session = await store.create({title: `${age} days old`})
      await store.append(session.id, [{content: 'hello', role: 'user'}])
      ids.push(session.id)
    }
    return ids
  } finally {
    await store.close()
  }
}

/** The ids of the sessions in the database, oldest first. */
export async function remainingSessions(path: string): Promise<string[]> {
  const store = await openSqliteStore({path})
  try {
    return (await store.list({limit: 1000})).map(s => s.id).reverse()
  } finally {
    await store.close()
  }
}
