import {randomBytes} from 'node:crypto'
import pg from 'pg'

/**
 * The server the tests run against: a real PostgreSQL, never a mock. Unreachable, the tests fail.
 * SYNAPSE_TEST_POSTGRES_URL points them elsewhere; it must name a database the user may create
 * schemas in.
 */
export const SERVER_URL = process.env.SYNAPSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema name no other test, run or process uses. */
export function uniqueSchema(label: string): string {
  return `synapse_test_${label}_${randomBytes(5).toString('hex')}`
}

/** The storage URL of one schema on the test server. */
export function urlOf(schema: string): string {
  const url = new URL(SERVER_URL)
  url.searchParams.set('schema', schema)
  return url.toString()
}

/** Runs `work` on a connection of its own, outside any store, as an administrator would. */
export async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({application_name: 'synapse-tests', connectionString: SERVER_URL})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export async function dropSchemas(names: Iterable<string>): Promise<void> {
  const list = [...names]
  if (list.length === 0) return
  await withClient(async client => {
    for (const name of list) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
  })
}

/** Schemas a suite made, dropped (CASCADE) when it ends. */
export class Schemas {
  private readonly made = new Set<string>()

  async dropAll(): Promise<void> {
    await dropSchemas(this.made)
    this.made.clear()
  }

  fresh(label: string): string {
    const name = uniqueSchema(label)
    this.made.add(name)
    return name
  }
}

/**
 * Resolves once `count` statements of synapse connections (application_name "synapse") wait for a
 * lock: the moment a test has another transaction step in.
 */
export async function waitForLockWaiters(client: pg.Client, count = 1, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const {rows} = await client.query(
      "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE application_name = 'synapse' AND datname = current_database() AND wait_event_type = 'Lock'",
    )
    if (rows[0].n >= count) return
    if (Date.now() > deadline) throw new Error(`no synapse connection waited for a lock within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
