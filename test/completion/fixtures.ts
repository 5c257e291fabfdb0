import {Config} from '@oclif/core'
import {expect} from 'chai'
import {type ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {loadProviderRegistry} from '../../src/plugins/extensions.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {requireProgram} from '../helpers/programs.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {shellQuote, synapse, synapseCommandLine, testRuntime} from '../helpers/spawn.js'

export {shellQuote} from '../helpers/spawn.js'

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
  writeFileSync(shim, `#!/bin/sh\nexec ${synapseCommandLine()} "$@"\n`)
  chmodSync(shim, 0o755)
  mkdirSync(sandbox.home, {recursive: true})
  return {...sandbox.env, ...runtime.env, PATH: `${bin}:${sandbox.env.PATH}`}
}

/** The setup command that `synapse autocomplete <shell>` tells the user to run, e.g. printf "$(…)" >> ~/.bashrc; source ~/.bashrc. */
export function setupCommand(instructions: string, rcFile: string): string {
  const line = instructions.split('\n').find(l => l.includes('printf') && l.includes(`>> ~/${rcFile}`))
  if (!line) throw new Error(`no setup command for ~/${rcFile} in: ${instructions}`)
  return line.trim()
}

/**
 * What the README says to do: the setup command `synapse autocomplete SHELL` prints, run in that shell,
 * so that its rc file sources the scripts.
 */
export async function setUpCompletion(sandbox: Sandbox, env: NodeJS.ProcessEnv, shell: 'bash' | 'zsh'): Promise<void> {
  const {code, stdout} = await synapse(sandbox, ['autocomplete', shell], {env})
  expect(code).to.equal(0)
  const [flags, rc] = shell === 'bash' ? [['--norc', '--noprofile'], '.bashrc'] : [['-f'], '.zshrc']
  const setup = spawnSync(shell, [...flags, '-c', setupCommand(stdout, rc)], {encoding: 'utf8', env})
  expect(setup.status, setup.stderr).to.equal(0)
}

/** How the end-to-end suites run: TAB answered from the completion cache, or always by the hidden command. */
export const CACHE_MODES = ['from the cache', 'without a cache'] as const
export type CacheMode = (typeof CACHE_MODES)[number]

/** What a shell's end-to-end completion tests run in, made afresh before each test. */
export interface CompletionSetup {
  /** The shim's environment: this synapse on PATH, HOME and the XDG directories in the sandbox. */
  env: NodeJS.ProcessEnv
  mode: CacheMode
  sandbox: Sandbox
}

/**
 * One `describe` per cache mode for `shell` (pending where it is not installed), each test in a fresh
 * sandbox with the shim, the seeded sessions, completion set up as the README says and the cache
 * settled as the mode wants. `tests` registers the tests, which read `setup` as they run.
 */
export function describeCompletion(shell: 'bash' | 'zsh', tests: (setup: CompletionSetup) => void): void {
  for (const mode of CACHE_MODES) {
    describe(`${shell} completion (end to end), ${mode}`, function () {
      this.timeout(60_000)
      const setup = {mode} as CompletionSetup

      before(function () {
        requireProgram(this, shell)
      })

      beforeEach(async () => {
        setup.sandbox = makeSandbox()
        setup.env = installShim(setup.sandbox)
        await seedSessions(setup.sandbox)
        await setUpCompletion(setup.sandbox, setup.env, shell)
        await settleCache(setup.sandbox, setup.env, mode)
      })
      afterEach(() => setup.sandbox.cleanup())

      tests(setup)
    })
  }
}

export function cacheFile(sandbox: Sandbox): string {
  return join(sandbox.root, 'cache', 'synapse', 'completion', 'values.tsv')
}

/**
 * From the cache: a store command writes it, for the database as it is now (call again after changing
 * the database behind synapse's back). Without one: a file stands where its directory would go, so
 * that nothing can write it and every TAB asks the hidden command.
 */
export async function settleCache(sandbox: Sandbox, env: NodeJS.ProcessEnv, mode: CacheMode, cwd?: string): Promise<void> {
  if (mode === 'without a cache') {
    mkdirSync(join(sandbox.root, 'cache', 'synapse'), {recursive: true})
    writeFileSync(join(sandbox.root, 'cache', 'synapse', 'completion'), '')
    return
  }
  // The cache holds for the directory it was written in (a project file there could change the settings).
  const {code, stderr} = await synapse(sandbox, ['sessions', 'list'], {cwd, env})
  expect({code, stderr}).to.deep.equal({code: 0, stderr: ''})
  expect(existsSync(cacheFile(sandbox))).to.equal(true)
}

/**
 * How bash cuts a line into COMP_WORDS: at white space outside quotes (the quotes stay), and around
 * runs of ":" and "=" (COMP_WORDBREAKS). Checked against what bash gives a completion function.
 */
function bashWords(line: string): string[] {
  const words = (line.match(/(?:"[^"]*"|[^\s"])+/g) ?? []).flatMap(word => (word.startsWith('"') ? [word] : word.split(/([:=]+)/).filter(Boolean)))
  return /\s$/.test(line) ? [...words, ''] : words
}

/**
 * What bash offers for `line` (the cursor at its end), in a bash that sourced ~/.bashrc in `env`: the
 * registered function's COMPREPLY, one per line.
 */
