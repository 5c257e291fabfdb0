import {createClient, type RedisClientType} from '@redis/client'
import {randomBytes} from 'node:crypto'

/**
 * The server the tests run against: a real Redis, never a mock (test/setup/redis.ts starts a
 * throwaway one when nothing answers). SYNAPSE_TEST_REDIS_URL points them elsewhere.
 */
export const SERVER_URL = process.env.SYNAPSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

/** Runs `work` on a connection of its own, outside any store, as an administrator would. */
export async function withClient<T>(work: (client: RedisClientType) => Promise<T>): Promise<T> {
  const client = createClient({url: SERVER_URL})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.close()
  }
}

/** Every key under a prefix, sorted. */
export async function keysUnder(prefix: string): Promise<string[]> {
  return withClient(async client => {
    const keys: string[] = []
    for await (const batch of client.scanIterator({COUNT: 1000, MATCH: `${prefix}*`})) keys.push(...batch)
    return keys.sort()
  })
}

/** Key prefixes a suite handed out, their keys deleted when it ends: each test owns a namespace no other run touches. */
export class Prefixes {
  private readonly made = new Set<string>()

  async dropAll(): Promise<void> {
    for (const prefix of this.made) {
      const keys = await keysUnder(prefix)
      if (keys.length > 0) await withClient(client => client.unlink(keys))
    }
    this.made.clear()
  }

  /** A fresh prefix, ending in a colon. */
  fresh(label: string): string {
    const prefix = `synapse-test:${label}:${randomBytes(5).toString('hex')}:`
    this.made.add(prefix)
    return prefix
  }

  /** The storage URL of a fresh prefix on the test server. */
  url(label: string): string {
    const url = new URL(SERVER_URL)
    url.searchParams.set('prefix', this.fresh(label))
    return url.toString()
  }
}
