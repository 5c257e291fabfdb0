import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {once} from 'node:events'
import {createRequire} from 'node:module'

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3')

// The child: takes the lock, says so, and keeps it until its stdin closes.
const HOLDER = `
const Database = require(process.argv[1])
const db = new Database(process.argv[2])
db.exec('BEGIN ' + process.argv[3])
process.stdout.write('locked\\n')
process.stdin.resume()
process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close() })
`

/**
 * Another process holding a SQLite database's write lock (`BEGIN IMMEDIATE` or `BEGIN EXCLUSIVE`)
 * until released: what a long import or a stuck synapse looks like to the process under test.
 */
export class SynapseLockHolder {
  readonly locked: Promise<void>
  private readonly child: ChildProcessWithoutNullStreams

  constructor(path: string, mode: 'EXCLUSIVE' | 'IMMEDIATE') {
    this.child = spawn(process.execPath, ['-e', HOLDER, BETTER_SQLITE3, path, mode])
    let stderr = ''
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    this.locked = new Promise((resolve, reject) => {
      this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('locked') && resolve())
      this.child.on('exit', code => reject(new Error(`the lock holder exited (${code}) before taking the lock: ${stderr}`)))
    })
  }

  async release(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.stdin.end()
    await exited
  }
}
