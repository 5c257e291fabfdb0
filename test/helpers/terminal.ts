import {spawn} from 'node:child_process'

import {RUN_JS} from './cli.js'
import type {Sandbox} from './sandbox.js'
import {testRuntime} from './spawn.js'

/** synapse on a pseudo-terminal: what it shows (stdout and stderr as one screen), and keys typed into it. */
export interface Terminal {
  /** The exit code, once synapse has ended. */
  done: Promise<number | null>
  output(): string
  type(text: string): void
  /** Resolves once the screen shows `text`; rejects after 20 s with what it shows. */
  until(text: string): Promise<void>
}

/**
 * `synapse …args` on a pseudo-terminal (util-linux `script`), typed into as a person would. TERM=dumb
 * keeps colour and cursor movement out of what the screen shows.
 */
export function onTerminal(sandbox: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}): Terminal {
  const [command, ...prefix] = testRuntime().command
  const line = [command, ...prefix, RUN_JS, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qfec', line, '/dev/null'], {env: {...sandbox.env, ...testRuntime().env, TERM: 'dumb', ...env}})
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    done,
    output: () => output,
    type: (text) => child.stdin.write(text),
    async until(text) {
      const deadline = Date.now() + 20_000
      while (!output.includes(text)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; the terminal shows ${JSON.stringify(output)}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
  }
}
