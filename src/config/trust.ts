import {createHash} from 'node:crypto'
import {mkdir, readFile, realpath} from 'node:fs/promises'
import path from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import {ConfigError} from '../core/errors.js'
import {displayPath} from './files.js'
import {isTable} from './values.js'

/**
 * Which project directories the user trusts, as git's `safe.directory` and direnv's `allow` do: a
 * project file (in a repository someone else wrote) may only choose harmless settings until the user
 * runs `synapse config trust` there. Trust is for one file's exact content: the record keeps its
 * sha256, so an edited file, or another file taking its place, is untrusted again.
 */

/** The record's file name in the user config dir. */
export const TRUST_FILE = 'trusted.json'

/** `changed`: trusted once, but the file's content (or its name) is no longer what was trusted. */
export type TrustState = 'changed' | 'trusted' | 'untrusted'

export interface TrustEntry {
  /** The project file's name in the directory, e.g. `.synapserc`. */
  file: string
  sha256: string
  /** ISO-8601. */
  trustedAt: string
}

/** Trusted directories (absolute, symlinks resolved) to what was trusted there. */
export type TrustRecord = Map<string, TrustEntry>

interface TrustFileShape {
  directories: Record<string, TrustEntry>
  version: 1
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The directory a trust entry is keyed by: the project file's, with symlinks resolved so that two spellings of one place agree. */
export async function trustKey(file: string): Promise<string> {
  const dir = path.dirname(path.resolve(file))
  return realpath(dir).catch(() => dir)
}

/** What the record says of this file with these bytes. */
export async function trustStateOf(record: TrustRecord, file: string, bytes: Buffer): Promise<TrustState> {
  const entry = record.get(await trustKey(file))
  if (!entry) return 'untrusted'
  return entry.file === path.basename(file) && entry.sha256 === sha256(bytes) ? 'trusted' : 'changed'
}

/** The record, empty when the file does not exist. A damaged record is an error: silently trusting nothing would hide it, and guessing could trust too much. */
export async function readTrustRecord(userDir: string, env: NodeJS.ProcessEnv = process.env): Promise<TrustRecord> {
  const file = path.join(userDir, TRUST_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
    throw new ConfigError(`${displayPath(file, env)}: could not be read: ${(error as Error).message}.`, {cause: error})
  }

  const damaged = () =>
    new ConfigError(`${displayPath(file, env)} is damaged: it is not the list of trusted directories synapse writes.`, {
      suggestions: [`Delete it and run "synapse config trust" again in each project you trust.`],
    })
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw damaged()
  }

  if (!isTable(parsed) || parsed.version !== 1 || !isTable(parsed.directories)) throw damaged()
  const record: TrustRecord = new Map()
  for (const [dir, entry] of Object.entries(parsed.directories)) {
    if (!path.isAbsolute(dir) || !isTable(entry) || typeof entry.file !== 'string' || typeof entry.sha256 !== 'string' || typeof entry.trustedAt !== 'string')
      throw damaged()
    record.set(dir, {file: entry.file, sha256: entry.sha256, trustedAt: entry.trustedAt})
  }

  return record
}

/** Replaces the record whole (core/atomic-write), so a crash or a concurrent reader never sees half a record. */
export async function writeTrustRecord(userDir: string, record: TrustRecord): Promise<void> {
  await mkdir(userDir, {mode: 0o700, recursive: true})
  const file = path.join(userDir, TRUST_FILE)
  const sorted = [...record].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const shape: TrustFileShape = {directories: Object.fromEntries(sorted), version: 1}
  await writeFileAtomic(file, `${JSON.stringify(shape, null, 2)}\n`)
}
