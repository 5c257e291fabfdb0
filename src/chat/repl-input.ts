import {createInterface, type Interface} from 'node:readline'

import {type ComposedMessage, type InputLine, MessageComposer} from './input.js'
import {REPL_HISTORY_LIMIT, ReplHistory} from './repl-history.js'

/** Asks the terminal to mark a paste with ESC[200~ … ESC[201~ (xterm's bracketed paste mode), and stops asking. */
export const BRACKETED_PASTE_ON = '\u001B[?2004h'
export const BRACKETED_PASTE_OFF = '\u001B[?2004l'

export interface ReplInputOptions {
  /** The slash commands TAB completes. */
  commands: readonly string[]
  /** Shown while a message goes on over several lines. */
  continuationPrompt: string
  /** Offered with the up arrow and added to; this run's only by default. */
  history?: ReplHistory
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream
  prompt: string
  terminal: boolean
}

type Keypress = {code?: string; name?: string; sequence?: string}

/**
 * The REPL's input on top of node:readline: whole messages rather than lines. On a terminal it
 * turns on bracketed paste, so that a paste of several lines is one message sent by the Enter after
 * it; it completes slash commands with TAB, keeps whole messages (not their lines) in the history,
 * and lets Ctrl-C clear what was typed. On a pipe it reads lines as they come, and prints nothing.
 */
export class ReplInput {
  private asking?: {cancel(): void; resolve(answer: string | undefined): void}
  private readonly composer = new MessageComposer()
  private ended = false
  /** Ctrl-D was pressed at a question with nothing typed: readline is about to close itself for it. */
  private endOfInputAtQuestion = false
  private readonly history: ReplHistory
  private pasting = false
  /** The line being edited began with pasted text, and nothing typed has followed the paste yet. */
  private lineStartsPasted = false
  private lineEndsPasted = false
  private readonly queue: InputLine[] = []
  private readonly rl: Interface
  private strayTilde = false
  private wake?: () => void

  constructor(private readonly options: ReplInputOptions) {
    const {input, output, terminal} = options
    this.history = options.history ?? ReplHistory.inMemory()
    this.rl = createInterface({
      completer: terminal ? (line: string) => this.complete(line) : undefined,
      history: [...this.history.entries],
      historySize: REPL_HISTORY_LIMIT,
      input,
      output: terminal ? output : undefined,
      prompt: options.prompt,
      terminal,
    })
    // Tagged as they are emitted: a paste is decoded in one go, long before the loop reads its lines.
    this.rl.on('line', (text: string) => {
      // A CR inside a line is no key the user pressed (Enter and a pasted newline end the line): it
      // is Node 24's readline handing back a recalled entry of several lines with CRs between them.
      const where = this.pasting ? {} : {endsPasted: this.lineEndsPasted, startsPasted: this.lineStartsPasted}
      this.queue.push({pasted: this.pasting, text: text.replaceAll('\r', '\n'), ...where})
      // The rest of a paste still under way starts the next line.
      this.lineStartsPasted = this.pasting
      this.lineEndsPasted = false
      // readline has just moved to a fresh line, where the rest of the paste is echoed: mark it as
      // going on. Both prompts are two columns wide, so readline's idea of the cursor stays right.
      if (this.pasting && terminal) output.write(options.continuationPrompt)
      this.wake?.()
    })
    // readline ends itself at a Ctrl-D on an empty line, a question's line too, by calling its own
    // close(). A question asked over the REPL's input (the /clear confirmation) must not end the
    // REPL: there Ctrl-D cancels the question, as Ctrl-C does. The end of a pipe still closes.
    const closeInterface = this.rl.close.bind(this.rl)
    this.rl.close = () => {
      if (this.endOfInputAtQuestion && this.asking) {
        this.endOfInputAtQuestion = false
        this.asking.cancel()
        return
      }

      closeInterface()
    }

    this.rl.on('close', () => {
      this.ended = true
      this.asking?.resolve(undefined)
      this.wake?.()
    })
    if (terminal) {
      // readline's own listener runs first; it ignores the paste markers, which arrive here after it.
      input.on('keypress', this.onKeypress)
      // This one runs before readline's, to know why readline closes itself.
      input.prependListener('keypress', this.beforeReadline)
      output.write(BRACKETED_PASTE_ON)
      // However the process ends (an uncaught error, process.exit), the shell must not inherit the mode.
      process.on('exit', this.restoreTerminal)
    }
  }

  /**
   * Asks a question on a terminal and resolves with the answer; with undefined when Ctrl-C or
   * Ctrl-D cancels it (the input stays open) or the input ends. The answer is not added to the history.
   */
  ask(query: string): Promise<string | undefined> {
    if (this.ended) return Promise.resolve(undefined)
    return new Promise(resolve => {
      const controller = new AbortController()
      const settle = (answer: string | undefined) => {
        this.asking = undefined
        this.restoreHistory()
        resolve(answer)
      }
      // readline's cancelling of the question moves to a fresh line.
      this.asking = {
        cancel: () => {
          controller.abort()
          settle(undefined)
        },
        resolve: settle,
      }
      this.rl.question(query, {signal: controller.signal}, settle)
    })
  }

