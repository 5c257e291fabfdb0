import {InvalidInputError, SynapseError} from '../core/errors.js'
import {MAX_STDIN_BYTES} from '../chat/input.js'

/**
 * Reads one line from a terminal without echoing it, as `sudo` and `ssh-add` do: the terminal is put
 * in raw mode, so the typed characters are never shown, not even as asterisks (which would give the
 * length away). Backspace works; Ctrl-C or Ctrl-D on an empty line cancels (exit 130); a bracketed
 * paste's markers and any other escape sequence are dropped, so a pasted key arrives as typed.
 */
export async function readSecretLine(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  const wasRaw = input.isRaw
  // Raw mode before the prompt: a key typed as soon as the prompt shows must not meet a terminal that still echoes.
  input.setRawMode(true)
  output.write(prompt)
  input.setEncoding('utf8')
  input.resume()
  let typed = ''
  let pending = ''
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: string) => {
        // An escape sequence may be split across chunks: keep an unfinished one for the next.
        const text = (pending + chunk).replaceAll(ESCAPE_SEQUENCE, '')
        const unfinished = /\u001B(?:\[[\d;?]*)?$/.exec(text)
        pending = unfinished ? unfinished[0] : ''
        for (const char of unfinished ? text.slice(0, unfinished.index) : text) {
          if (char === '\r' || char === '\n') return finish(() => resolve(typed))
          if (char === '\u0003' || (char === '\u0004' && typed === '')) return finish(() => reject(cancelled()))
          if (char === '\u007F' || char === '\b') typed = [...typed].slice(0, -1).join('')
          else if (char >= ' ') typed += char
          if (typed.length > MAX_STDIN_BYTES) return finish(() => reject(new InvalidInputError('That is far too long to be an API key.')))
        }
      }

      const finish = (settle: () => void) => {
        input.off('data', onData)
        settle()
      }

      input.on('data', onData)
    })
  } finally {
    input.setRawMode(wasRaw)
    input.pause()
    // The Enter the user typed was not echoed either.
    output.write('\n')
  }
}

/** CSI sequences (arrows, bracketed-paste markers) and two-character escapes. */
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /\u001B(?:\[[\d;?]*[\u0040-\u007E]|[^[])/g

function cancelled(): SynapseError {
  return new SynapseError('INTERRUPTED', 'Cancelled: no key was stored.', {exitCode: 130})
}
