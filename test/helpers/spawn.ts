import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'

import {RUN_JS} from './cli.js'
import type {Sandbox} from './sandbox.js'

export interface Exit {
  code: null | number
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

/** `synapse …` as a user runs it: a child process of bin/run.js in the sandbox's environment. */
export class SynapseProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<Exit>
  stderr = ''
  stdout = ''

  constructor(sandbox: Sandbox, args: string[], options: {env?: NodeJS.ProcessEnv; runtime?: string[]} = {}) {
    const [command, ...prefix] = options.runtime ?? [process.execPath]
    this.child = spawn(command, [...prefix, RUN_JS, ...args], {env: {...sandbox.env, ...options.env}})
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk))
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => resolve({code, signal, stderr: this.stderr, stdout: this.stdout}))
    })
  }

  /** Resolves once stdout contains `text`; rejects if the process ends first or after `timeoutMs`. */
  async waitForStdout(text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.stdout.includes(text)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`synapse exited before printing ${JSON.stringify(text)}; stdout: ${this.stdout}; stderr: ${this.stderr}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; stdout: ${this.stdout}; stderr: ${this.stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  write(text: string): void {
    this.child.stdin.write(text)
  }
}

/** Runs synapse to completion with `input` on stdin (closed afterwards, as a pipe would be). */
export async function synapse(sandbox: Sandbox, args: string[], options: {env?: NodeJS.ProcessEnv; input?: string; runtime?: string[]} = {}): Promise<Exit> {
  const process = new SynapseProcess(sandbox, args, options)
  process.child.stdin.end(options.input ?? '')
  return process.exited
}
