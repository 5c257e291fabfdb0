import {expect} from 'chai'
import Database from 'better-sqlite3'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {MIGRATIONS} from '../../src/migrations/index.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {run} from '../helpers/cli.js'
import {synapseCommandLine, testRuntime} from '../helpers/spawn.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

describe('db commands', () => {
  let sandbox: Sandbox
  let dbPath: string
  const names = MIGRATIONS.map(m => m.name)

  beforeEach(() => {
    sandbox = makeSandbox()
    dbPath = join(sandbox.root, 'work.db')
    sandbox.env.DATABASE_URL = dbPath
  })
  afterEach(() => sandbox.cleanup())

  it('status on a blank database lists every migration as pending, and migrate applies them', async () => {
    const before = await run<{migrations: Array<{applied: boolean}>; pending: number}>(sandbox, ['db', 'status', '--json'])
    expect(before.exitCode).to.equal(0)
    expect(JSON.parse(before.stdout)).to.deep.include({backend: 'sqlite', location: dbPath, pending: names.length})
    const migrate = await run(sandbox, ['db', 'migrate'])
    expect(migrate.stdout).to.equal(`Applied ${names.length} migrations: ${names.join(', ')}\n`)
    expect((await run(sandbox, ['db', 'migrate'])).stdout).to.equal('The database is up to date.\n')
    const after = await run(sandbox, ['db', 'status'])
    expect(after.stdout).to.equal(`Database ${dbPath} (sqlite)\n${names.map(n => `  applied  ${n}\n`).join('')}Up to date.\n`)
  })

  it('revert needs --force without a terminal, then goes one step or all the way', async () => {
    await run(sandbox, ['db', 'migrate'])
    const refused = await run(sandbox, ['db', 'revert'])
    expect(refused.exitCode).to.equal(1)
    expect(refused.stderr.split('\n')[0]).to.equal(`Error: Refusing to revert ${names.at(-1)} without confirmation: it can delete data.`)
    const one = await run<{reverted: string[]}>(sandbox, ['db', 'revert', '--force'])
    expect(one.result?.reverted).to.deep.equal([names.at(-1)])
    const all = await run<{reverted: string[]}>(sandbox, ['db', 'revert', '--all', '--force', '--json'])
    expect(JSON.parse(all.stdout)).to.deep.equal({reverted: names.slice(0, -1).reverse()})
    const db = new Database(dbPath, {readonly: true})
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all()
    db.close()
    expect(tables).to.deep.equal([{name: 'migrations'}])
    expect((await run(sandbox, ['db', 'revert', '--force'])).stdout).to.equal('No migration is applied; nothing to revert.\n')
  })

  it('any other store command migrates a blank database on its own', async () => {
    expect((await run(sandbox, ['sessions', 'list'])).exitCode).to.equal(0)
    expect(JSON.parse((await run(sandbox, ['db', 'status', '--json'])).stdout).pending).to.equal(0)
  })

  it('check passes on a healthy database and fails, exit 1, on orphaned rows', async () => {
    await run(sandbox, ['db', 'migrate'])
    const healthy = await run(sandbox, ['db', 'check'])
    expect(healthy.exitCode).to.equal(0)
    expect(healthy.stdout).to.equal(
      '✓ integrity: ok\n✓ foreign keys: no orphaned rows\n✓ migrations: all applied\n✓ schema: matches this version\n✓ search index: 0 messages indexed, in step\nThe database is healthy.\n',
    )
    // An orphan can only appear when something wrote with foreign keys off, as another tool might.
    const db = new Database(dbPath)
    db.pragma('foreign_keys = OFF')
    db.prepare(
      "INSERT INTO messages (id, session_id, position, role, content, status, created_at) VALUES ('01JZ0000000000000000000000', '01JZNOSUCHSESSION000000000', 0, 'user', 'x', 'complete', 0)",
    ).run()
    db.close()
    const broken = await run<{checks: Array<{name: string; ok: boolean}>; ok: boolean}>(sandbox, ['db', 'check', '--json'])
    expect(broken.exitCode).to.equal(1)
    const report = JSON.parse(broken.stdout)
    expect(report.ok).to.equal(false)
    expect(report.checks.find((c: {name: string}) => c.name === 'foreign keys')).to.deep.equal({
      detail: '1 rows point at missing parents',
      name: 'foreign keys',
      ok: false,
    })
  })

  it('check reports a search index out of step in a real file, exit 1, and reindex rebuilds it', async () => {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create({title: 'Birds'})
    await store.append(session.id, [{content: 'a heron waits', role: 'user'}])
    await store.close()
    // A message written behind the index's back, as a tool that dropped the trigger would.
    const db = new Database(dbPath)
    db.exec('DROP TRIGGER messages_fts_insert')
    db.prepare(
      "INSERT INTO messages (id, session_id, position, role, content, status, created_at) VALUES ('01JZ0000000000000000000000', ?, 1, 'assistant', 'a heron flies', 'complete', 0)",
    ).run(session.id)
    db.close()
    const broken = await run(sandbox, ['db', 'check'])
    expect(broken.exitCode).to.equal(1)
    expect(broken.stdout.split('\n').filter(line => line.includes('search index'))).to.deep.equal([
      '✗ search index: out of step: triggers missing: messages_fts_insert; 1 message not indexed (e.g. 01JZ0000000000000000000000); the index differs from the message contents. Rebuild it with "synapse db reindex".',
    ])
    expect((await run(sandbox, ['sessions', 'search', 'flies'])).exitCode).to.equal(1)

    const reindex = await run(sandbox, ['db', 'reindex'])
    expect(reindex).to.deep.include({exitCode: 0, stdout: '✓ search index: 2 messages indexed, in step\n'})
    expect((await run(sandbox, ['db', 'check'])).exitCode).to.equal(0)
    const found = await run<{hits: Array<{snippet: {text: string}}>}>(sandbox, ['sessions', 'search', 'heron', '--json'])
    expect(found.result?.hits.map(hit => hit.snippet.text).sort()).to.deep.equal(['a heron flies', 'a heron waits'])
  })

  it('reindex before the search index exists says how to get it', async () => {
    const store = await openSqliteStore({migrate: false, path: dbPath})
    await store.close()
    const refused = await run(sandbox, ['db', 'reindex'])
    expect(refused.exitCode).to.equal(1)
    expect(refused.stderr).to.equal('Error: The session database has no search index yet.\n  → Run "synapse db migrate": it creates the index and fills it.\n')
  })

  it('backup writes a private, consistent copy and refuses to overwrite without --force', async () => {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create({title: 'keep'})
    await store.append(session.id, [{content: 'precious', role: 'user'}])
    await store.close()
    const target = join(sandbox.root, 'copy.db')
    const first = await run<{bytes: number; path: string}>(sandbox, ['db', 'backup', target])
    expect(first.exitCode).to.equal(0)
    expect(first.result?.path).to.equal(target)
    expect(statSync(target).mode & 0o777).to.equal(0o600)
    const copy = await openSqliteStore({path: target})
    expect((await copy.messages(session.id)).map(m => m.content)).to.deep.equal(['precious'])
    // VACUUM INTO keeps every rowid, so the copy's search index points at the right messages.
    expect((await copy.search('precious')).map(hit => hit.snippet.text)).to.deep.equal(['precious'])
    expect((await copy.maintenance!.check()).ok).to.equal(true)
    await copy.close()

    const again = await run(sandbox, ['db', 'backup', target])
    expect(again.exitCode).to.equal(1)
    expect(again.stderr.split('\n')[0]).to.equal(`Error: ${target} already exists.`)
    // --force swaps in a fresh copy: the session added since is in it.
    const later = await openSqliteStore({path: dbPath})
    await later.create({title: 'added later'})
    await later.close()
    expect((await run(sandbox, ['db', 'backup', target, '--force'])).exitCode).to.equal(0)
    const replaced = await openSqliteStore({path: target})
    expect((await replaced.list()).map(s => s.title)).to.deep.equal(['added later', 'keep'])
    await replaced.close()
  })

  it('backup refuses the database itself and its -wal (also by another path to its directory) and a directory, changing nothing', async () => {
    const store = await openSqliteStore({path: dbPath})
    await store.create({title: 'keep'})
    await store.close()
    const before = readFileSync(dbPath)
    const alias = join(sandbox.root, 'alias')
    symlinkSync(dirname(dbPath), alias)
    for (const target of [dbPath, `${dbPath}-wal`, join(alias, basename(dbPath))]) {
      const refused = await run(sandbox, ['db', 'backup', target, '--force'])
      expect([refused.exitCode, refused.stderr]).to.deep.equal([
        1,
        `Error: ${target} is the database being backed up.\n  → Back up to a file of its own, e.g. "synapse db backup ~/sessions.bak".\n`,
      ])
    }
    expect(readFileSync(dbPath).equals(before)).to.equal(true)
    const directory = join(sandbox.root, 'backups')
    mkdirSync(directory)
    const refused = await run(sandbox, ['db', 'backup', directory, '--force'])
    expect([refused.exitCode, refused.stderr]).to.deep.equal([
      1,
      `Error: ${directory} is a directory.\n  → Name a file in it, e.g. "synapse db backup ${join(directory, 'sessions.bak')}".\n`,
    ])
    expect(readdirSync(directory)).to.deep.equal([])
  })

  it('backup into a FIFO (as into /dev/stdout) writes the copy into it, with or without --force, and leaves it a FIFO', async () => {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create({title: 'streamed'})
    await store.append(session.id, [{content: 'through the pipe', role: 'user'}])
    await store.close()
    for (const force of [[], ['--force']]) {
      const fifo = join(sandbox.root, `backup${force.length}.fifo`)
      execFileSync('mkfifo', [fifo])
      const received = join(sandbox.root, `received${force.length}.db`)
      const reader = spawn('cat', [fifo], {stdio: ['ignore', openSync(received, 'w'), 'inherit']})
      const read = new Promise(resolve => reader.on('close', resolve))
      const outcome = await run<{bytes: number; path: string}>(sandbox, ['db', 'backup', fifo, ...force])
      // A backup that never opened the FIFO leaves the reader waiting.
      if (outcome.exitCode !== 0) reader.kill()
      await read
      expect([outcome.exitCode, outcome.stderr]).to.deep.equal([0, `Backed up ${dbPath} to ${fifo} (${statSync(received).size} bytes)\n`])
      expect(lstatSync(fifo).isFIFO()).to.equal(true)
      expect(outcome.result).to.deep.equal({bytes: statSync(received).size, path: fifo})
      const copy = await openSqliteStore({path: received})
      expect((await copy.messages(session.id)).map(m => m.content)).to.deep.equal(['through the pipe'])
      await copy.close()
    }
  })

  it('backup through a symbolic link writes the file it leads to, as > would (/dev/stdout redirected to a file), and refuses one leading to the database', async () => {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create({title: 'linked'})
    await store.close()
    const file = join(sandbox.root, 'real.db')
    writeFileSync(file, '')
    const link = join(sandbox.root, 'link.db')
    symlinkSync(file, link)
    const outcome = await run<{bytes: number; path: string}>(sandbox, ['db', 'backup', link, '--force'])
    expect([outcome.exitCode, outcome.stderr]).to.deep.equal([0, `Backed up ${dbPath} to ${file} (${statSync(file).size} bytes)\n`])
    expect(lstatSync(link).isSymbolicLink()).to.equal(true)
    expect(outcome.result).to.deep.equal({bytes: statSync(file).size, path: file})
    const copy = await openSqliteStore({path: file})
    expect((await copy.list()).map(s => s.id)).to.deep.equal([session.id])
    await copy.close()

    const before = readFileSync(dbPath)
    const toDatabase = join(sandbox.root, 'to-database.db')
    symlinkSync(dbPath, toDatabase)
    const refused = await run(sandbox, ['db', 'backup', toDatabase, '--force'])
    expect([refused.exitCode, refused.stderr.split('\n')[0]]).to.deep.equal([1, `Error: ${dbPath} is the database being backed up.`])
    expect(readFileSync(dbPath).equals(before)).to.equal(true)
  })

  it('backup to /dev/stdout fills the pipe or the file stdout goes to, and leaves /dev/stdout a link', async () => {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create({title: 'to stdout'})
    await store.close()
    for (const [shape, redirect] of [
      ['pipe', '| cat >'],
      ['file', '>'],
    ]) {
      const received = join(sandbox.root, `${shape}.db`)
      const outcome = spawnSync('sh', ['-c', `${synapseCommandLine(['db', 'backup', '/dev/stdout', '--force'])} ${redirect} "$1"`, 'sh', received], {
        encoding: 'utf8',
        env: {...sandbox.env, ...testRuntime().env},
      })
      // The line saying so goes to stderr: on stdout it would be part of the copy.
      const named = shape === 'pipe' ? '/dev/stdout' : received
      expect([shape, outcome.status, outcome.stderr]).to.deep.equal([shape, 0, `Backed up ${dbPath} to ${named} (${statSync(received).size} bytes)\n`])
      expect(lstatSync('/dev/stdout').isSymbolicLink()).to.equal(true)
      const copy = await openSqliteStore({path: received})
      expect((await copy.list()).map(s => s.id)).to.deep.equal([session.id])
      await copy.close()
    }
  })

  it('backup is consistent while another connection writes', async () => {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create()
    let writing = true
    let written = 0
    const writer = (async () => {
      while (writing) {
        await store.append(session.id, [{content: `m${written}`, role: 'user'}])
        written++
        await new Promise(resolve => setImmediate(resolve))
      }
    })()
    const target = join(sandbox.root, 'live.db')
    const outcome = await run(sandbox, ['db', 'backup', target])
    writing = false
    await writer
    await store.close()
    expect(outcome.exitCode).to.equal(0)
    const copy = new Database(target, {readonly: true})
    expect(copy.pragma('integrity_check', {simple: true})).to.equal('ok')
    const positions = (copy.prepare('SELECT position FROM messages ORDER BY position').all() as Array<{position: number}>).map(r => r.position)
    copy.close()
    // A snapshot: some prefix of what was written, with no gaps.
    expect(positions).to.deep.equal(Array.from({length: positions.length}, (_, i) => i))
    expect(written).to.be.greaterThan(0)
  })

  it('reports a file that is not a database in one line, exit 1, and leaves it untouched', async () => {
    writeFileSync(dbPath, 'not a database at all\n'.repeat(100))
    const {exitCode, stderr} = await run(sandbox, ['sessions', 'list'])
    expect(exitCode).to.equal(1)
    expect(stderr.split('\n')[0]).to.equal(`Error: The file ${dbPath} is not a readable SQLite database (SQLITE_NOTADB).`)
    expect(statSync(dbPath).size).to.equal('not a database at all\n'.length * 100)
    expect(existsSync(`${dbPath}-wal`)).to.equal(false)
  })
})
