/**
 * The keys file: API keys stored by `synapse keys set`, one per provider, in `keys.json` in the user
 * config dir (as simonw/llm keeps its keys.json). A file, not the OS keyring: synapse mostly runs
 * where there is no keyring daemon (servers, containers, SSH sessions), and a secret store that works
 * on some machines and fails on others would make "where is my key" a per-machine question.
 *
 * The directory is 0700 and the file 0600 whatever the umask; a write replaces the file in one rename,
 * so a crash leaves the old file or the new one, never half of either.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {writeFileAtomicSync} from '../core/atomic-write.js'
import {ConfigError} from '../core/errors.js'
import {displayPath} from './files.js'

export const KEYS_FILE_NAME = 'keys.json'

/** Written first in the file so that anyone who opens it knows what it is. Keys starting with "//" are not providers. */
const NOTE = {'//': 'API keys stored by "synapse keys set". Do not share this file.'}

/** Provider name → key, as stored. */
export type StoredKeys = Record<string, string>

export function keysFilePath(userDir: string): string {
  return join(userDir, KEYS_FILE_NAME)
}

/**
 * The stored keys; none when the file does not exist. Synchronous because provider settings are
 * resolved synchronously, and the file is a few hundred bytes.
 * Throws ConfigError naming the file when it cannot be read or is not a table of strings.
 */
export function readStoredKeys(file: string, env: NodeJS.ProcessEnv = process.env): StoredKeys {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ConfigError(`${displayPath(file, env)} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {
      cause: error,
      suggestions: ['Check its permissions: it should be yours, mode 0600.'],
    })
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // The parser's message quotes the text around the fault, which here would be part of a key.
    throw corrupt(file, env, 'is not valid JSON')
  }

  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(file, env, 'must hold a JSON object of provider names and keys')
  const keys: StoredKeys = {}
  for (const [provider, key] of Object.entries(parsed)) {
    if (provider.startsWith('//')) continue
    if (typeof key !== 'string') throw corrupt(file, env, `holds a ${describe(key)} for "${provider}", not a string`)
    keys[provider] = key
  }

  return keys
}

/** Stores `key` for `provider`, replacing any earlier one; creates the directory (0700) and the file (0600). */
export function storeKey(file: string, provider: string, key: string, env: NodeJS.ProcessEnv = process.env): void {
  const keys = readStoredKeys(file, env)
  keys[provider] = key
  writeKeys(file, keys, env)
}

/** Removes the key of `provider`; false when none was stored (nothing is written then). */
export function removeStoredKey(file: string, provider: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const keys = readStoredKeys(file, env)
  if (!Object.hasOwn(keys, provider)) return false
  delete keys[provider]
  writeKeys(file, keys, env)
  return true
}

function writeKeys(file: string, keys: StoredKeys, env: NodeJS.ProcessEnv): void {
  const sorted = Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  const text = `${JSON.stringify({...NOTE, ...sorted}, null, 2)}\n`
  const dir = dirname(file)
  try {
    mkdirSync(dir, {mode: 0o700, recursive: true})
    writeFileAtomicSync(file, text)
  } catch (error) {
    throw new ConfigError(`Cannot write ${displayPath(file, env)} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`, {
      cause: error,
      suggestions: [`Check that ${displayPath(dir, env)} is a directory you can write.`],
    })
  }
}

function corrupt(file: string, env: NodeJS.ProcessEnv, what: string): ConfigError {
  return new ConfigError(`${displayPath(file, env)} ${what}.`, {
    suggestions: ['Fix it, or delete it and store your keys again with "synapse keys set <provider>".'],
  })
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'list'
  return typeof value
}
