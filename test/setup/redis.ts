/**
 * Loaded by mocha before any test file (.mocharc.json `require`): makes sure a real Redis answers on
 * the tests' URL (plugins/storage-redis/test/helpers.ts SERVER_URL). With a server running there, as
 * on CI, the tests use it. Without one, and with `redis-server` on the PATH, this starts a throwaway
 * server on a free port that keeps nothing on disk, points SYNAPSE_TEST_REDIS_URL at it, and stops it
 * when the run ends. Without either, the Redis tests fail (connection refused) and the run says what
 * to install: never a mock.
 */
import {spawnSync} from 'node:child_process'

import {startThrowawayRedis, type ThrowawayRedis} from '../../plugins/storage-redis/test/throwaway-redis.js'
import {answers} from '../helpers/network.js'

const DEFAULT_URL = 'redis://127.0.0.1:6379/0'

let throwaway: ThrowawayRedis | undefined
const wanted = process.env.SYNAPSE_TEST_REDIS_URL ?? DEFAULT_URL
if (!(await answers(wanted, 6379))) {
  if (spawnSync('redis-server', ['--version']).status === 0) {
    throwaway = await startThrowawayRedis()
    process.env.SYNAPSE_TEST_REDIS_URL = throwaway.url
    console.log(`  No Redis answers at ${wanted}: the tests use a throwaway one at ${throwaway.url}.`)
  } else {
    // Only the Redis tests need it: they fail ("connection refused"), the rest of the run goes on.
    console.log(`  No Redis answers at ${wanted} and redis-server is not installed (Debian: apt-get install redis-server): the Redis tests will fail.`)
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  await throwaway?.stop()
}
