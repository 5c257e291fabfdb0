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
      throw new InvalidInputError(`The piped input is larger than ${MAX_STDIN_BYTES / 1024 / 1024} MiB.`, {suggestions: ['Pipe in a smaller excerpt, e.g. with head -c.']})
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
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
