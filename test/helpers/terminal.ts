import {spawn} from 'node:child_process'

import {RUN_JS} from './cli.js'
import type {Sandbox} from './sandbox.js'
import {testRuntime} from './spawn.js'

/** `synapse …` on a pseudo-terminal (util-linux `script`) of `columns` columns, typed into as a person would. */
export class Terminal {
  readonly done: Promise<null | number>
  output = ''
  private readonly child

  constructor(sandbox: Sandbox, args: string[], columns = 80) {
    const [command, ...prefix] = testRuntime().command
    const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`
    const line = `stty cols ${columns} rows 50; exec ${[command, ...prefix, RUN_JS, ...args].map((word) => quote(word)).join(' ')}`
    this.child = spawn('script', ['-qfec', line, '/dev/null'], {env: {...sandbox.env, ...testRuntime().env, TERM: 'dumb'}})
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk))
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk))
    this.done = new Promise((resolve) => this.child.on('close', (code) => resolve(code)))
  }

  /** The screen's lines as the program wrote them. */
  lines(): string[] {
    return this.output.replaceAll('\r\n', '\n').replace(/\n$/, '').split('\n')
  }

  type(keys: string): void {
    this.child.stdin.write(keys)
  }

  async until(text: string): Promise<void> {
    const deadline = Date.now() + 20_000
    while (!this.output.includes(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; the terminal shows ${JSON.stringify(this.output)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

export async function onTerminal(sandbox: Sandbox, args: string[], columns?: number): Promise<{code: null | number; lines: string[]}> {
  const terminal = new Terminal(sandbox, args, columns)
  const code = await terminal.done
  return {code, lines: terminal.lines()}
}
