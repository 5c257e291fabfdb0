// A redis-server of the test's own: what a test that stops the server under an open store needs, and
// what test/setup/redis.ts starts when no Redis answers on the tests' URL.
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {answers, freePort} from 'synapse-cli/testing'

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