  close(): void {
    this.options.input.off('keypress', this.onKeypress)
    this.options.input.off('keypress', this.beforeReadline)
    this.endOfInputAtQuestion = false
    this.restoreTerminal()
    process.off('exit', this.restoreTerminal)
    this.rl.close()
  }

  /**
   * Runs `task` (a pager) with the terminal handed over to it: nothing read from the input, raw mode
   * and bracketed paste off; all three come back when it ends.
   */
  async handOver<T>(task: () => Promise<T>): Promise<T> {
    const input = this.options.input as NodeJS.ReadableStream & {isRaw?: boolean; setRawMode?: (raw: boolean) => unknown}
    const wasRaw = Boolean(input.isRaw)
    this.rl.pause()
    this.restoreTerminal()
    if (wasRaw) input.setRawMode?.(false)
    try {
      return await task()
    } finally {
      if (wasRaw) input.setRawMode?.(true)
      if (this.options.terminal) this.options.output.write(BRACKETED_PASTE_ON)
      this.rl.resume()
    }
  }

  /**
   * Ctrl-C at the prompt: cancels a question, or drops what was typed and not sent, and shows a
   * fresh prompt. False when there was nothing to drop, which means the user wants to leave.
   */
  discard(): boolean {
    if (this.asking) {
      this.asking.cancel()
      return true
    }

    if (this.rl.line === '' && !this.composer.pending) return false
    this.composer.reset()
    if (this.options.terminal) {
      // What was typed stays on the screen, as in a shell, and the fresh prompt goes below it: what
      // Node's own REPL does with readline's (undocumented) clearLine; failing that, erase the line.
      const clearLine = (this.rl as unknown as {clearLine?: () => void}).clearLine
      if (typeof clearLine === 'function') clearLine.call(this.rl)
      else this.rl.write(null, {ctrl: true, name: 'u'})
      this.rl.setPrompt(this.options.prompt)
      this.rl.prompt()
    }

    return true
  }

  /** Something was started (a block, a continued line, a paste) and not sent. */
  get unfinished(): boolean {
    return this.composer.pending
  }

  /** The next message, or undefined once the input has ended (Ctrl-D, the end of a pipe, close()). */
  async next(): Promise<ComposedMessage | undefined> {
    for (;;) {
      const line = this.queue.shift()
      if (line) {
        const message = this.composer.feed(line)
        if (message) {
          this.remember(message.text)
          return message
        }

        continue
      }

      // Lines a pipe delivered before it closed are still read; the end comes after them.
      if (this.ended) return undefined
      if (this.options.terminal) {
        this.rl.setPrompt(this.composer.pending ? this.options.continuationPrompt : this.options.prompt)
        // The end of a paste may be on the line already, waiting for its Enter: keep the cursor after it.
        this.rl.prompt(true)
      }

      await new Promise<void>(resolve => {
        this.wake = resolve
      })
      this.wake = undefined
    }
  }

  /** Listens for Ctrl-C while the input is a terminal in raw mode, where it is a key, not a signal. */
  onInterrupt(listener: () => void): void {
    this.rl.on('SIGINT', listener)
  }

  private complete(line: string): [string[], string] {
    // A TAB in pasted text, or in a prompt, is a character: it stays in the text.
    if (this.pasting || !line.startsWith('/') || /\s/.test(line)) return [['\t'], '']
    const matches = this.options.commands.filter(command => command.startsWith(line.toLowerCase()))
    return [matches.length > 0 ? matches : [...this.options.commands], line]
  }

  private readonly beforeReadline = (_text: string | undefined, key: (Keypress & {ctrl?: boolean}) | undefined) => {
    this.endOfInputAtQuestion = Boolean(this.asking && key?.ctrl && key.name === 'd' && this.rl.line === '')
  }

  private readonly onKeypress = (_text: string | undefined, key: Keypress | undefined) => {
    if (key?.name === 'paste-start' || key?.name === 'paste-end') {
      this.pasteMarker(key.name === 'paste-start')
      return
    }

    // Deno's readline decodes ESC[200~ as a key "[200" and a "~" it types into the line: the marker
    // still tells where the paste starts or ends, and the stray "~" is taken back.
    if (key?.code === '[200' || key?.code === '[201') {
      this.pasteMarker(key.code === '[200')
      this.strayTilde = true
      return
    }

    if (this.strayTilde) {
      this.strayTilde = false
      if (key?.sequence === '~') return void this.rl.write(null, {name: 'backspace'})
    }

    // A key typed after a paste: the line no longer ends with pasted text. (Enter reaches this
    // listener after readline has already ended the line with it.)
    if (!this.pasting) this.lineEndsPasted = false
  }

  private pasteMarker(start: boolean): void {
    this.pasting = start
    if (start && this.rl.line === '') this.lineStartsPasted = true
    if (!start) this.lineEndsPasted = true
  }

  /** The history holds whole messages: readline added each of their lines, and answers to questions. */
  private remember(text: string): void {
    if (text !== '') this.history.add(text)
    this.restoreHistory()
  }

  private restoreHistory(): void {
    // `history` is the array readline was given and navigates; Node and Deno both let it be replaced.
    ;(this.rl as unknown as {history: string[]}).history = [...this.history.entries]
  }

  private readonly restoreTerminal = () => {
    if (this.options.terminal) this.options.output.write(BRACKETED_PASTE_OFF)
  }
}
