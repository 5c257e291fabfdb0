import {
  checkSnapshotShape,
  decodeSnapshot,
  encodeSnapshot,
  FORMAT_VERSION,
  READABLE_VERSIONS,
  READABLE_VERSIONS_TEXT,
  type SessionSnapshot,
  StorageUnavailableError,
} from 'synapse-cli'

/**
 * `<dir>/<session id>.json` holds one session as an export does (the core's record codec): pretty
 * printed, `{"version": 3, <the session's fields, its messages among them>}`, timestamps as ISO 8601.
 * Files of version 1 (before the one codec) nested the session under "session" and are still read.
 */
export const SESSION_FILE = /^([0-9A-HJKMNP-TV-Z]{26})\.json$/

/**
 * A canonical ULID and nothing else: the only strings this package ever joins into a path. Checked
 * here rather than trusted from the core, because this check is what keeps `../`, absolute paths,
 * NUL and percent-escapes out of the directory.
 */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/

export function fileNameOf(sessionId: string): string {
  if (!ULID.test(sessionId)) throw new Error(`refusing to build a path from ${JSON.stringify(sessionId)}`)
  return `${sessionId}.json`
}

export function encodeSessionFile(file: SessionSnapshot): string {
  return `${JSON.stringify({version: FORMAT_VERSION, ...encodeSnapshot(file)}, null, 2)}\n`
}

/**
 * Reads a session file back. Files may have been edited by hand, so every field is checked as an
 * import checks it; optional ones (nullable fields, metadata, status) may be left out. Anything
 * wrong names the file and the field.
 */
export function decodeSessionFile(text: string, path: string, sessionId: string): SessionSnapshot {
  const fail = (reason: string) =>
    new StorageUnavailableError(`The session file ${path} cannot be read: ${reason}.`, {
      suggestions: ['Correct the file by hand, or move it out of the session directory (it holds one session).'],
    })
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch (error) {
    throw fail(`it is not valid JSON (${(error as Error).message})`)
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw fail('it is not a JSON object')
  const {messages, session, version} = root as {messages?: unknown; session?: unknown; version?: unknown}
  if (typeof version !== 'number' || !READABLE_VERSIONS.includes(version)) {
    throw fail(`its format version is ${JSON.stringify(version)}, and this synapse reads versions ${READABLE_VERSIONS_TEXT}`)
  }
  // A version 1 session file already carried replyTo: only its layout is older.
  const nested = version === 1 && typeof session === 'object' && session !== null
  const snapshot = decodeSnapshot(nested ? {...session, messages} : root, nested ? FORMAT_VERSION : version, (where, problem) =>
    fail(`${where.length > 0 ? where.join(', ') : 'it'} ${problem}`),
  )
  if (snapshot.session.id !== sessionId) throw fail(`it holds session ${snapshot.session.id}, but its name says ${sessionId}`)
  try {
    checkSnapshotShape(snapshot)
  } catch (error) {
    throw fail((error as Error).message.replace(/\.$/, ''))
  }
  return snapshot
}
