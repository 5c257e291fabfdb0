import {Config} from '@oclif/core'
import {type ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {loadProviderRegistry} from '../../src/plugins/extensions.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {PROJECT_ROOT, RUN_JS} from '../helpers/cli.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {testRuntime} from '../helpers/spawn.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

/** A ULID-shaped id that starts with `prefix`. */
function id(prefix: string, last: string): string {
  return prefix + '0'.repeat(25 - prefix.length) + last
}

/**
 * Five sessions in the sandbox's default database, with ids chosen for their short ids: B and C share
 * seven characters (short ids of eight), D and E share eight (short ids of nine).
 */
export const SESSIONS = {
  A: {ago: 5 * DAY, id: id('01JX4Q2B', 'A'), model: 'gpt-4o', provider: 'openai', title: 'Alpha'},
  B: {ago: 60 * MINUTE, id: id('01JX4R7C', 'B'), model: 'llama3.2:latest', provider: 'openai', title: 'Beta'},
  C: {ago: 2 * DAY, id: id('01JX4R7D', 'C'), model: null, provider: null, title: null},
  D: {ago: 3 * DAY, id: id('01JX5AAAX', 'D'), model: 'qwen2.5:7b', provider: 'ollama', title: 'Delta'},
  E: {ago: 10 * MINUTE, id: id('01JX5AAAY', 'E'), model: null, provider: null, title: 'Epsilon'},
}

/** Their short ids, most recently updated first: what `synapse sessions show <TAB>` offers. */
export const SHORT_IDS_BY_RECENCY = ['01JX5AAAY', '01JX4R7C', '01JX4R7D', '01JX5AAAX', '01JX4Q2B']

export function databasePath(sandbox: Sandbox): string {
  return join(sandbox.configDir, 'sessions.db')
}

/** Creates SESSIONS (C holds only a question, so its preview stands in for a title) and, optionally, more. */
export async function seedSessions(sandbox: Sandbox, extra: Array<{ago: number; id: string; title: string}> = []): Promise<void> {
  let now = new Date()
  const store = await openSqliteStore({clock: () => now, path: databasePath(sandbox)})
  try {
    // The store's clock never goes back: create the oldest first.
    for (const s of [...Object.values(SESSIONS), ...extra].sort((a, b) => b.ago - a.ago)) {
      now = new Date(Date.now() - ('ago' in s ? s.ago : 0))
      const model = 'model' in s ? s.model : null
      const provider = 'provider' in s ? s.provider : null
      await store.create({id: s.id, model, provider, title: s.title})
      if (s.title === null) await store.append(s.id, [{content: 'Gamma question\nwith two lines', role: 'user'}])
    }
  } finally {
    await store.close()
  }
}

export const MINUTES_AGO = (minutes: number) => minutes * MINUTE
export const DAYS_AGO = (days: number) => days * DAY

/**
 * The model names `synapse chat -m <TAB>` must offer, worked out from the providers as the CLI loads
 * them (built-in and plugins'): each provider's default model then its well-known ones, providers by
 * name, then the models of SESSIONS that no provider lists, most recently used first.
 */
export async function expectedModels(): Promise<string[]> {
  const config = await Config.load({root: PROJECT_ROOT})
  const {registry} = await loadProviderRegistry(config)
  const names = registry.list().flatMap(({descriptor}) => [descriptor.defaultModel, ...(descriptor.models ?? [])])
  return [...new Set([...names, SESSIONS.B.model, SESSIONS.D.model, SESSIONS.A.model])]
}

/** A `synapse` on PATH that runs this checkout, as `npm link` would give, under the tests' runtime. */
export function installShim(sandbox: Sandbox): NodeJS.ProcessEnv {
  const bin = join(sandbox.root, 'bin')
  mkdirSync(bin, {recursive: true})
  const shim = join(bin, 'synapse')
  const runtime = testRuntime()
  writeFileSync(shim, `#!/bin/sh\nexec ${[...runtime.command, RUN_JS].map((word) => shellQuote(word)).join(' ')} "$@"\n`)
  chmodSync(shim, 0o755)
  mkdirSync(sandbox.home, {recursive: true})
  return {...sandbox.env, ...runtime.env, PATH: `${bin}:${sandbox.env.PATH}`}
}

/** The setup command that `synapse autocomplete <shell>` tells the user to run, e.g. printf "$(…)" >> ~/.bashrc; source ~/.bashrc. */
export function setupCommand(instructions: string, rcFile: string): string {
  const line = instructions.split('\n').find((l) => l.includes('printf') && l.includes(`>> ~/${rcFile}`))
  if (!line) throw new Error(`no setup command for ~/${rcFile} in: ${instructions}`)
  return line.trim()
}

const reportedMissing = new Set<string>()

/**
 * Checks that a program the tests drive is installed. On CI (CI set) a missing one fails the test:
 * .ci/run installs zsh (Debian's package); bash and util-linux's `script` are on every Debian machine.
 * Elsewhere the tests that need it are pending, with the reason said once, so that `npm test` passes
 * on a machine without zsh.
 */
export function requireProgram(context: Mocha.Context, program: string): void {
  if (spawnSync('sh', ['-c', `command -v ${program}`]).status === 0) return
  const remedy = `apt-get install -y ${program}`
  if (process.env.CI) throw new Error(`${program} is not installed; .ci/run installs what the tests need (${remedy}).`)
  if (!reportedMissing.has(program)) {
    reportedMissing.add(program)
    console.log(`      (pending: ${program} is not installed, so its tests do not run; ${remedy} to run them, and CI=true makes this a failure)`)
  }

  context.skip()
}

export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", String.raw`'\''`)}'`
}

/**
 * An interactive shell on a pseudo-terminal (through util-linux `script`), typed into as a person
 * would: what readline or zle does with a TAB is what this sees.
 */
export class Terminal {
  private readonly child: ChildProcessWithoutNullStreams
  output = ''

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('script', ['-qfec', command, '/dev/null'], {env: {...env, INPUTRC: '/dev/null', TERM: 'dumb'}})
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk))
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk))
  }

  /** Types `keys` and resolves once the output holds `count` lines `ARGS<…>` in all, returning the last. */
  async argsAfter(keys: string, count: number): Promise<string> {
    this.child.stdin.write(keys)
    await this.until(() => this.args().length >= count)
    return this.args()[count - 1]
  }

  /** What the test's `synapse` function printed so far: its arguments joined with "|". */
  args(): string[] {
    return [...this.output.matchAll(/ARGS<([^>\r\n]*)>/g)].map((m) => m[1])
  }

  async close(): Promise<void> {
    this.child.stdin.write('exit\n')
    this.child.stdin.end()
    await new Promise((resolve) => this.child.on('close', resolve))
  }

  type(keys: string): void {
    this.child.stdin.write(keys)
  }

  async until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out; the terminal shows: ${JSON.stringify(this.output)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}
