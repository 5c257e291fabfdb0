// What a test of the SQL search's query plans needs on any database: the statements the adapter
// really runs, and a history where what was taken out outscores what is current.
import type {SessionStore} from '../store/store.js'
import type {Row, SqlExecutor} from '../store/typeorm/sql-executor.js'

/** An executor that runs everything through `executor` and keeps each query it was given. */
export interface RecordingExecutor extends SqlExecutor {
  /** Every `all` so far, in order, with its parameters: what a query-plan test explains. */
  readonly queries: Array<{params: unknown[]; sql: string}>
}

/**
 * `executor` as it is, keeping a record of its queries, so that a test explains the statements the
 * SQL adapter really builds (with their real parameters) rather than copies of them.
 */
export function recordingExecutor(executor: SqlExecutor): RecordingExecutor {
  const queries: Array<{params: unknown[]; sql: string}> = []
  return {
    all(sql: string, params: unknown[] = []): Promise<Row[]> {
      queries.push({params, sql})
      return executor.all(sql, params)
    },
    queries,
    run: (sql, params) => executor.run(sql, params),
    writeTransaction: work => executor.writeTransaction(work),
  }
}

/**
 * `exchanges` questions in one new session (titled "`word` notes"), each reply retried twice: the
 * two replies taken out ("`word` `word` `word` …") match `word` better than anything current, so
 * that a search's best candidates are all out of the conversation. 4 × `exchanges` messages.
 */
export async function storeRetriedExchanges(store: SessionStore, word: string, exchanges: number): Promise<void> {
  const session = await store.create({title: `${word} notes`})
  for (let i = 0; i < exchanges; i++) {
    const [question] = await store.append(session.id, [{content: `${word} question ${i}`, role: 'user', status: 'pending'}])
    let reply = await store.appendReply(session.id, question.id, {content: `${word} ${word} ${word} reply ${i}`, role: 'assistant'})
    for (const content of [`${word} ${word} ${word} again ${i}`, `a ${word} at last ${i}`]) {
      reply = await store.appendReply(session.id, question.id, {content, role: 'assistant'}, {replaces: {reply: reply.id}})
    }
  }
}
