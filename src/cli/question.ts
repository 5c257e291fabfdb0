import {SynapseError} from '../core/errors.js'

/**
 * Asks a yes/no question on the terminal (stdin, the question on stderr so stdout stays the command's).
 * Yes is `y` or `yes`; anything else, Enter included, is no. Ctrl-C or Ctrl-D cancels: it throws
 * INTERRUPTED (exit 130), as an interrupted run ends, never an error that reads like a bug.
 */
export async function askYesNo(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<boolean> {
  const {createInterface} = await import('node:readline')
  const rl = createInterface({input, output, terminal: Boolean(input.isTTY)})
  try {
    return await new Promise<boolean>((resolve, reject) => {
      let settled = false
      const cancel = () => {
        if (settled) return
        settled = true
        // The user's Ctrl-C left the cursor after the question.
        output.write('\n')
        reject(new SynapseError('INTERRUPTED', 'Cancelled.', {exitCode: 130}))
      }

      rl.on('SIGINT', cancel)
      rl.on('close', cancel)
      rl.question(question, (answer) => {
        settled = true
        resolve(/^y(es)?$/i.test(answer.trim()))
      })
    })
  } finally {
    rl.close()
  }
}
