import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {setTimeout as sleep} from 'node:timers/promises'

import {createDatabase, type Sandbox, seed} from './fixtures.js'
import {interleave, type Plan} from './harness.js'
import {type Measurement, timeComparison} from './measurement.js'

const PROJECT_ROOT = join(import.meta.dirname, '..')
const RUN_JS = join(PROJECT_ROOT, 'bin', 'run.js')

export interface StartupResult {
  help: Measurement
  list: Measurement
  version: Measurement
}

/**
 * Whole processes, as a person at a shell runs them: spawn, run, exit. Node's compile cache (which
 * bin/run.js enables) is filled by the warm-up runs, as it is for anyone after their first command.
 */
export async function benchStartup(sandbox: Sandbox, plan: Plan, sessions: number): Promise<StartupResult> {
  const database = sandbox.file('cli.db')
  await createDatabase(database)
  // Recent sessions, no more than the default max_sessions (100): the auto-prune every store command
  // runs finds nothing to delete, so every run sees the same database.
  const ids = seed(database, {messagesPerSession: 10, now: Date.now(), sessions})
  const env = sandbox.env({DATABASE_URL: database})
  // From HOME, as at a shell: the sandbox's root is in the temporary directory, whose every change
  // (any process making a file there) would make the completion cache look stale, and each run rewrite it.
  const cwd = env.HOME!
  const spawn = (args: string[], expect?: Expectation) => () => run(args, env, cwd, expect)
  await waitForBuild(() => run([RUN_JS, 'sessions', 'list'], env, cwd))

  const timings = await interleave(
    {
      help: spawn([RUN_JS, '--help'], {test: out => out.includes('USAGE'), what: 'a usage'}),
      list: spawn([RUN_JS, 'sessions', 'list'], {test: out => ids.some(id => out.includes(id)), what: 'session ids'}),
      node: spawn(['-e', '0']),
      version: spawn([RUN_JS, '--version'], {test: out => out.startsWith('synapse-cli/'), what: 'a version'}),
    },
    plan,
  )
  const baseline = 'node -e 0'
  return {
    help: timeComparison({
      baseline,
      id: 'cold-help',
      notes: ['answered from what oclif printed the last time in the same situation (bin/fast-start.js), as every run after the first is'],
      operation: 'cold `synapse --help` vs `node -e 0`',
      target: {bound: 'max', ratio: 1.5},
      timings: {raw: timings.node, synapse: timings.help},
    }),
    list: timeComparison({
      baseline,
      id: 'cold-list',
      notes: [`a whole process: \`sessions list\` on ${sessions} sessions (config, open, migration check, auto-prune, list, render) against \`node -e 0\``],
      operation: 'cold `synapse sessions list` vs `node -e 0`',
      target: {bound: 'max', ratio: 2.5},
      timings: {raw: timings.node, synapse: timings.list},
    }),
    version: timeComparison({
      baseline,
      id: 'cold-version',
      notes: ['answered as --help is'],
      operation: 'cold `synapse --version` vs `node -e 0`',
      target: {bound: 'max', ratio: 1.5},
      timings: {raw: timings.node, synapse: timings.version},
    }),
  }
}

/** What a command must print: a run that fails fast must not pass for a fast run. */
interface Expectation {
  test: (stdout: string) => boolean
  what: string
}

/** Wall time of one process from spawn to exit; fails unless it exits 0 and prints what is expected. */
function run(args: string[], env: NodeJS.ProcessEnv, cwd: string, expect?: Expectation): number {
  const start = performance.now()
  const child = spawnSync(process.execPath, args, {cwd, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe']})
  const ms = performance.now() - start
  if (child.error) throw child.error
  if (child.status !== 0 || (expect && !expect.test(child.stdout))) {
    throw new Error(`${args.join(' ')} exited ${child.status}${expect ? ` (expected ${expect.what} in its output)` : ''}:\n${child.stdout}${child.stderr}`)
  }
  return ms
}

/**
 * bin/run.js runs the build in dist/, which a concurrent `npm run build` removes for a while: wait
 * until the CLI runs at all before timing it.
 */
async function waitForBuild(probe: () => unknown, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      probe()
      return
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`The CLI does not run; build it first ("npm run build"; npm run bench does).`, {cause: error})
      await sleep(1000)
    }
  }
}
