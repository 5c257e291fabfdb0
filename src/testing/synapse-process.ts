// Running synapse as a user does, in a sandbox: the built CLI of this synapse-cli package, in a
// child process. A plugin's end-to-end tests run the CLI that loads their plugin this way.
import {type ChildProcess, type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Sandbox} from './sandbox.js'

/**
 * The synapse-cli package this module belongs to: two levels above it, whether it runs from
 * src/testing (the host's own tests, through tsx) or from the build (dist/testing, dist/chunks).
 */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The launcher users run as `synapse`. */
export const RUN_JS = join(PROJECT_ROOT, 'bin', 'run.js')

export interface Exit {
  code: null | number
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

/** What runs bin/run.js: the command line before it, and what it adds to the environment. */
export interface Runtime {
  command: string[]
  env: NodeJS.ProcessEnv
  name: 'deno' | 'node'
}

/** The `deno` devDependency's executable. */
export const DENO = join(PROJECT_ROOT, 'node_modules', '.bin', 'deno')

/**
 * The runtime the end-to-end tests run synapse under: this process's Node, or Deno when
 * SYNAPSE_TEST_RUNTIME is "deno" (test/deno/mocharc.json sets it, to run the same files again).
 */
export function testRuntime(): Runtime {
  const name = process.env.SYNAPSE_TEST_RUNTIME ?? 'node'
  if (name === 'node') return {command: [process.execPath], env: {}, name}
  if (name === 'deno') {
    return {
      // What deno.jsonc's `synapse` task runs.
      command: [DENO, 'run', '-A'],
      // Deno caches compiled code in DENO_DIR, by default under XDG_CACHE_HOME, which every sandbox
      // makes anew: without one shared directory every run would start cold (`sessions list` ~0.75 s
      // instead of ~0.25 s here).
      // A user's cache persists between runs, as Node's compile cache in the temporary directory does.
      env: {DENO_DIR: process.env.DENO_DIR ?? join(PROJECT_ROOT, 'node_modules', '.cache', 'synapse-test-deno')},
      name,
    }
  }

  throw new Error(`SYNAPSE_TEST_RUNTIME is "${name}"; expected "node" or "deno".`)
}

/** `word` as sh reads it: in single quotes. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", String.raw`'\''`)}'`
}

/** `synapse ARGS` under the tests' runtime, as one sh command line. */
export function synapseCommandLine(args: string[] = []): string {
  return [...testRuntime().command, RUN_JS, ...args].map(word => shellQuote(word)).join(' ')
}

export interface SpawnOptions {
  /** The working directory; the test process's by default. */
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** The command line before bin/run.js; testRuntime()'s by default. */
  runtime?: string[]
}

/** `synapse …` as a user runs it: a child process of bin/run.js in the sandbox's environment. */
export class SynapseProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<Exit>
  stderr = ''
  stdout = ''

  constructor(sandbox: Sandbox, args: string[], options: SpawnOptions = {}) {
    const runtime = testRuntime()
    const [command, ...prefix] = options.runtime ?? runtime.command
    this.child = spawn(command, [...prefix, RUN_JS, ...args], {cwd: options.cwd, env: {...sandbox.env, ...runtime.env, ...options.env}})
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk))
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.exited = new Promise(resolve => {
      this.child.on('close', (code, signal) => resolve({code, signal, stderr: this.stderr, stdout: this.stdout}))
    })
  }

  /** Resolves once stdout contains `text`; rejects if the process ends first or after `timeoutMs`. */
  async waitForStdout(text: string, timeoutMs = 10_000): Promise<void> {
    await this.waitFor('stdout', text, timeoutMs)
  }

  /** Resolves once stderr contains `text`; rejects if the process ends first or after `timeoutMs`. */
  async waitForStderr(text: string, timeoutMs = 10_000): Promise<void> {
    await this.waitFor('stderr', text, timeoutMs)
  }

  private async waitFor(stream: 'stderr' | 'stdout', text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this[stream].includes(text)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`synapse exited before printing ${JSON.stringify(text)} to ${stream}; stdout: ${this.stdout}; stderr: ${this.stderr}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)} on ${stream}; stdout: ${this.stdout}; stderr: ${this.stderr}`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }

  write(text: string): void {
    this.child.stdin.write(text)
  }
}

/** Runs synapse to completion with `input` on stdin (closed afterwards, as a pipe would be). */
export async function synapse(sandbox: Sandbox, args: string[], options: SpawnOptions & {input?: string} = {}): Promise<Exit> {
  const process = new SynapseProcess(sandbox, args, options)
  process.child.stdin.end(options.input ?? '')
  return process.exited
}

/**
 * Starts a TypeScript fixture in a Node process of its own, through tsx (the caller needs tsx as a
 * dev dependency), with stdout and stderr piped: for a test that talks to it or kills it mid-way.
 */
export function startWorker(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
}

/** How a started worker ended, with what it wrote to stderr. */
export function finished(child: ChildProcess): Promise<{code: null | number; signal: NodeJS.Signals | null; stderr: string}> {
  return new Promise(resolve => {
    let stderr = ''
    child.stderr!.on('data', chunk => (stderr += chunk))
    child.on('close', (code, signal) => resolve({code, signal, stderr}))
  })
}

/** Runs a TypeScript fixture to its end in a process of its own (a second synapse run, as a user would start one). */
export async function runWorker(script: string, args: string[]): Promise<{code: null | number; stderr: string}> {
  const {code, stderr} = await finished(startWorker(script, args))
  return {code, stderr}
}
