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
