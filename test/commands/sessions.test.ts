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
        'parentId',
        'parentPosition',
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
      expect(stdout).to.contain('user · #0\nWhat is WAL?\n\nassistant · #1 · gpt-4o-mini · 4→3 tokens · cost unknown\nWrite-ahead logging.\n')
    })

    it('--all marks a reply that another process stored after its question was undone, and counts it out', async () => {
      const {a} = await seed()
      await withStore(async store => {
        const [question] = await store.append(a, [{content: 'A question undone', role: 'user', status: 'complete'}])
        await store.undo(a)
        await store.append(a, [{content: 'A late answer', model: 'gpt-4o-mini', replyTo: question.id, role: 'assistant'}])
      })
      const current = (await run(sandbox, ['sessions', 'show', a])).stdout
      expect(current).to.not.contain('A late answer')
      expect(current.split('\n')[1]).to.match(/ · 2 messages · 2 more taken out of the conversation \(--all shows them\)$/)
      const all = (await run(sandbox, ['sessions', 'show', a, '--all'])).stdout.split('\n')
      expect(all[1]).to.match(/ · 4 messages · 2 taken out of the conversation$/)
      const headers = all.filter(line => /^(user|assistant) ·/.test(line))
      expect(headers[2]).to.match(/^user · #2 · undone \d{4}-\d\d-\d\d \d\d:\d\d$/)
      expect(headers[3]).to.equal('assistant · #3 · gpt-4o-mini · answers a question taken out')
    })

    it('takes an empty reference (an unset variable) as a usage error, exit 2, in every command that names a session', async () => {
      await seed()
      for (const args of [
        ['sessions', 'show', ''],
        ['sessions', 'rename', ' ', 'New'],
        ['sessions', 'fork', ''],
      ]) {
        const {exitCode, stderr} = await run(sandbox, args)
        expect([args, exitCode, stderr.split('\n')[0]]).to.deep.equal([args, 2, 'Error: The session reference is empty.'])
      }
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
      expect(stderr).to.equal('Error: Missing argument ID (Session id, a unique prefix of it, or its exact title).\n  → See "synapse sessions show --help".\n')
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

    it('refuses a provider that is not installed as a usage error, naming the known ones, and creates nothing', async () => {
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'new', '-p', 'opnai'])
      expect(exitCode).to.equal(2)
      expect(stderr.split('\n')[0]).to.match(/^Error: Unknown provider "opnai"\. Known providers: .*\banthropic\b.*\bopenai\b/)
      expect(stderr).to.contain('Did you mean "openai"?')
      expect(await withStore(store => store.count())).to.equal(0)
      expect((await run(sandbox, ['sessions', 'new', '-p', 'anthropic'])).exitCode).to.equal(0)
    })

    it('refuses an empty or blank title, as rename does, and creates nothing; trims the spaces around one', async () => {
      for (const title of ['', '   ']) {
        const {exitCode, stderr} = await run(sandbox, ['sessions', 'new', '--title', title])
        expect(exitCode).to.equal(2)
        expect(stderr).to.equal('Error: A title cannot be empty.\n  → Leave out --title: a session without one is listed by its first question.\n')
      }
      expect(await withStore(store => store.count())).to.equal(0)
      const {stdout} = await run(sandbox, ['sessions', 'new', '--title', '  Plans  '])
      expect((await withStore(store => store.get(stdout.trim()))).title).to.equal('Plans')
      const {exitCode, stderr} = await run(sandbox, ['sessions', 'rename', stdout.trim(), ' '])
      expect([exitCode, stderr]).to.deep.equal([2, 'Error: A title cannot be empty.\n  → Give a title with something in it, or keep the one it has.\n'])
      expect((await withStore(store => store.get(stdout.trim()))).title).to.equal('Plans')
    })

    it('refuses a title over 500 characters in new and rename, writing nothing; a fork of a parent titled so long cuts the parent title', async () => {
      const long = 'x'.repeat(501)
      const refusal =
        'Error: A title has at most 500 characters; this one has 501.\n  → Give a shorter one: the title names the session in listings, and the conversation keeps the rest.\n'
      expect(await run(sandbox, ['sessions', 'new', '--title', long])).to.include({exitCode: 2, stderr: refusal})
      expect(await withStore(store => store.count())).to.equal(0)
      const id = (await run(sandbox, ['sessions', 'new', '--title', 'x'.repeat(500)])).stdout.trim()
      expect(await run(sandbox, ['sessions', 'rename', id, long])).to.include({exitCode: 2, stderr: refusal})
      const fork = await withStore(async store => {
        // An emoji across the cut: never half of it.
        await store.update(id, {title: `${'y'.repeat(491)}😀tail`})
        return store.fork(id)
      })
      expect(fork.title).to.equal(`${'y'.repeat(491)}… (fork)`)
      expect((await withStore(store => store.get(id))).title).to.equal(`${'y'.repeat(491)}😀tail`)
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

  describe('sessions by name', () => {
    it('show, rename, keep, export, fork and delete take an exact title', async () => {
      const {a} = await seed()
      expect((await run(sandbox, ['sessions', 'show', 'Alpha'])).stdout).to.contain(`Session ${a}  Alpha`)
      expect((await run<{title: string}>(sandbox, ['sessions', 'rename', 'Alpha', 'Release notes'])).result?.title).to.equal('Release notes')
      expect((await run<{sessions: Array<{id: string}>}>(sandbox, ['sessions', 'keep', 'Release notes'])).result?.sessions.map(s => s.id)).to.deep.equal([a])
      const exported = await run(sandbox, ['sessions', 'export', 'Release notes'])
      expect(JSON.parse(exported.stdout).id).to.equal(a)
      const fork = await run<{id: string; parentId: string}>(sandbox, ['sessions', 'fork', 'Release notes'])
      expect(fork.result?.parentId).to.equal(a)
      expect((await run(sandbox, ['sessions', 'delete', 'Release notes (fork)', '--force'])).exitCode).to.equal(0)
      expect((await run(sandbox, ['sessions', 'delete', 'Release notes', '--force'])).exitCode).to.equal(0)
      expect(await withStore(store => store.count())).to.equal(1)
    })

    it('reports a title several sessions share with their short ids and dates, exit 1, changing nothing', async () => {
      const [one, two] = await withStore(async store => [await store.create({title: 'Notes'}), await store.create({title: 'Notes'})])
      const {exitCode, stderr, stdout} = await run(sandbox, ['sessions', 'delete', 'Notes', '--force'])
      expect(exitCode).to.equal(1)
      expect(stdout).to.equal('')
      const when = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ')
      expect(stderr).to.equal(
        `Error: "Notes" is the title of 2 sessions: ${await shortOf(one.id)} (updated ${when(one.updatedAt)} UTC), ${await shortOf(two.id)} (updated ${when(two.updatedAt)} UTC).\n` +
          '  → Use the id instead ("synapse sessions list" shows them), or give one of them another title with "synapse sessions rename".\n',
      )
      expect(await withStore(store => store.count())).to.equal(2)
    })

    async function shortOf(id: string): Promise<string> {
      return withStore(async store => (await store.list({limit: 100})).find(s => s.id === id)!.shortId)
    }
  })

  describe('fork', () => {
    it('copies the messages up to --at, prints only the new id in a pipe, and leaves the original byte for byte', async () => {
      const {a} = await seed()
      const before = (await run(sandbox, ['sessions', 'export', a])).stdout
      const {exitCode, stderr, stdout} = await run(sandbox, ['sessions', 'fork', a.slice(0, 12), '--at', '0', '--title', 'Just the question'])
      expect(stderr).to.equal('')
      expect(exitCode).to.equal(0)
      const forkId = stdout.trim()
      expect(forkId).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/)
      expect((await run(sandbox, ['sessions', 'export', a])).stdout).to.equal(before)
      const fork = await withStore(async store => ({messages: await store.messages(forkId), session: await store.get(forkId)}))
      expect(fork.session).to.deep.include({model: 'gpt-4o-mini', parentId: a, parentPosition: 0, provider: 'openai', title: 'Just the question'})
      expect(fork.messages.map(m => [m.position, m.role, m.content])).to.deep.equal([[0, 'user', 'What is WAL?']])
      const shown = await run(sandbox, ['sessions', 'show', forkId])
      expect(shown.stdout.split('\n')[2]).to.equal(`forked from ${a} at position 0`)
      const listed = JSON.parse((await run(sandbox, ['sessions', 'list', '--json'])).stdout) as Array<{
        id: string
        parentId: null | string
        parentPosition: null | number
      }>
      expect(listed.find(s => s.id === forkId)).to.deep.include({parentId: a, parentPosition: 0})
      expect(listed.find(s => s.id === a)).to.deep.include({parentId: null, parentPosition: null})
      // The fork's export carries its parent, and imports back as it was.
      const forkExport = (await run(sandbox, ['sessions', 'export', forkId])).stdout
      expect(JSON.parse(forkExport)).to.deep.include({parentId: a, parentPosition: 0})
      expect(JSON.parse(before)).to.deep.include({parentId: null, parentPosition: null, version: 4})
    })

    it('returns the fork as JSON, and shows a parent deleted since', async () => {
      const {a} = await seed()
      const {exitCode, result} = await run<Record<string, unknown>>(sandbox, ['sessions', 'fork', 'Alpha', '--json'])
      expect(exitCode).to.equal(0)
      expect(result).to.deep.include({kept: false, messageCount: 2, parentId: a, parentPosition: 1, title: 'Alpha (fork)'})
      expect(Object.keys(result!).sort()).to.deep.equal([
        'createdAt',
        'id',
        'kept',
        'messageCount',
        'metadata',
        'model',
        'parentId',
        'parentPosition',
        'provider',
        'systemPrompt',
        'title',
        'updatedAt',
      ])
      const forkId = result!.id as string
      expect((await run(sandbox, ['sessions', 'delete', a, '--force'])).exitCode).to.equal(0)
      expect((await run(sandbox, ['sessions', 'show', forkId])).stdout.split('\n')[2]).to.equal(`forked from ${a} at position 1 (since deleted)`)
      const shown = JSON.parse((await run(sandbox, ['sessions', 'show', forkId, '--json'])).stdout)
      expect(shown).to.deep.include({parentDeleted: true, parentId: a, parentPosition: 1})
      expect(shown.messages.map((m: {content: string}) => m.content)).to.deep.equal(['What is WAL?', 'Write-ahead logging.'])
    })

    it('refuses --at beyond the last position or negative: one line and a remedy, exit 2, nothing written', async () => {
      const {a} = await seed()
      for (const at of ['2', '-1']) {
        const {exitCode, stderr, stdout} = await run(sandbox, ['sessions', 'fork', a, `--at=${at}`])
        expect(exitCode, at).to.equal(2)
        expect(stdout).to.equal('')
        expect(stderr).to.equal(
          `Error: Session ${a} has no position ${at} to fork at: its messages are at positions 0 to 1.\n` +
            '  → Leave out --at to copy every message, or pick a position that "synapse sessions show" lists (#N).\n',
        )
      }
      expect((await run(sandbox, ['sessions', 'fork', a, '--title', ' '])).exitCode).to.equal(2)
      expect(await withStore(store => store.count())).to.equal(2)
    })
  })
})