export function completeInBash(env: NodeJS.ProcessEnv, line: string): string[] {
  const words = bashWords(line)
  const script = `source ~/.bashrc
spec=$(complete -p synapse) || exit 3
fn=\${spec#*-F }; fn=\${fn%% *}
COMP_LINE=${shellQuote(line)}
COMP_POINT=\${#COMP_LINE}
COMP_WORDS=(${words.map(word => shellQuote(word)).join(' ')})
COMP_CWORD=${words.length - 1}
COMPREPLY=()
"$fn" synapse "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"
`
  const {status, stderr, stdout} = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {encoding: 'utf8', env})
  expect({status, stderr}).to.deep.equal({status: 0, stderr: ''})
  return stdout.split('\n').filter(Boolean)
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
    return [...this.output.matchAll(/ARGS<([^>\r\n]*)>/g)].map(m => m[1])
  }

  async close(): Promise<void> {
    this.child.stdin.write('exit\n')
    this.child.stdin.end()
    await new Promise(resolve => this.child.on('close', resolve))
  }

  type(keys: string): void {
    this.child.stdin.write(keys)
  }

  async until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out; the terminal shows: ${JSON.stringify(this.output)}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
}

/**
 * Model names as an imported export or another program could have stored them: each would run
 * `touch pwned…` in the shell's directory if completion inserted it unquoted.
 */
export const HOSTILE_MODELS = {
  backticks: 'evil2-`touch${IFS}pwned2`',
  quotes: `evil3-x;touch\${IFS}pwned3;'"&|<q\\z`,
  spaces: 'evil4 with spaces',
  substitution: 'evil1-$(touch${IFS}pwned)',
}
/** Never offered: no quoting makes a newline or an escape sequence safe on a command line. */
export const CONTROL_MODELS = ['evil5-\ntouch pwned5', 'evil6-\u001B]0;pwned\u0007', 'evil7-\u009B2J', 'evil8-\ttab']
/** A session whose title would retitle the terminal and clear it, were it printed raw. */
export const HOSTILE_TITLE = 'Zeta \u001B]0;pwned\u0007\u001B[2J'

/** Sessions that use HOSTILE_MODELS and CONTROL_MODELS, one titled HOSTILE_TITLE. */
export async function seedHostileSessions(sandbox: Sandbox): Promise<void> {
  const store = await openSqliteStore({path: databasePath(sandbox)})
  try {
    for (const model of [...Object.values(HOSTILE_MODELS), ...CONTROL_MODELS]) await store.create({model, provider: 'openai', title: `uses ${model}`})
    await store.create({id: id('01JX6ZZZZ', 'Z'), title: HOSTILE_TITLE})
  } finally {
    await store.close()
  }
}

/**
 * Completes each of HOSTILE_MODELS at `terminal` (a shell whose `synapse` prints ARGS<…>, none typed
 * yet) and presses Enter: each must arrive as one literal word, inserted as `quoteCommand` (a command
 * line to which the value is appended) quotes it; CONTROL_MODELS must not be offered at all.
 */
export async function expectHostileValuesInert(terminal: Terminal, quoteCommand: string[]): Promise<void> {
  expect(await terminal.argsAfter('synapse -m evil1\t\n', 1)).to.equal(`-m|${HOSTILE_MODELS.substitution}`)
  expect(await terminal.argsAfter('synapse -m evil2\t\n', 2)).to.equal(`-m|${HOSTILE_MODELS.backticks}`)
  expect(await terminal.argsAfter('synapse chat --model evil3\t\n', 3)).to.equal(`chat|--model|${HOSTILE_MODELS.quotes}`)
  expect(await terminal.argsAfter('synapse --model=evil4\t\n', 4)).to.equal(`--model=${HOSTILE_MODELS.spaces}`)
  for (const model of Object.values(HOSTILE_MODELS)) {
    const [program, ...args] = quoteCommand
    const quoted = spawnSync(program, [...args, model], {encoding: 'utf8'}).stdout
    expect(quoted).not.to.equal(model)
    expect(terminal.output).to.include(quoted)
  }
  // TAB leaves the typed word as it was.
  for (const [index, prefix] of ['evil5', 'evil6', 'evil7', 'evil8'].entries()) {
    expect(await terminal.argsAfter(`synapse -m ${prefix}\t\n`, 5 + index)).to.equal(`-m|${prefix}`)
  }
  // Session titles complete too (each session is titled "uses <model>"), as inert as the model names.
  expect(await terminal.argsAfter('synapse -s uses\\ evil1\t\n', 9)).to.equal(`-s|uses ${HOSTILE_MODELS.substitution}`)
  expect(await terminal.argsAfter('synapse sessions show uses\\ evil2\t\n', 10)).to.equal(`sessions|show|uses ${HOSTILE_MODELS.backticks}`)
  expect(await terminal.argsAfter('synapse sessions fork uses\\ evil3\t\n', 11)).to.equal(`sessions|fork|uses ${HOSTILE_MODELS.quotes}`)
  expect(await terminal.argsAfter('synapse chat --session uses\\ evil4\t\n', 12)).to.equal(`chat|--session|uses ${HOSTILE_MODELS.spaces}`)
  expect(await terminal.argsAfter('synapse -s uses\\ evil5\t\n', 13)).to.equal('-s|uses evil5')
}
