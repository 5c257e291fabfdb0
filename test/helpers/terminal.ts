import {spawn} from 'node:child_process'

import {RUN_JS} from './cli.js'
import type {Sandbox} from './sandbox.js'
import {testRuntime} from './spawn.js'

export interface TerminalOptions {
  /**
   * The terminal's width (with 50 rows). Unset, the terminal keeps the size `script` gives it (none):
   * Deno draws its progress line, and the escapes that clear it, only on a terminal with a size.
   */
  columns?: number
  env?: NodeJS.ProcessEnv
}

/**
 * `synapse …args` on a pseudo-terminal (util-linux `script`), typed
 * into as a person would: stdout and stderr as one screen. TERM=dumb keeps colour and cursor
 * movement out of what the screen shows.
 */
export class Terminal {
  /** The exit code, once synapse has ended. */
  readonly done: Promise<null | number>
  private readonly child
  private text = ''

  constructor(sandbox: Sandbox, args: string[], options: TerminalOptions = {}) {
    const [command, ...prefix] = testRuntime().command
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`
    const size = options.columns === undefined ? '' : `stty cols ${options.columns} rows 50; `
    const line = `${size}exec ${[command, ...prefix, RUN_JS, ...args].map(word => quote(word)).join(' ')}`
    this.child = spawn('script', ['-qfec', line, '/dev/null'], {env: {...sandbox.env, ...testRuntime().env, TERM: 'dumb', ...options.env}})
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.text += chunk))
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.text += chunk))
    this.done = new Promise(resolve => this.child.on('close', code => resolve(code)))
  }

  /** The screen's lines as the program wrote them. */
  lines(): string[] {
    return this.text.replaceAll('\r\n', '\n').replace(/\n$/, '').split('\n')
  }

  /** Everything the screen showed, byte for byte. */
  output(): string {
    return this.text
  }

  /** Ends the program if it is still running (a test that failed half-way leaves no process behind). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }

  type(keys: string): void {
    this.child.stdin.write(keys)
  }

  /** Resolves once the screen shows `text`; rejects after 20 s with what it shows. */
  async until(text: string): Promise<void> {
    const deadline = Date.now() + 20_000
    while (!this.text.includes(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; the terminal shows ${JSON.stringify(this.text)}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
}

/** Runs `synapse …args` on a terminal to its end, typing nothing: its exit code and screen lines. */
export async function runOnTerminal(sandbox: Sandbox, args: string[], options?: TerminalOptions): Promise<{code: null | number; lines: string[]}> {
  const terminal = new Terminal(sandbox, args, options)
  const code = await terminal.done
  return {code, lines: terminal.lines()}
}
