import {expect} from 'chai'
import Database from 'better-sqlite3'
import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {MIGRATIONS} from '../../src/migrations/index.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {remainingSessions, sessionsAged as sessionsAgedIn} from '../helpers/aged-sessions.js'
import {makeSandbox, type Sandbox, writeUserConfig} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'

/**
 * The session, database and config commands as a user runs them: `bin/run.js` as a child process.
 * The tests beside this file run the same commands in-process, in detail; these check that they
 * behave the same from the shell, under every runtime the suite runs with (test/deno).
 */
describe('commands (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let dbPath: string
  const names = MIGRATIONS.map(m => m.name)

  beforeEach(() => {
    sandbox = makeSandbox()
    dbPath = join(sandbox.configDir, 'sessions.db')
  })
  afterEach(() => sandbox.cleanup())

  const sessionsAged = (ages: number[]) => sessionsAgedIn(dbPath, ages)
  const remaining = () => remainingSessions(dbPath)

  it('sessions new, list, show, rename and delete', async () => {
    const created = await synapse(sandbox, ['sessions', 'new', '--title', 'Plans', '--system', 'Be brief.', '--meta', 'tenant=acme'])
    expect(created.stderr).to.equal('')
    expect(created.code).to.equal(0)
    const id = created.stdout.trim()
    expect(id).to.match(/^[0-9A-Z]{26}$/)

    const listed = await synapse(sandbox, ['sessions', 'list'])
    expect(listed.stdout.split('\t').slice(0, 4)).to.deep.equal([id, 'Plans', '', '0'])
    const asJson = JSON.parse((await synapse(sandbox, ['sessions:list', '--all', '--json'])).stdout)
    expect(asJson).to.have.length(1)
    expect(asJson[0]).to.deep.include({id, messageCount: 0, title: 'Plans'})

    const shown = await synapse(sandbox, ['sessions', 'show', id.slice(0, 10).toLowerCase()])
    expect(shown.code).to.equal(0)
    expect(shown.stdout).to.contain(`Session ${id}  Plans`).and.to.contain('system: Be brief.').and.to.contain('meta: tenant=acme')

    const renamed = await synapse(sandbox, ['sessions', 'rename', id, 'Better plans'])
    expect(renamed.stdout).to.equal(`Renamed ${id} to "Better plans"\n`)

    // stdin is a pipe, not a terminal: no one to ask, so nothing is deleted without --force.
    const refused = await synapse(sandbox, ['sessions', 'delete', id])
    expect(refused.code).to.equal(1)
    expect(refused.stderr).to.equal('Error: Refusing to delete 1 session without confirmation.\n  → Add --force to delete without asking.\n')
    const deleted = await synapse(sandbox, ['sessions', 'delete', id, '--force'])
    expect(deleted.stdout).to.equal(`Deleted 1 session: ${id}\n`)
    expect((await synapse(sandbox, ['sessions', 'list'])).stdout).to.equal('')
  })

  it('errors: one line and a hint (exit 1), JSON under --json, usage errors exit 2', async () => {
    const missing = await synapse(sandbox, ['sessions', 'show', '01ZZZZZZ'])
    expect(missing.code).to.equal(1)
    expect(missing.stdout).to.equal('')
    expect(missing.stderr).to.equal('Error: No session matches "01ZZZZZZ".\n  → Run "synapse sessions list" to see the saved sessions.\n')
    const asJson = await synapse(sandbox, ['sessions', 'show', '01ZZZZZZ', '--json'])
    expect(asJson.code).to.equal(1)
    expect(JSON.parse(asJson.stdout)).to.deep.equal({
      error: {
        code: 'SESSION_NOT_FOUND',
        exitCode: 1,
        message: 'No session matches "01ZZZZZZ".',
        suggestions: ['Run "synapse sessions list" to see the saved sessions.'],
      },
    })
    const usage = await synapse(sandbox, ['sessions', 'list', '--limit', '0'])
    expect(usage.code).to.equal(2)
    expect(usage.stderr).to.contain('--limit')
    const typo = await synapse(sandbox, ['sessions', 'lst'])
    expect(typo.code).to.equal(2)
    expect(typo.stderr).to.contain('lst')
  })

  it('retention from the user config file before a command; prune on demand', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 3\nretention_days = 30\n')
    const ids = await sessionsAged([45, 5, 4, 3, 2, 1])
    expect((await synapse(sandbox, ['sessions', 'list'])).code).to.equal(0)
    expect(await remaining()).to.deep.equal(ids.slice(3))

    const env = {SYNAPSE_AUTO_CLEANUP: 'false'}
    const dry = await synapse(sandbox, ['sessions', 'prune', '--dry-run', '--max-sessions', '1'], {env})
    expect(dry.stdout.split('\n')[0]).to.equal('Would delete 2 sessions (max_sessions 1, retention_days 30):')
    expect(await remaining()).to.deep.equal(ids.slice(3))
    const pruned = await synapse(sandbox, ['sessions', 'prune', '--max-sessions', '1', '--json', '--force'], {env})
    expect(JSON.parse(pruned.stdout)).to.deep.include({dryRun: false, policy: {maxSessions: 1, retentionDays: 30}})
    expect(await remaining()).to.deep.equal(ids.slice(5))
  })

  it('reads the user file, a JavaScript project file found from the working directory, and the environment', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 7\n[providers.openai]\napi_key = "sk-secret-value"\n')
    const project = join(sandbox.root, 'project')
    mkdirSync(join(project, 'src'), {recursive: true})
    writeFileSync(join(project, 'package.json'), '{"name": "project"}\n')
    writeFileSync(join(project, 'synapse.config.mjs'), 'export default {session: {max_context_messages: 4}}\n')
    const options = {cwd: join(project, 'src'), env: {SYNAPSE_RETENTION_DAYS: '14'}}
    // A project's JavaScript runs only once the user trusts it.
    const trusted = await synapse(sandbox, ['config', 'trust'], options)
    expect(trusted.code, trusted.stderr).to.equal(0)

    const shown = await synapse(sandbox, ['config', 'show', '--json'], options)
    expect(shown.code, shown.stderr).to.equal(0)
    const byKey = Object.fromEntries((JSON.parse(shown.stdout) as Array<{key: string}>).map(e => [e.key, e]))
    expect(byKey['session.max_sessions']).to.deep.equal({
      key: 'session.max_sessions',
      source: {file: join(sandbox.configDir, 'config.toml'), kind: 'user'},
      value: 7,
    })
    expect(byKey['session.max_context_messages']).to.deep.equal({
      key: 'session.max_context_messages',
      source: {file: join(project, 'synapse.config.mjs'), kind: 'project'},
      value: 4,
    })
    expect(byKey['session.retention_days']).to.deep.equal({key: 'session.retention_days', source: {kind: 'env', variable: 'SYNAPSE_RETENTION_DAYS'}, value: 14})
    expect(shown.stdout).not.to.contain('sk-secret-value')

    const paths = await synapse(sandbox, ['config', 'path', '--json'], options)
    expect(JSON.parse(paths.stdout)).to.deep.equal({
      database: dbPath,
      files: [
        {kind: 'user', path: join(sandbox.configDir, 'config.toml')},
        {kind: 'project', path: join(project, 'synapse.config.mjs'), trust: 'trusted'},
      ],
      userFile: join(sandbox.configDir, 'config.toml'),
    })
  })

  it('a broken config file is one line naming it, exit 1', async () => {
    writeUserConfig(sandbox, '[session\nmax_sessions = 3\n')
    const {code, stderr} = await synapse(sandbox, ['sessions', 'list'])
    expect(code).to.equal(1)
    expect(stderr.split('\n')[0]).to.match(/^Error: .*config\.toml: TOML syntax error at line 1/)
  })

  it('db status, migrate, check, revert and backup', async () => {
    const env = {DATABASE_URL: join(sandbox.root, 'work.db')}
    const location = env.DATABASE_URL
    const blank = JSON.parse((await synapse(sandbox, ['db', 'status', '--json'], {env})).stdout)
    expect(blank).to.deep.include({backend: 'sqlite', location, pending: names.length})
    expect((await synapse(sandbox, ['db', 'migrate'], {env})).stdout).to.equal(`Applied ${names.length} migrations: ${names.join(', ')}\n`)
    expect((await synapse(sandbox, ['db', 'status'], {env})).stdout).to.equal(
      `Database ${location} (sqlite)\n${names.map(n => `  applied  ${n}\n`).join('')}Up to date.\n`,
    )

    const healthy = await synapse(sandbox, ['db', 'check'], {env})
    expect(healthy.code).to.equal(0)
    expect(healthy.stdout).to.equal(
      '✓ integrity: ok\n✓ foreign keys: no orphaned rows\n✓ migrations: all applied\n✓ schema: matches this version\n✓ search index: 0 messages indexed, in step\nThe database is healthy.\n',
    )

    const refused = await synapse(sandbox, ['db', 'revert'], {env})
    expect(refused.code).to.equal(1)
    expect(refused.stderr.split('\n')[0]).to.equal(`Error: Refusing to revert ${names.at(-1)} without confirmation: it can delete data.`)
    expect(JSON.parse((await synapse(sandbox, ['db', 'revert', '--all', '--force', '--json'], {env})).stdout)).to.deep.equal({reverted: [...names].reverse()})
    const raw = new Database(location, {readonly: true})
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()).to.deep.equal([{name: 'migrations'}])
    raw.close()

    // Any store command migrates on its own.
    const created = await synapse(sandbox, ['sessions', 'new', '--title', 'keep'], {env})
    const target = join(sandbox.root, 'copy.db')
    const backup = await synapse(sandbox, ['db', 'backup', target], {env})
    expect(backup.code, backup.stderr).to.equal(0)
    expect(backup.stdout).to.equal('')
    expect(backup.stderr).to.match(new RegExp(`^Backed up ${location} to ${target} \\(\\d+ bytes\\)\\n$`))
    expect(statSync(target).mode & 0o777).to.equal(0o600)
    const copy = await openSqliteStore({path: target})
    expect((await copy.get(created.stdout.trim())).title).to.equal('keep')
    await copy.close()
  })
  // Port 1 on loopback refuses at once, so the URL reaches every message that names the database.
  for (const [password, url] of [
    ['pa/ss', 'postgres://postgres:pa/ss@127.0.0.1:1/x'],
    ['12/ss', 'postgres://postgres:12/ss@127.0.0.1:1/x'],
    ['p@ss:w#rd?x', 'postgres://postgres:p@ss:w#rd?x@127.0.0.1:1/x'],
    ['s3cr/t', 'postgres://postgres@127.0.0.1:1/x?password=s3cr/t'],
  ]) {
    it(`never prints the password of DATABASE_URL=${url}`, async () => {
      const env = {DATABASE_URL: url}
      const listed = await synapse(sandbox, ['sessions', 'list'], {env})
      expect(listed.code).to.equal(1)
      expect(listed.stderr).to.match(/^Error: .*postgres:\/\/postgres.*\*\*\*/)
      for (const args of [
        ['sessions', 'list'],
        ['sessions', 'list', '--json'],
        ['db', 'status'],
        ['db', 'status', '--json'],
        ['config', 'show'],
        ['config', 'show', '--json'],
        ['config', 'path'],
        ['config', 'path', '--json'],
      ]) {
        const {stderr, stdout} = await synapse(sandbox, args, {env})
        expect(stdout + stderr, args.join(' ')).to.include('postgres://postgres')
        expect(stdout, args.join(' ')).not.to.include(password)
        expect(stderr, args.join(' ')).not.to.include(password)
      }
    })
  }
})
