import {expect} from 'chai'
import {join} from 'node:path'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {run} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

describe('sessions commands', () => {
  let sandbox: Sandbox
  let dbPath: string

  beforeEach(() => {
    sandbox = makeSandbox()
    dbPath = join(sandbox.configDir, 'sessions.db')
  })
  afterEach(() => sandbox.cleanup())

  /** Opens the sandbox's default database directly, to arrange or inspect what the commands see. */
  async function withStore<T>(work: (store: SessionStore) => Promise<T>): Promise<T> {
    const store = await openSqliteStore({path: dbPath})
    try {
      return await work(store)
    } finally {
      await store.close()
    }
  }

  async function seed(): Promise<{a: string; b: string}> {
    return withStore(async store => {
      const a = await store.create({model: 'gpt-4o-mini', provider: 'openai', title: 'Alpha'})
      await store.append(a.id, [
        {content: 'What is WAL?', role: 'user'},
        {content: 'Write-ahead logging.', inputTokens: 4, model: 'gpt-4o-mini', outputTokens: 3, role: 'assistant'},
      ])
      const b = await store.create()
      await store.append(b.id, [{content: 'Second question', role: 'user'}])
      return {a: a.id, b: b.id}
    })
  }

  describe('list', () => {
    it('prints tab-separated rows with full ids when piped, newest first', async () => {
      const {a, b} = await seed()
      const {exitCode, stdout} = await run(sandbox, ['sessions', 'list'])
      expect(exitCode).to.equal(0)
      const rows = stdout
        .trimEnd()
        .split('\n')
        .map(line => line.split('\t'))
      expect(rows.map(r => r.slice(0, 4))).to.deep.equal([
        [b, 'Second question', '', '1'],
        [a, 'Alpha', 'openai/gpt-4o-mini', '2'],
      ])
      expect(rows[0][4]).to.match(/^\d{4}-\d\d-\d\dT/)
    })

    it('returns the documented JSON shape', async () => {
      const {a} = await seed()
      const {exitCode, stdout} = await run(sandbox, ['sessions', 'list', '--json', '--limit', '1'])
      expect(exitCode).to.equal(0)
      const listed = JSON.parse(stdout)
      expect(listed).to.have.length(1)
      expect(Object.keys(listed[0]).sort()).to.deep.equal([
        'createdAt',
        'id',
        'kept',
        'messageCount',
        'model',
        'preview',
        'provider',
        'shortId',
        'title',
        'updatedAt',
        'usage',
      ])
      const all = JSON.parse((await run(sandbox, ['sessions:list', '--all', '--json'])).stdout)
      expect(all.map((s: {id: string}) => s.id)).to.include(a)
      expect(all.find((s: {id: string}) => s.id === a)).to.deep.include({
        messageCount: 2,
        model: 'gpt-4o-mini',
        preview: 'What is WAL?',
        kept: false,
        provider: 'openai',
        title: 'Alpha',
      })
    })

    it('prints nothing in a pipe when there are no sessions', async () => {
      const {exitCode, stdout} = await run(sandbox, ['sessions', 'list'])
      expect(exitCode).to.equal(0)
      expect(stdout).to.equal('')
    })

    it('rejects a bad --limit as a usage error', async () => {
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'list', '--limit', '0'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.match(/^Error: .*--limit.*\n {2}→ See "synapse sessions list --help"\.\n$/)
    })
  })

  describe('show', () => {
    it('shows a session by unique prefix with its messages', async () => {
      const {a} = await seed()
      const {exitCode, stdout} = await run(sandbox, ['sessions', 'show', a.slice(0, 25).toLowerCase()])
      expect(exitCode).to.equal(0)
      expect(stdout).to.contain(`Session ${a}  Alpha`)
      expect(stdout).to.contain('model openai/gpt-4o-mini')
      expect(stdout).to.contain('user\nWhat is WAL?\n\nassistant · gpt-4o-mini · 4→3 tokens · cost unknown\nWrite-ahead logging.\n')
    })

    it('returns the session and its messages as JSON', async () => {
      const {a} = await seed()
      const {stdout} = await run(sandbox, ['sessions', 'show', a, '--json'])
      const shown = JSON.parse(stdout)
      expect(shown).to.deep.include({id: a, model: 'gpt-4o-mini', provider: 'openai', title: 'Alpha'})
      expect(
        shown.messages.map((m: {content: string; position: number; role: string; status: string}) => [m.position, m.role, m.content, m.status]),
      ).to.deep.equal([
        [0, 'user', 'What is WAL?', 'complete'],
        [1, 'assistant', 'Write-ahead logging.', 'complete'],
      ])
    })

    it('fails with one line and a hint for an unknown id, exit 1', async () => {
      await seed()
      const {exitCode, stderr, stdout} = await run(sandbox, ['sessions', 'show', '01ZZZZZZ'])
      expect(exitCode).to.equal(1)
      expect(stdout).to.equal('')
      expect(stderr).to.equal('Error: No session matches "01ZZZZZZ".\n  → Run "synapse sessions list" to see the saved sessions.\n')
    })

    it('reports an ambiguous prefix, exit 1', async () => {
      await withStore(async store => {
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA1'})
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA2'})
      })
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'show', '01JCA'])
      expect(exitCode).to.equal(1)
      expect(stderr.split('\n')[0]).to.equal('Error: "01JCA" matches 2 sessions: 01JCAAAAAAAAAAAAAAAAAAAAA1, 01JCAAAAAAAAAAAAAAAAAAAAA2.')
    })

    it('puts errors in JSON under --json', async () => {
      const {exitCode, stdout} = await run(sandbox, ['sessions', 'show', '01ZZZZZZ', '--json'])
      expect(exitCode).to.equal(1)
      expect(JSON.parse(stdout)).to.deep.equal({
        error: {
          code: 'SESSION_NOT_FOUND',
          exitCode: 1,
          message: 'No session matches "01ZZZZZZ".',
          suggestions: ['Run "synapse sessions list" to see the saved sessions.'],
        },
      })
    })

    it('names an unknown flag in one line, exit 2', async () => {
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'list', '--bogus'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.equal('Error: Unknown flag --bogus.\n  → See "synapse sessions list --help".\n')
    })

    it('exits 2 on a missing argument', async () => {
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'show'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.equal('Error: Missing argument ID (Session id or a unique prefix of it).\n  → See "synapse sessions show --help".\n')
    })
  })

  describe('new and rename', () => {
    it('creates a session with a title, system prompt and metadata, printing only the id in a pipe', async () => {
      const {exitCode, stdout} = await run(sandbox, [
        'sessions',
        'new',
        '--title',
        'Plans',
        '--system',
        'Be brief.',
        '--meta',
        'tenant=acme',
        '--meta',
        'user=ada=lovelace',
      ])
      expect(exitCode).to.equal(0)
      const id = stdout.trim()
      expect(id).to.match(/^[0-9A-Z]{26}$/)
      const session = await withStore(store => store.get(id))
      expect(session).to.deep.include({systemPrompt: 'Be brief.', title: 'Plans'})
      expect(session.metadata).to.deep.equal({tenant: 'acme', user: 'ada=lovelace'})
      const shown = (await run(sandbox, ['sessions', 'show', id])).stdout
      expect(shown).to.contain('system: Be brief.').and.to.contain('meta: tenant=acme user=ada=lovelace')
    })

    it('rejects metadata without "=" and creates nothing', async () => {
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'new', '--meta', 'oops'])
      expect(exitCode).to.equal(2)
      expect(stderr).to.contain('--meta takes key=value, not "oops".')
      expect(await withStore(store => store.count())).to.equal(0)
    })

    it('renames by prefix', async () => {
      const {b} = await seed()
      const {exitCode, result} = await run<{title: string}>(sandbox, ['sessions', 'rename', b.slice(0, 26), 'Better-title'])
      expect(exitCode).to.equal(0)
      expect(result?.title).to.equal('Better-title')
      expect((await withStore(store => store.get(b))).title).to.equal('Better-title')
    })
  })

  describe('delete', () => {
    it('refuses without a terminal or --force, deleting nothing', async () => {
      const {a} = await seed()
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'delete', a])
      expect(exitCode).to.equal(1)
      expect(stderr).to.equal('Error: Refusing to delete 1 session without confirmation.\n  → Add --force to delete without asking.\n')
      expect(await withStore(store => store.count())).to.equal(2)
    })

    it('deletes several sessions with --force, messages included', async () => {
      const {a, b} = await seed()
      const {exitCode, result} = await run<{deleted: Array<{id: string}>}>(sandbox, ['sessions', 'delete', a, b.slice(0, 26), '--force'])
      expect(exitCode).to.equal(0)
      expect(result?.deleted.map(d => d.id)).to.deep.equal([a, b])
      expect(await withStore(store => store.count())).to.equal(0)
    })

    it('deletes nothing when one of the ids is unknown', async () => {
      const {a} = await seed()
      const {exitCode} = await run(sandbox, ['sessions', 'delete', a, '01ZZZZZZZZ', '--force'])
      expect(exitCode).to.equal(1)
      expect(await withStore(store => store.count())).to.equal(2)
    })
  })
})
