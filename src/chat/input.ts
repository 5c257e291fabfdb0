import {InvalidInputError} from '../core/errors.js'

/** More than this from a pipe is almost certainly a mistake (a binary file, a runaway command). */
export const MAX_STDIN_BYTES = 8 * 1024 * 1024

/** Everything piped into stdin, or undefined when stdin is a terminal. */
export async function readPipedStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string | undefined> {
  if (stdin.isTTY) return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
    size += buffer.length
    if (size > MAX_STDIN_BYTES) {
      throw new InvalidInputError(`The piped input is larger than ${MAX_STDIN_BYTES / 1024 / 1024} MiB.`, {
        suggestions: ['Pipe in a smaller excerpt, e.g. with head -c.'],
      })
    }
    chunks.push(buffer)
  }
  const bytes = Buffer.concat(chunks)
  // A NUL byte is what git and grep take for binary: sent, it would be a page of replacement
  // characters billed as tokens, and stored, a message that not every backend can hold.
  if (bytes.includes(0)) {
    throw new InvalidInputError('The piped input is not text: it holds NUL bytes, as a binary file does; nothing was sent.', {
      suggestions: ['Pipe in text: the part of the file that matters, or what a tool such as strings, pdftotext or xxd makes of it.'],
    })
  }
  return bytes.toString('utf8')
}

/**
 * The prompt of a one-shot chat: the arguments, with piped text after them (`cat notes | synapse
 * "summarise this"`), or the piped text alone. Throws a usage error when there is neither.
 */
export function composePrompt(argumentText: string, piped: string | undefined): string {
  const pipedText = piped?.trim() ?? ''
  const prompt = argumentText.trim()
  if (prompt && pipedText) return `${prompt}\n\n${pipedText}`
  if (prompt || pipedText) return prompt || pipedText
  throw new InvalidInputError('No prompt: give one as an argument, pipe text in, or start the REPL with -r.', {
    suggestions: ['Example: synapse "Explain WAL mode in SQLite"'],
  })
}

/** The line that opens and closes a block of several lines in the REPL. */
export const BLOCK_DELIMITER = '"""'

/** One line as the REPL reads it: ended by the user's Enter, or by a newline inside a bracketed paste. */
export interface InputLine {
  /** Ended by a newline inside a paste, not by the user's Enter. */
  pasted: boolean
  /**
   * Ended by the user's Enter, but its last characters came from a paste (one without a final
   * newline): a trailing backslash there is text, not a continuation.
   */
  endsPasted?: boolean
  /** Its first characters came from a paste: a leading `/` or a `"""` there is text. */
  startsPasted?: boolean
  text: string
}

/** What the user means to send: one prompt or one slash command, perhaps of several lines. */
export interface ComposedMessage {
  /** Holds pasted or recalled text, which is sent as it is: never read as a slash command. */
  literal: boolean
  text: string
}

/**
 * Puts the lines of one message together. A pasted line never ends a message, so a paste waits for
 * the Enter after it; `"""` on a line of its own opens a block that the next such line closes; a
 * typed line ending in a backslash goes on in the next line (the backslash becomes the newline).
 * Pasted text is taken as it is: a `"""` or a trailing backslash inside a paste is only text, and
 * so are a leading `/` or `"""` and a trailing backslash of a line that a paste began or ended.
 */
export class MessageComposer {
  private block = false
  private lines: string[] = []
  private literal = false

  /** Something was started and not sent yet. */
  get pending(): boolean {
    return this.block || this.lines.length > 0
  }

  /** The message this line completes, or undefined while more lines belong to it. */
  feed(line: InputLine): ComposedMessage | undefined {
    // A line holding newlines is a multi-line entry recalled from the history: whole and literal.
    const whole = line.pasted || line.text.includes('\n')
    const literal = whole || Boolean(line.startsPasted)
    const delimiter = !literal && line.text.trim() === BLOCK_DELIMITER
    if (this.block) {
      if (delimiter) return this.take()
      this.add(line.text, literal)
      return undefined
    }

    if (line.pasted) {
      this.add(line.text, true)
      return undefined
    }

    if (delimiter && this.lines.length === 0) {
      this.block = true
      return undefined
    }

    if (!whole && !line.endsPasted && line.text.endsWith('\\')) {
      this.add(line.text.slice(0, -1), literal)
      return undefined
    }

    this.add(line.text, literal)
    return this.take()
  }

  /** Forgets what was started (Ctrl-C). */
  reset(): void {
    this.block = false
    this.lines = []
    this.literal = false
  }

  private add(text: string, literal: boolean): void {
    this.lines.push(text)
    this.literal ||= literal
  }

  private take(): ComposedMessage {
    const message = {literal: this.literal, text: tidy(this.lines)}
    this.reset()
    return message
  }
}

/** One line is trimmed; several keep the first line's indentation (pasted code) but lose blank lines around them. */
function tidy(lines: string[]): string {
  const text = lines.join('\n')
  return text.includes('\n') ? text.replace(/^(?:[ \t]*\n)+/, '').trimEnd() : text.trim()
}
