import {createClient, type RedisClientType} from '@redis/client'
import {deepStrictEqual, strictEqual} from 'node:assert/strict'
import {randomBytes} from 'node:crypto'

import {newId} from '../src/core/ids.js'
import type {Message} from '../src/store/session-store.js'
import {openRedisStore} from '../plugins/storage-redis/src/redis-adapter.js'
import {interleave, type Plan, timeAsync} from './harness.js'
import {type Measurement, rateComparison, timeComparison} from './measurement.js'

/** The server the Redis rows run against; nothing else is touched, and every key made is deleted. */
const SERVER = process.env.SYNAPSE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0'
const PROMPT =
  'Summarise the trade-offs between WAL and rollback journaling in SQLite for a CLI that many shells may run at once, and say which synchronous level you would pick and why.'

/**
 * The baseline's append: what a careful hand-written client needs for the same guarantee (the
 * session checked, the next position read and taken in one atomic step, the session's updatedAt and
 * the listing's score moved), as one script, with the record JSON made in JavaScript.
 */
const RAW_APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local last = redis.call('LINDEX', KEYS[2], -1)
local position = 0
if last then position = tonumber(string.match(last, '^{"position":(%d+),')) + 1 end
redis.call('RPUSH', KEYS[2], '{"position":' .. position .. ARGV[1])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return position
`

async function withServer<T>(work: (client: RedisClientType, url: (prefix: string) => string, prefix: string) => Promise<T>): Promise<T> {
  const client: RedisClientType = createClient({url: SERVER})
  client.on('error', () => {})
  await client.connect()
  const prefix = `synapse-bench:${randomBytes(4).toString('hex')}:`
  const url = (sub: string) => {
    const u = new URL(SERVER)
    u.searchParams.set('prefix', `${prefix}${sub}`)
    return u.toString()
  }
  try {
    return await work(client, url, prefix)
  } finally {
    const keys: string[] = []
    for await (const batch of client.scanIterator({COUNT: 1000, MATCH: `${prefix}*`})) keys.push(...batch)
    if (keys.length > 0) await client.unlink(keys)
    await client.close()
  }
}

export async function benchRedisAppend(plan: Plan, batch: number): Promise<Measurement> {
  return withServer(async (client, url, prefix) => {
    const store = await openRedisStore({url: url('store')})
    const session = await store.create()
    const raw = {list: `${prefix}raw:messages:${session.id}`, session: `${prefix}raw:session:${session.id}`, sessions: `${prefix}raw:sessions`}
    await client.hSet(raw.session, 'updatedAt', String(Date.now()))
    const sha = await client.scriptLoad(RAW_APPEND)
    const rawAppend = async (content: string) => {
      const now = Date.now()
      const tail = `,"id":"${newId(now)}","status":"complete",${JSON.stringify({content, createdAt: now, durationMs: null, finishReason: null, inputTokens: null, metadata: {}, model: null, outputTokens: null, provider: null, replyTo: null, role: 'user'}).slice(1)}`
      return client.evalSha(sha, {arguments: [tail, String(now), session.id], keys: [raw.session, raw.list, raw.sessions]})
    }
    try {
      const timings = await interleave(
        {
          raw: () =>
            timeAsync(async () => {
              for (let i = 0; i < batch; i++) await rawAppend(PROMPT)
            }),
          synapse: () =>
            timeAsync(async () => {
              for (let i = 0; i < batch; i++) await store.append(session.id, [{content: PROMPT, role: 'user'}])
            }),
        },
        plan,
      )
      // Both sides did the same number of appends, each at the next position.
      const stored = await store.messages(session.id)
      strictEqual(stored.length, await client.lLen(raw.list))
      strictEqual(stored.at(-1)?.position, stored.length - 1)
      return rateComparison(batch, {
        baseline: 'raw node-redis',
        id: 'redis-append',
        notes: [
          `${batch} appends per trial, awaited one by one, on ${new URL(SERVER).host}; raw: one EVALSHA checking the session, reading the last position and pushing after it, moving updatedAt and the listing score`,
          'the store also records the message id in the message-id hash (ids unique across the store) and keeps the preview in the same script, and validates and copies in the core',
        ],
        operation: 'append 1 message/transaction (Redis, vs raw node-redis)',
        target: {bound: 'min', ratio: 0.5},
        timings,
      })
    } finally {
      await store.close()
    }
  })
}

export async function benchRedisLoad(plan: Plan, size: number): Promise<Measurement> {
  return withServer(async (client, url) => {
    const store = await openRedisStore({url: url('load')})
    const session = await store.create()
    for (let i = 0; i < size; i += 500) {
      await store.append(
        session.id,
        Array.from({length: Math.min(500, size - i)}, (_, j) => ({
          content: `${PROMPT} #${i + j}`,
          metadata: {n: i + j},
          role: j % 2 ? ('assistant' as const) : ('user' as const),
        })),
      )
    }
    const list = `${new URL(url('load')).searchParams.get('prefix')}:messages:${session.id}`
    // The baseline: one LRANGE, each record parsed into the same Message objects (Date createdAt).
    const rawLoad = async (): Promise<Message[]> =>
      (await client.lRange(list, 0, -1)).map(record => {
        const parsed = JSON.parse(record)
        return {...parsed, createdAt: new Date(parsed.createdAt), sessionId: session.id}
      })
    try {
      deepStrictEqual(await rawLoad(), await store.messages(session.id))
      const timings = await interleave({raw: () => timeAsync(rawLoad), synapse: () => timeAsync(() => store.messages(session.id))}, plan)
      return timeComparison({
        baseline: 'raw node-redis',
        id: 'redis-load',
        notes: ['raw is one LRANGE mapped to the same Message objects; and so is the store, through the record codec (messageFromText)'],
        operation: `load a ${size.toLocaleString('en-US')}-message session (Redis, vs raw node-redis)`,
        target: {bound: 'max', ratio: 2},
        timings,
      })
    } finally {
      await store.close()
    }
  })
}
