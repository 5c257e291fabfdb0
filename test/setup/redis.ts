/**
 * Loaded by mocha before any test file (.mocharc.json `require`): makes sure a real Redis answers on
 * the tests' URL (plugins/storage-redis/test/helpers.ts SERVER_URL). With a server running there, as
 * on CI, the tests use it. Without one, and with `redis-server` on the PATH, this starts a throwaway
 * server on a free port that keeps nothing on disk, points SYNAPSE_TEST_REDIS_URL at it, and stops it
 * when the run ends. Without either, the Redis tests fail (connection refused) and the run says what
 * to install: never a mock.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'

import {answers, freePort} from '../helpers/network.js'

const DEFAULT_URL = 'redis://127.0.0.1:6379/0'

export interface ThrowawayRedis {
  stop(): Promise<void>
  url: string
}

/** `redis-server` on a free loopback port, no persistence; resolves once it answers. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      "No Redis answers on the tests' URL and none can be started: install redis-server (Debian: apt-get install redis-server), or set SYNAPSE_TEST_REDIS_URL to a server.",
    )
  }
  const port = await freePort()
  const server: ChildProcess = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk))
  const exited = new Promise<void>(resolve => server.once('exit', () => resolve()))
  const killOnExit = () => server.kill('SIGKILL')
  process.once('exit', killOnExit)
  const stop = async () => {
    process.off('exit', killOnExit)
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM')
      await exited
    }
  }
  const url = `redis://127.0.0.1:${port}/0`
  for (let attempt = 0; !(await answers(url, 6379)); attempt++) {
    if (server.exitCode !== null || attempt > 100) {
      await stop()
      throw new Error(`The throwaway redis-server did not start:\n${log}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {stop, url}
}

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
