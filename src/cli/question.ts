import {SynapseError} from '../core/errors.js'

export interface QuestionOptions {
  /** The one line a Ctrl-C ends the command with; say what was left undone. */
  cancelled?: string
  input?: NodeJS.ReadStream
  output?: NodeJS.WritableStream
}

/**
 * Asks a yes/no question on the terminal (stdin, the question on stderr so stdout stays the command's).
 * Yes is `y` or `yes`; anything else, Enter and Ctrl-D (the end of input) included, is no. Ctrl-C
 * cancels: it throws INTERRUPTED (exit 130), as an interrupted run ends, never an error that reads like a bug.
 */
export async function askYesNo(question: string, options: QuestionOptions = {}): Promise<boolean> {
  const {cancelled = 'Cancelled.', input = process.stdin, output = process.stderr} = options
  const {createInterface} = await import('node:readline')
  const rl = createInterface({input, output, terminal: Boolean(input.isTTY)})
  try {
    return await new Promise<boolean>((resolve, reject) => {
      let settled = false
      // Ctrl-C and Ctrl-D leave the cursor after the question.
      const end = (settle: () => void) => {
        if (settled) return
        settled = true
        output.write('\n')
        settle()
      }

      rl.on('SIGINT', () => end(() => reject(new SynapseError('INTERRUPTED', cancelled, {exitCode: 130}))))
      rl.on('close', () => end(() => resolve(false)))
      rl.question(question, answer => {
        settled = true
        resolve(/^y(es)?$/i.test(answer.trim()))
      })
    })
  } finally {
    rl.close()
  }
}
