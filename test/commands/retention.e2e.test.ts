import {expect} from 'chai'
import {join} from 'node:path'

import {displayWidth} from '../../src/cli/width.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {ManualClock} from '../../src/testing/session-store-suite.js'
import {requireProgram} from '../helpers/programs.js'
import {makeSandbox, type Sandbox, writeUserConfig} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {runOnTerminal, Terminal} from '../helpers/terminal.js'

const DAY = 86_400_000
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * A ULID for an instant in the past. newId() is monotonic within a process, so after any earlier
 * test it hands out ids at that test's time: ids of a seeded history would share long prefixes.
 */
function idAt(ms: number): string {
  let time = ''
  for (let t = ms, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time
  return time + Array.from({length: 16}, () => CROCKFORD[Math.floor(Math.random() * 32)]).join('')
}

describe('retention and the session list (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let dbPath: string

  beforeEach(() => {
    sandbox = makeSandbox()
    dbPath = join(sandbox.configDir, 'sessions.db')
  })
  afterEach(() => sandbox.cleanup())

  async function withStore<T>(work: (store: SessionStore, clock: ManualClock) => Promise<T>, start = Date.now()): Promise<T> {
    const clock = new ManualClock(start)
    const store = await openSqliteStore({clock: clock.now, path: dbPath})
    try {
      return await work(store, clock)
    } finally {
      await store.close()
    }
  }

  /** Sessions with these titles (each with one prompt and one reply), updated a day apart, the last one newest; their ids, oldest first. */
  function seed(titles: Array<null | string>, options: {ageDays?: number; model?: string} = {}): Promise<string[]> {
    return withStore(
      async (store, clock) => {
        const ids: string[] = []
        for (const [i, title] of titles.entries()) {
          const session = await store.create({id: idAt(clock.now().getTime()), model: options.model ?? 'gpt-4o-mini', provider: 'openai', title})
          await store.append(session.id, [
            {content: `Question number ${i}`, role: 'user'},
            {content: 'Answer', role: 'assistant'},
          ])
          ids.push(session.id)
          clock.advance(DAY)
        }
        return ids
      },
      Date.now() - ((options.ageDays ?? 0) + titles.length) * DAY,
    )
  }

  async function remaining(): Promise<string[]> {
    return withStore(async store => (await store.list({limit: 1000})).map(s => s.id).reverse())
  }

  async function shortIds(): Promise<Record<string, string>> {
    return withStore(async store => Object.fromEntries((await store.list({limit: 1000})).map(s => [s.id, s.shortId])))
  }

  describe('automatic cleanup', () => {
    it('says in one stderr line how many went, by which limit, and how to change it', async () => {
      writeUserConfig(sandbox, '[session]\nmax_sessions = 3\n')
      const ids = await seed(['a', 'b', 'c', 'd', 'e'])
      const listed = await synapse(sandbox, ['sessions', 'list'])
      expect(listed.code).to.equal(0)
      expect(listed.stderr).to.equal(
        'synapse: retention deleted 2 sessions beyond the 3 most recently updated (max_sessions) — set [session] max_sessions (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
      )
      expect(await remaining()).to.deep.equal(ids.slice(2))
      // Nothing more to delete: nothing more said.
      expect((await synapse(sandbox, ['sessions', 'list'])).stderr).to.equal('')
    })

    it('names the age limit, and both when both took sessions', async () => {
      await seed(['old', 'older'], {ageDays: 100})
      const aged = await synapse(sandbox, ['sessions', 'list', '--json'])
      expect(aged.stderr).to.equal(
        'synapse: retention deleted 2 sessions older than 90 days (retention_days) — set [session] retention_days (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
      )
      expect(JSON.parse(aged.stdout)).to.deep.equal([])

      writeUserConfig(sandbox, '[session]\nmax_sessions = 1\nretention_days = 30\n')
      await seed(['ancient'], {ageDays: 40})
      await seed(['x', 'y', 'z'])
      const both = await synapse(sandbox, ['sessions', 'list'])
      expect(both.stderr).to.equal(
        'synapse: retention deleted 3 sessions: 1 older than 30 days (retention_days), 2 beyond the 1 most recently updated (max_sessions) — set [session] retention_days and max_sessions (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
      )
    })
  })

  describe('sessions keep', () => {
    it('keeps a session from retention without counting it toward max_sessions, shows it, and --undo lets it go', async function () {
      requireProgram(this, 'script')
      writeUserConfig(sandbox, '[session]\nmax_sessions = 2\nauto_cleanup = false\n')
      const ids = await seed(['first', 'second', 'third', 'fourth'])
      const before = await remaining()
      const kept = await synapse(sandbox, ['sessions', 'keep', ids[0].toLowerCase()])
      expect(kept.code, kept.stderr).to.equal(0)
      expect(kept.stdout).to.equal(`Kept: ${ids[0]}  first\nRetention will not delete it; "synapse sessions keep --undo <id>" lets it again.\n`)
      // Keeping does not move it: the order is what it was.
      expect(await remaining()).to.deep.equal(before)

      const pruned = await synapse(sandbox, ['sessions', 'prune', '--force', '--json'])
      expect(JSON.parse(pruned.stdout).deleted.map((s: {id: string}) => s.id)).to.deep.equal([ids[1]])
      expect(await remaining()).to.deep.equal([ids[0], ids[2], ids[3]])

      const piped = await synapse(sandbox, ['sessions', 'list', '--json'])
      expect(JSON.parse(piped.stdout).map((s: {kept: boolean}) => s.kept)).to.deep.equal([false, false, true])
      const short = await shortIds()
      const screen = await runOnTerminal(sandbox, ['sessions', 'list'], {columns: 100})
      expect(screen.lines).to.deep.equal([
        'ID        TITLE   MODEL               MSGS  CREATED  UPDATED  KEPT',
        `${short[ids[3]]}  fourth  openai/gpt-4o-mini  2     1 d ago  1 d ago`,
        `${short[ids[2]]}  third   openai/gpt-4o-mini  2     2 d ago  2 d ago`,
        `${short[ids[0]]}  first   openai/gpt-4o-mini  2     4 d ago  4 d ago  kept`,
      ])
      const shown = await synapse(sandbox, ['sessions', 'show', ids[0]])
      expect(shown.stdout.split('\n')[1]).to.match(/ · 2 messages · kept from retention$/)

      const undone = await synapse(sandbox, ['sessions', 'keep', '--undo', ids[0], '--json'])
      expect(JSON.parse(undone.stdout)).to.deep.equal({sessions: [{id: ids[0], kept: false, title: 'first'}]})
      await synapse(sandbox, ['sessions', 'prune', '--force'])
      expect(await remaining()).to.deep.equal([ids[2], ids[3]])
    })

    it('changes nothing when one id is unknown, and needs an id', async () => {
      const [id] = await seed(['only'])
      const unknown = await synapse(sandbox, ['sessions', 'keep', id, '01ZZZZZZ'])
      expect(unknown.code).to.equal(1)
      expect(unknown.stderr.split('\n')[0]).to.equal('Error: No session matches "01ZZZZZZ".')
      expect(JSON.parse((await synapse(sandbox, ['sessions', 'list', '--json'])).stdout)[0].kept).to.equal(false)
      const none = await synapse(sandbox, ['sessions', 'keep'])
      expect(none.code).to.equal(2)
      expect(none.stderr.split('\n')[0]).to.equal('Error: Name the sessions to keep.')
    })

    it('survives export and import, and an export without the field imports as not kept', async () => {
      const [id] = await seed(['keep me'])
      await synapse(sandbox, ['sessions', 'keep', id])
      const exported = (await synapse(sandbox, ['sessions', 'export', id])).stdout
      expect(JSON.parse(exported).kept).to.equal(true)
      const copy = {DATABASE_URL: join(sandbox.root, 'copy.db')}
      expect((await synapse(sandbox, ['sessions', 'import', '-'], {env: copy, input: exported})).code).to.equal(0)
      expect(JSON.parse((await synapse(sandbox, ['sessions', 'show', id, '--json'], {env: copy})).stdout).kept).to.equal(true)
      const older = JSON.stringify({...JSON.parse(exported), kept: undefined})
      const other = {DATABASE_URL: join(sandbox.root, 'other.db')}
      expect((await synapse(sandbox, ['sessions', 'import', '-'], {env: other, input: `${older}\n`})).code).to.equal(0)
      expect(JSON.parse((await synapse(sandbox, ['sessions', 'show', id, '--json'], {env: other})).stdout).kept).to.equal(false)
    })
  })

  it('rename leaves a session where it was in the list and in -c', async () => {
    const ids = await seed(['older', 'newer'])
    const renamed = await synapse(sandbox, ['sessions', 'rename', ids[0], 'Older, renamed'])
    expect(renamed.code, renamed.stderr).to.equal(0)
    const listed = JSON.parse((await synapse(sandbox, ['sessions', 'list', '--json'])).stdout) as Array<{id: string; title: string}>
    expect(listed.map(s => [s.id, s.title])).to.deep.equal([
      [ids[1], 'newer'],
      [ids[0], 'Older, renamed'],
    ])
    expect(await withStore(async store => (await store.latest())!.id)).to.equal(ids[1])
  })

  it('an import past max_sessions keeps every imported session and says what the next cleanup will delete', async () => {
    writeUserConfig(sandbox, '[session]\nmax_sessions = 3\n')
    const source = {DATABASE_URL: join(sandbox.root, 'source.db')}
    for (const title of ['i1', 'i2', 'i3']) await synapse(sandbox, ['sessions', 'new', '--title', title], {env: source})
    const exported = (await synapse(sandbox, ['sessions', 'export', '--all'], {env: source})).stdout
    const existing = await seed(['e1', 'e2'])
    const imported = await synapse(sandbox, ['sessions', 'import', '-'], {input: exported})
    expect(imported.code, imported.stderr).to.equal(0)
    expect(imported.stdout).to.equal('Imported 3 sessions (0 messages).\n')
    expect(imported.stderr).to.equal(
      'synapse: the store is now past its retention limits: the next command’s automatic cleanup will delete 2 sessions beyond the 3 most recently updated (max_sessions) — set [session] max_sessions (0 turns a limit off), or keep one with "synapse sessions keep <id>"\n',
    )
    expect((await remaining()).length).to.equal(5)
    expect((await remaining()).slice(0, 2)).to.deep.equal(existing)
  })

  describe('sessions prune', () => {
    it('refuses in a pipe without --force, deleting nothing', async () => {
      writeUserConfig(sandbox, '[session]\nmax_sessions = 1\nauto_cleanup = false\n')
      const ids = await seed(['a', 'b'])
      const refused = await synapse(sandbox, ['sessions', 'prune'])
      expect(refused.code).to.equal(1)
      expect(refused.stderr).to.equal(
        'Error: Refusing to prune 1 session without confirmation.\n  → Add --force to delete without asking, or --dry-run to see what would go.\n',
      )
      expect(await remaining()).to.deep.equal(ids)
    })

    it('lists what would go and asks at a terminal; yes deletes, Ctrl-C cancels with exit 130', async function () {
      requireProgram(this, 'script')
      writeUserConfig(sandbox, '[session]\nmax_sessions = 1\nauto_cleanup = false\n')
      const ids = await seed(['a', 'b'])
      const short = await shortIds()
      const cancelled = new Terminal(sandbox, ['sessions', 'prune'], {columns: 80})
      await cancelled.until('[y/N] ')
      cancelled.type('\u0003')
      expect(await cancelled.done).to.equal(130)
      const table = ['ID        TITLE  MODEL               MSGS  CREATED  UPDATED', `${short[ids[0]]}  a      openai/gpt-4o-mini  2     2 d ago  2 d ago`]
      expect(cancelled.lines()).to.deep.equal([
        ...table,
        'Delete these 1 session (max_sessions 1, retention_days 90)? [y/N] ',
        'Error: Cancelled; nothing was deleted.',
      ])
      expect(await remaining()).to.deep.equal(ids)

      const confirmed = new Terminal(sandbox, ['sessions', 'prune'], {columns: 80})
      await confirmed.until('[y/N] ')
      confirmed.type('y\r')
      expect(await confirmed.done).to.equal(0)
      expect(confirmed.lines()).to.deep.equal([
        ...table,
        'Delete these 1 session (max_sessions 1, retention_days 90)? [y/N] y\r',
        'Deleted 1 session (max_sessions 1, retention_days 90).',
      ])
      expect(await remaining()).to.deep.equal([ids[1]])
    })
  })

  describe('sessions delete at a terminal', () => {
    // util-linux `script` gives each test its terminal.
    beforeEach(function () {
      requireProgram(this, 'script')
    })

    it('names each session by its title or first prompt, and Ctrl-C cancels with exit 130 and one line', async () => {
      const ids = await seed([null, 'Titled'])
      const terminal = new Terminal(sandbox, ['sessions', 'delete', ids[0].slice(0, 12), ids[1].slice(0, 12)], {columns: 80})
      await terminal.until('[y/N] ')
      terminal.type('\u0003')
      expect(await terminal.done).to.equal(130)
      expect(terminal.lines()).to.deep.equal([
        `  ${ids[0]}  Question number 0`,
        `  ${ids[1]}  Titled`,
        'Delete 2 sessions and all their messages? [y/N] ',
        'Error: Cancelled; nothing was deleted.',
      ])
      expect(await remaining()).to.deep.equal(ids)
    })

    it('Ctrl-D or "no" deletes nothing, exit 0', async () => {
      const ids = await seed(['one'])
      const terminal = new Terminal(sandbox, ['sessions', 'delete', ids[0]], {columns: 80})
      await terminal.until('[y/N] ')
      terminal.type('\u0004')
      expect(await terminal.done).to.equal(0)
      expect(terminal.lines().slice(-2)).to.deep.equal(['Delete 1 session and all their messages? [y/N] ', 'Nothing deleted.'])
      expect(await remaining()).to.deep.equal(ids)
    })
  })

  describe('sessions list on a terminal', () => {
    // util-linux `script` gives each test its terminal.
    beforeEach(function () {
      requireProgram(this, 'script')
    })

    const titles = [
      'Plain ASCII title that is long enough to be cut somewhere along the way, surely',
      '日本語のタイトルはとても長いのでどこかで切られるはずです、きっと',
      '🎉 Emoji party 👨‍👩‍👧 family 🇫🇷 flag and more words to fill the line',
      'Short',
    ]

    it('at 60 columns no row wraps, and CJK, emoji and ASCII rows stay aligned', async () => {
      await seed(titles, {model: 'gpt-4o-mini'})
      const {code, lines} = await runOnTerminal(sandbox, ['sessions', 'list'], {columns: 60})
      expect(code).to.equal(0)
      expect(lines).to.have.length(5)
      for (const line of lines) expect(displayWidth(line), line).to.be.at.most(60)
      // Every row's MODEL cell starts at the header's column, however wide the title's characters.
      const modelColumn = displayWidth(lines[0].slice(0, lines[0].indexOf('MODEL')))
      for (const line of lines.slice(1)) expect(displayWidth(line.slice(0, line.indexOf('openai/'))), line).to.equal(modelColumn)
      const short = Object.values(await shortIds())
      expect(lines.map(line => line.replace(/^\S+/, 'ID'))).to.deep.equal([
        'ID        TITLE                    MODEL       MSGS  UPDATED',
        'ID  Short                    openai/gp…  2     1 d ago',
        'ID  🎉 Emoji party 👨‍👩‍👧 fami…  openai/gp…  2     2 d ago',
        'ID  日本語のタイトルはとて…  openai/gp…  2     3 d ago',
        'ID  Plain ASCII title that…  openai/gp…  2     4 d ago',
      ])
      expect(short).to.have.length(4)
    })

    it('at 120 columns titles get the room there is, not 48 characters', async () => {
      const sixty = 'A title of sixty characters, which the old list cut at 48...'
      expect(sixty).to.have.length(60)
      await seed([sixty, titles[0]])
      const {lines} = await runOnTerminal(sandbox, ['sessions', 'list'], {columns: 120})
      expect(lines[2]).to.match(new RegExp(`^\\S{8}  ${sixty} +openai/gpt-4o-mini  2 `))
      // The longer one gets all the room the other columns leave in 120.
      expect(lines[1]).to.match(
        /^\S{8} {2}Plain ASCII title that is long enough to be cut somewhere along t… {2}openai\/gpt-4o-mini {2}2 {5}1 d ago {2}1 d ago$/,
      )
      expect(lines.map(line => displayWidth(line))).to.deep.equal([120, 120, 120])
    })

    it('says how many there are in all under a partial list; a pipe gets the rows alone, as before', async () => {
      const ids = await seed(Array.from({length: 25}, (_, i) => `s${i}`))
      const screen = await runOnTerminal(sandbox, ['sessions', 'list'], {columns: 100})
      expect(screen.lines).to.have.length(22)
      expect(screen.lines.at(-1)).to.equal('20 of 25 sessions · --all or --limit N')
      expect((await runOnTerminal(sandbox, ['sessions', 'list', '--limit', '25'], {columns: 100})).lines.at(-1)).to.match(/^\S+ {2}s0 /)
      expect((await runOnTerminal(sandbox, ['sessions', 'list', '--all'], {columns: 100})).lines).to.have.length(26)

      const piped = await synapse(sandbox, ['sessions', 'list'])
      const rows = piped.stdout.split('\n')
      expect(rows).to.have.length(21)
      expect(rows.at(-1)).to.equal('')
      const [newest] = await withStore(async store => store.list({limit: 1}))
      expect(rows[0]).to.equal([ids[24], 's24', 'openai/gpt-4o-mini', '2', newest.createdAt.toISOString(), newest.updatedAt.toISOString()].join('\t'))
    })
  })
})
