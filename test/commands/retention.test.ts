import {expect} from 'chai'
import {join} from 'node:path'

import {run} from '../helpers/cli.js'
import {SynapseLockHolder} from '../helpers/lock-holder.js'
import {remainingSessions, sessionsAged as sessionsAgedIn} from '../helpers/aged-sessions.js'
import {makeSandbox, type Sandbox, writeUserConfig} from '../helpers/sandbox.js'

describe('retention', () => {
  let sandbox: Sandbox
  let dbPath: string

  beforeEach(() => {
    sandbox = makeSandbox()
    dbPath = join(sandbox.configDir, 'sessions.db')
  })
  afterEach(() => sandbox.cleanup())

  const sessionsAged = (ages: number[]) => sessionsAgedIn(dbPath, ages)
  const remaining = () => remainingSessions(dbPath)

  it('keeps the newest max_sessions before any store command runs', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 3\n')
    const ids = await sessionsAged([5, 4, 3, 2, 1])
    const {exitCode} = await run(sandbox, ['sessions', 'list'])
    expect(exitCode).to.equal(0)
    expect(await remaining()).to.deep.equal(ids.slice(2))
  })

  it('drops sessions not updated for retention_days', async () => {
    writeUserConfig(sandbox, '[session]\nretention_days = 30\n')
    const ids = await sessionsAged([45, 31, 29, 1])
    expect((await run(sandbox, ['sessions', 'list'])).exitCode).to.equal(0)
    expect(await remaining()).to.deep.equal(ids.slice(2))
  })

  it('does nothing automatically when auto_cleanup is off; prune does it on demand', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 2\nauto_cleanup = false\n')
    const ids = await sessionsAged([4, 3, 2, 1])
    await run(sandbox, ['sessions', 'list'])
    expect(await remaining()).to.deep.equal(ids)

    const dry = await run<{deleted: Array<{id: string}>; dryRun: boolean}>(sandbox, ['sessions', 'prune', '--dry-run'])
    expect(dry.result?.dryRun).to.equal(true)
    expect(dry.result?.deleted.map(s => s.id)).to.deep.equal(ids.slice(0, 2))
    expect(dry.stdout.split('\n')[0]).to.equal('Would delete 2 sessions (max_sessions 2, retention_days 90):')
    expect(await remaining()).to.deep.equal(ids)

    const refused = await run(sandbox, ['sessions', 'prune', '--json'])
    expect(refused.exitCode).to.equal(1)
    expect(await remaining()).to.deep.equal(ids)
    const real = await run<{deleted: Array<{id: string}>}>(sandbox, ['sessions', 'prune', '--json', '--force'])
    expect(real.exitCode).to.equal(0)
    expect(JSON.parse(real.stdout)).to.deep.include({dryRun: false, policy: {maxSessions: 2, retentionDays: 90}})
    expect(await remaining()).to.deep.equal(ids.slice(2))
  })

  it('lets prune flags override the configured limits', async () => {
    const ids = await sessionsAged([10, 5, 1])
    const {result} = await run<{deleted: Array<{id: string}>}>(sandbox, ['sessions', 'prune', '--retention-days', '7', '--force'])
    expect(result?.deleted.map(s => s.id)).to.deep.equal([ids[0]])
    expect(await remaining()).to.deep.equal(ids.slice(1))
  })

  it('a retention_days reaching past the earliest date is no age limit: nothing deleted, no failed cleanup', async () => {
    writeUserConfig(sandbox, '[session]\nretention_days = 99999999999\n')
    const ids = await sessionsAged([400, 1])
    const listed = await run(sandbox, ['sessions', 'list'])
    expect([listed.exitCode, listed.stderr]).to.deep.equal([0, ''])
    const dry = await run(sandbox, ['sessions', 'prune', '--dry-run', '--json'])
    expect([dry.exitCode, JSON.parse(dry.stdout)]).to.deep.equal([0, {deleted: [], dryRun: true, policy: {maxSessions: 100, retentionDays: 99_999_999_999}}])
    const flag = await run(sandbox, ['sessions', 'prune', '--retention-days', '99999999999', '--force', '--json'])
    expect([flag.exitCode, JSON.parse(flag.stdout)]).to.deep.equal([0, {deleted: [], dryRun: false, policy: {maxSessions: 100, retentionDays: 99_999_999_999}}])
    expect(await remaining()).to.deep.equal(ids)
  })

  it('environment variables beat the user file', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 1\n')
    const ids = await sessionsAged([3, 2, 1])
    sandbox.env.SYNAPSE_MAX_SESSIONS = '2'
    await run(sandbox, ['sessions', 'list'])
    expect(await remaining()).to.deep.equal(ids.slice(1))
  })

  for (const [label, toml, expected] of [
    ['a negative value', '[session]\nmax_sessions = -3\n', 'session.max_sessions must be a whole number'],
    ['a wrong type', '[session]\nretention_days = "soon"\n', 'session.retention_days must be a number'],
    ['an unknown key', '[session]\nmax_sesions = 3\n', 'session.max_sesions'],
  ] as const) {
    it(`refuses ${label} in the config with exit 1, naming file and key, and deletes nothing`, async () => {
      const ids = await sessionsAged([200, 100, 1])
      writeUserConfig(sandbox, toml)
      const {exitCode, stderr, stdout} = await run(sandbox, ['sessions', 'list'])
      expect(exitCode).to.equal(1)
      expect(stdout).to.equal('')
      const [first] = stderr.split('\n')
      expect(first).to.match(/^Error: /)
      expect(first).to.contain(join(sandbox.configDir, 'config.toml').replace(sandbox.home, '~')).and.to.contain(expected)
      expect(await remaining()).to.deep.equal(ids)
    })
  }

  it('a cleanup that cannot take the write lock is one warning; the command still runs, and nothing is lost', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 1\n\n[storage]\nbusy_timeout_ms = 200\n')
    const ids = await sessionsAged([2, 1])
    const holder = new SynapseLockHolder(dbPath, 'IMMEDIATE')
    await holder.locked
    try {
      const {exitCode, result, stderr} = await run<Array<{id: string}>>(sandbox, ['sessions', 'list', '--json'])
      expect(stderr).to.match(
        /^Warning: automatic cleanup of old sessions failed: The session database at .* stayed locked by another process for 0\.2 s\. — Try again; if it keeps happening, look for a synapse process that is stuck \(ps aux \| grep synapse\)\.\n$/,
      )
      expect(exitCode).to.equal(0)
      expect(result?.map(s => s.id)).to.deep.equal([...ids].reverse())
    } finally {
      await holder.release()
    }
    expect(await remaining()).to.deep.equal(ids)
    // The next command, unhindered, does the cleanup, and says so.
    expect((await run(sandbox, ['sessions', 'list'])).stderr).to.equal(
      'synapse: retention deleted 1 session beyond the 1 most recently updated (max_sessions) — set [session] max_sessions (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
    )
    expect(await remaining()).to.deep.equal(ids.slice(1))
  })
})
