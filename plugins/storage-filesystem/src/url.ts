import {isAbsolute, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ConfigError, redactUrl} from 'synapse-cli'

const FORMS = 'Use file:///absolute/dir or file:relative/dir.'

/**
 * The directory a `file:` URL names: `file:///abs/dir` (percent-escapes decoded, host empty or
 * localhost), or `file:relative/dir` and `file:/abs/dir` taken literally, a relative one against `cwd`.
 */
export function directoryOf(url: string, cwd: string = process.cwd()): string {
  if (!/^file:/i.test(url)) throw new ConfigError(`"${redactUrl(url)}" is not a file: URL. ${FORMS}`)
  const rest = url.slice('file:'.length)
  let path = rest
  if (rest.startsWith('//')) {
    try {
      path = fileURLToPath(`file:${rest}`)
    } catch (error) {
      throw new ConfigError(`The storage URL "${redactUrl(url)}" names no local directory (${(error as Error).message}).`, {suggestions: [FORMS]})
    }
  }
  if (path === '' || path.includes('\u0000')) throw new ConfigError(`The storage URL "${redactUrl(url)}" names no directory.`, {suggestions: [FORMS]})
  return isAbsolute(path) ? path : join(cwd, path)
}
