import type {DataSource, QueryRunner, Row, SqlExecutor} from 'synapse-cli/typeorm'

import {isRetryable} from './errors.js'

/** Attempts of one write transaction when PostgreSQL reports a conflict with another writer. */
const ATTEMPTS = 3

/**
 * PostgreSQL through TypeORM's query runners. Statements arrive as the adapter built them for the
 * PostgreSQL dialect (`$1..$n` placeholders, `COLLATE "C"` where ids need it) and run as they are.
 *
 * Transactions run at PostgreSQL's default READ COMMITTED on a connection of their own. The store
 * locks the rows it reads before writing (`FOR UPDATE`), so writers of one session queue behind each
 * other; a transaction that loses a race anyway (a deadlock, or an id another process inserted
 * between the check and the insert) is run again from the start, where the store's own checks see
 * the other process's committed work and answer as they would have if the two had run one after
 * the other.
 *
 * PostgreSQL text cannot hold U+0000, which the port must keep. Strings are stored with U+0000 as
 * U+E000 and with U+E000 and U+E001 escaped by U+E001 (private-use code points), and decoded on the
 * way out, so every string round-trips and a NUL still counts as one character for previews.
 */
export class PostgresExecutor implements SqlExecutor {
  constructor(
    private readonly dataSource: DataSource,
    private readonly describeError: (error: unknown) => unknown = error => error,
    /** Set inside a transaction: every statement runs on it, and errors stay raw for the retry. */
    private readonly runner?: QueryRunner,
  ) {}

  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    const {records} = await this.query(sql, params)
    return (records as Row[]).map(row => decodeRow(row))
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).affected ?? 0
  }

  async writeTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.runner) return work(this)
    for (let attempt = 1; ; attempt++) {
      const runner = this.dataSource.createQueryRunner('master')
      try {
        await runner.startTransaction()
        const value = await work(new PostgresExecutor(this.dataSource, this.describeError, runner))
        await runner.commitTransaction()
        return value
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined)
        if (attempt < ATTEMPTS && isRetryable(error)) continue
        throw this.describeError(error)
      } finally {
        await runner.release()
      }
    }
  }

  private async query(sql: string, params: unknown[]): Promise<{affected?: number; records: unknown[]}> {
    const runner = this.runner ?? this.dataSource.createQueryRunner('master')
    try {
      return await runner.query(
        sql,
        params.map(value => (typeof value === 'string' ? encodeText(value) : value)),
        true,
      )
    } catch (error) {
      throw this.runner ? error : this.describeError(error)
    } finally {
      if (!this.runner) await runner.release()
    }
  }
}

const NUL = '\u0000'
const ESCAPED_NUL = '\uE000'
const ESCAPE = '\uE001'
const TO_ENCODE = /[\u0000\uE000\uE001]/g
const TO_DECODE = /\uE001([\s\S]?)|\uE000/g

export function encodeText(text: string): string {
  TO_ENCODE.lastIndex = 0
  if (!TO_ENCODE.test(text)) return text
  return text.replace(TO_ENCODE, char => (char === NUL ? ESCAPED_NUL : ESCAPE + char))
}

/** A trailing lone escape (a preview cut between the escape and its character) is dropped. */
export function decodeText(text: string): string {
  TO_DECODE.lastIndex = 0
  if (!TO_DECODE.test(text)) return text
  return text.replace(TO_DECODE, (match, escaped: string | undefined) => (match === ESCAPED_NUL ? NUL : (escaped ?? '')))
}

function decodeRow(row: Row): Row {
  for (const key of Object.keys(row)) {
    const value = row[key]
    if (typeof value === 'string') row[key] = decodeText(value)
  }
  return row
}
