import {execFile} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {RUN_JS} from './cli.js'
import type {Sandbox} from './sandbox.js'
import {testRuntime} from './spawn.js'

const run = promisify(execFile)

/** The prompt of the shell in the terminal: short, and unlike anything synapse prints. */
export const SHELL_PROMPT = '$ '

/**
 * A real terminal: a tmux server of its own (its socket in the sandbox), one window of a fixed
 * size running bash, where `synapse` runs the built CLI as a user's would. Everything the pane is
 * sent is recorded raw (pipe-pane), so tests can check the escape sequences, not only the screen.
 * bash's own bracketed paste is off (INPUTRC), so the only such sequences recorded are synapse's.
 */
export class TmuxTerminal {
  private constructor(
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly rawLog: string,
  ) {}

  /** Starts bash in a terminal of `columns` × `rows`, with `synapse` on its PATH. */
  static async start(sandbox: Sandbox, env: NodeJS.ProcessEnv = {}, size = {columns: 100, rows: 30}): Promise<TmuxTerminal> {
    const bin = join(sandbox.root, 'bin')
    mkdirSync(bin, {recursive: true})
    const runtime = testRuntime()
    const command = [...runtime.command, RUN_JS].map(word => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')
    writeFileSync(join(bin, 'synapse'), `#!/bin/sh\nexec ${command} "$@"\n`)
    chmodSync(join(bin, 'synapse'), 0o755)
    const inputrc = join(sandbox.root, 'inputrc')
    writeFileSync(inputrc, 'set enable-bracketed-paste off\n')
    // An interactive bash sets its own PS1 over an inherited one; an rc file has the last word.
    const bashrc = join(sandbox.root, 'bashrc')
    writeFileSync(bashrc, `PS1='${SHELL_PROMPT}'\n`)
    const fullEnv = {
      ...sandbox.env,
      ...runtime.env,
      ...env,
      // bash writes its history when tmux hangs up on it, perhaps while the sandbox is being removed.
      HISTFILE: '/dev/null',
      INPUTRC: inputrc,
      PATH: `${bin}:${process.env.PATH}`,
    }
    const terminal = new TmuxTerminal(join(sandbox.root, 'tmux.sock'), fullEnv, join(sandbox.root, 'pane.raw'))
    // The server takes its environment from this client, and the pane from the server.
    await terminal.tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'test',
      '-x',
      String(size.columns),
      '-y',
      String(size.rows),
      `bash --rcfile '${bashrc}' --noprofile`,
    )
    await terminal.tmux('pipe-pane', '-t', 'test', '-o', `cat >> '${terminal.rawLog}'`)
    await terminal.waitFor(screen => screen.endsWith(SHELL_PROMPT.trimEnd()), 'the shell prompt')
    return terminal
  }

  /** Ends the terminal and everything in it; resolves once the server is gone, so nothing writes into the sandbox any more. */
  async kill(): Promise<void> {
    await this.tmux('pipe-pane', '-t', 'test').catch(() => {})
    await this.tmux('kill-server').catch(() => {})
    const deadline = Date.now() + 5000
    while (existsSync(this.socket) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
  }

  /** Pastes `text` as a terminal does: bracketed when the program asked for it, newlines as CR. */
  async paste(text: string): Promise<void> {
    await this.tmux('set-buffer', '-b', 'paste', text)
    await this.tmux('paste-buffer', '-p', '-d', '-b', 'paste', '-t', 'test')
  }

  /** What the pane has been sent so far, escape sequences and all. */
  raw(): string {
    return existsSync(this.rawLog) ? readFileSync(this.rawLog, 'latin1') : ''
  }

  /** The screen as text, trailing blank lines and spaces removed. */
  async screen(): Promise<string> {
    const {stdout} = await this.tmux('capture-pane', '-p', '-t', 'test')
    return stdout
      .split('\n')
      .map(line => line.trimEnd())
      .join('\n')
      .trimEnd()
  }

  /** Presses keys by tmux's names: Enter, Tab, Up, C-c, C-d. */
  async press(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'test', ...keys)
  }

  /** Types `text` literally, then Enter. */
  async type(text: string, {enter = true} = {}): Promise<void> {
    if (text !== '') await this.tmux('send-keys', '-t', 'test', '-l', text)
    if (enter) await this.press('Enter')
  }

  /** Polls the screen until `done` holds, at most `timeoutMs`; returns that screen. */
  async waitFor(done: ((screen: string) => boolean) | string, what: string, timeoutMs = 15_000): Promise<string> {
    const test = typeof done === 'string' ? (screen: string) => screen.includes(done) : done
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const screen = await this.screen()
      if (test(screen)) return screen
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen shows:\n${screen}`)
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  }

  private tmux(...args: string[]): Promise<{stderr: string; stdout: string}> {
    return run('tmux', ['-S', this.socket, ...args], {env: this.env})
  }
}
