import {expect} from 'chai'
import {join} from 'node:path'

import {localTimestamp} from '../../src/cli/output.js'
import type {SessionsListEntry} from '../../src/commands/sessions/list.js'
import type {SessionsSearchResult} from '../../src/commands/sessions/search.js'
import type {Message, Session} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {run} from '../helpers/cli.js'
import {requireProgram} from '../helpers/programs.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {Terminal} from '../helpers/terminal.js'

const HOSTILE = 'x\u001B]0;pwned\u0007y'

describe('sessions search (end to end)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let dbPath: string
  let release: Session
  let other: Session
  let question: Message
  let answer: Message

  async function seed(): Promise<void> {
    const store = await openSqliteStore({path: dbPath})
    release = await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAAA', model: 'gpt-4o', provider: 'openai', title: 'Release notes draft'})
    ;[question, answer] = await store.append(release.id, [
      {content: 'Write the release notes, and mention the zebra fix', role: 'user'},
      {content: `Release notes:\n\n- Fixed the zebra crossing ${HOSTILE}`, model: 'gpt-4o', role: 'assistant'},
    ])
    other = await store.create({id: '01JCBBBBBBBBBBBBBBBBBBBBBB', model: 'claude', provider: 'anthropic'})
    await store.append(other.id, [{content: 'What is a zebra?', role: 'user'}])
    // As the appends left them.
    release = await store.get(release.id)
    other = await store.get(other.id)
    await store.close()
  }

  async function messagesOf(sessionId: string): Promise<Message[]> {
    const store = await openSqliteStore({path: dbPath})
    try {
      return await store.messages(sessionId)
    } finally {
      await store.close()
    }
  }

  beforeEach(() => {
    sandbox = makeSandbox()
    dbPath = join(sandbox.root, 'sessions.db')
    sandbox.env.DATABASE_URL = dbPath
  })
  afterEach(() => sandbox.cleanup())

  it('over an empty history: one error with a remedy, exit 1', async () => {
    const outcome = await run(sandbox, ['sessions', 'search', 'zebra'])
    expect(outcome).to.deep.include({exitCode: 1, stdout: ''})
    expect(outcome.stderr).to.equal('Error: There is no saved session to search yet.\n  → Start one with: synapse "Hello"\n')
  })

  it('refuses a query of only punctuation and a 10 KB query, exit 2, saying the limit', async () => {
    await seed()
    const punctuation = await run(sandbox, ['sessions', 'search', '?!-- ()'])
    expect(punctuation).to.deep.include({exitCode: 2, stdout: ''})
    expect(punctuation.stderr.split('\n')[0]).to.equal('Error: The search query "?!-- ()" has no words to search for.')
    expect(punctuation.stderr.split('\n')[1]).to.match(/^ {2}→ Search for words or numbers/)
    const long = await run(sandbox, ['sessions', 'search', 'zebra '.repeat(1707)])
    expect(long).to.deep.include({exitCode: 2, stdout: ''})
    expect(long.stderr.split('\n')[0]).to.equal('Error: The search query is 10,242 characters long; at most 1000 are allowed.')
    const json = await run(sandbox, ['sessions', 'search', '((', '--json'])
    expect(json.exitCode).to.equal(2)
    expect(JSON.parse(json.stdout).error).to.deep.include({code: 'INVALID_INPUT', exitCode: 2})
    const when = await run(sandbox, ['sessions', 'search', 'zebra', '--since', 'yesterday'])
    expect(when.exitCode).to.equal(2)
    expect(when.stderr.split('\n')[0]).to.equal(
      'Error: --since: "yesterday" is neither a date (2026-11-30, 2026-11-30T14:00Z) nor a duration (30m, 12h, 7d, 2w).',
    )
  })

  it('in a pipe: one tab-separated line per hit, titles first, text made safe', async () => {
    await seed()
    const outcome = await run(sandbox, ['sessions', 'search', 'release notes'])
    expect(outcome.exitCode).to.equal(0)
    const [title, ...messages] = outcome.stdout.split('\n')
    expect(title).to.equal([release.id, '', 'title', release.updatedAt.toISOString(), 'openai/gpt-4o', 'Release notes draft', 'Release notes draft'].join('\t'))
    // The two messages' order is their relevance, which the contract leaves to the backend.
    expect(messages.sort()).to.deep.equal(
      [
        '',
        [
          release.id,
          answer.id,
          'assistant',
          answer.createdAt.toISOString(),
          'openai/gpt-4o',
          String.raw`Release notes: - Fixed the zebra crossing x\x1b]0;pwned\x07y`,
          'Release notes draft',
        ].join('\t'),
        [
          release.id,
          question.id,
          'user',
          question.createdAt.toISOString(),
          'openai/gpt-4o',
          'Write the release notes, and mention the zebra fix',
          'Release notes draft',
        ].join('\t'),
      ].sort(),
    )
  })

  it('in a pipe: an untitled session named last by its first question, as `sessions list` names it', async () => {
    await seed()
    const [asked] = await messagesOf(other.id)
    const outcome = await run(sandbox, ['sessions', 'search', 'zebra', '--provider', 'anthropic'])
    expect(outcome.stdout).to.equal(
      `${[other.id, asked.id, 'user', asked.createdAt.toISOString(), 'anthropic/claude', 'What is a zebra?', 'What is a zebra?'].join('\t')}\n`,
    )
    const list = await run(sandbox, ['sessions', 'list'])
    expect(
      list.stdout
        .split('\n')
        .find(line => line.startsWith(other.id))
        ?.split('\t')[1],
    ).to.equal('What is a zebra?')
  })

  it('no match: exit 1, one line on stderr, nothing on stdout; filters narrow the hits', async () => {
    await seed()
    const none = await run(sandbox, ['sessions', 'search', 'giraffe'])
    expect(none).to.deep.include({exitCode: 1, stderr: 'Nothing matches "giraffe".\n', stdout: ''})
    const ids = async (args: string[]) => {
      const outcome = await run<SessionsSearchResult>(sandbox, ['sessions', 'search', 'zebra', '--json', ...args])
      return outcome.result?.hits.map(hit => hit.message?.id) ?? []
    }
    expect((await ids([])).length).to.equal(3)
    expect(await ids(['--role', 'assistant'])).to.deep.equal([answer.id])
    expect(await ids(['--provider', 'anthropic'])).to.have.length(1)
    expect((await ids(['--session', '01jcaa'])).sort()).to.deep.equal([question.id, answer.id].sort())
    expect(await ids(['--since', '1h'])).to.have.length(3)
    expect(await ids(['--until', '2020-01-01'])).to.deep.equal([])
    expect(await ids(['--limit', '1'])).to.have.length(1)
    const emptyJson = await run<SessionsSearchResult>(sandbox, ['sessions', 'search', 'zebra', '--model', 'nope', '--json'])
    expect(emptyJson.exitCode).to.equal(1)
    expect(JSON.parse(emptyJson.stdout)).to.deep.equal({hits: [], query: 'zebra'})
    const ambiguous = await run(sandbox, ['sessions', 'search', 'zebra', '--session', '01JC'])
    expect(ambiguous.exitCode).to.equal(1)
    expect(ambiguous.stderr.split('\n')[0]).to.match(/^Error: "01JC" matches 2 sessions/)
  })

  it('--json: typed hits with the exact stored text and the match ranges', async () => {
    await seed()
    const outcome = await run<SessionsSearchResult>(sandbox, ['sessions', 'search', '"zebra crossing"', '--json'])
    const parsed = JSON.parse(outcome.stdout) as SessionsSearchResult
    expect(parsed.query).to.equal('"zebra crossing"')
    expect(parsed.hits).to.have.length(1)
    const [hit] = parsed.hits
    expect(hit.message).to.deep.equal({createdAt: answer.createdAt.toISOString(), id: answer.id, position: 1, role: 'assistant'})
    expect(hit.session).to.deep.equal({
      id: release.id,
      model: 'gpt-4o',
      preview: 'Write the release notes, and mention the zebra fix',
      provider: 'openai',
      shortId: '01JCAAAA',
      title: 'Release notes draft',
      updatedAt: release.updatedAt.toISOString(),
    })
    expect(hit.snippet.text).to.equal(`Release notes: - Fixed the zebra crossing ${HOSTILE}`)
    // An untitled session's hit carries the preview its listing has.
    const untitled = await run<SessionsSearchResult>(sandbox, ['sessions', 'search', 'zebra', '--provider', 'anthropic', '--json'])
    const listed = await run<SessionsListEntry[]>(sandbox, ['sessions', 'list', '--json'])
    expect(untitled.result?.hits.map(h => h.session)).to.deep.equal([
      {
        id: other.id,
        model: 'claude',
        preview: listed.result?.find(s => s.id === other.id)?.preview,
        provider: 'anthropic',
        shortId: '01JCBBBB',
        title: null,
        updatedAt: other.updatedAt.toISOString(),
      },
    ])
    expect(untitled.result?.hits[0].session.preview).to.equal('What is a zebra?')
    expect(hit.snippet.matches.map(r => hit.snippet.text.slice(r.start, r.end))).to.deep.equal(['zebra crossing'])
    expect(hit.score).to.be.a('number')
    expect(hit.replaced).to.equal(false)
  })

  /** A session whose answer was retried: the old reply is out of the conversation. */
  async function seedRetried(): Promise<{again: Message; old: Message; session: Session}> {
    const store = await openSqliteStore({path: dbPath})
    const session = await store.create({id: '01JCCCCCCCCCCCCCCCCCCCCCCC', model: 'gpt-4o', provider: 'openai', title: 'Birds'})
    const [asked] = await store.append(session.id, [{content: 'Name a gull', role: 'user', status: 'pending'}])
    const old = await store.appendReply(session.id, asked.id, {content: 'The kittiwake gull, wrongly', role: 'assistant'})
    const again = await store.appendReply(session.id, asked.id, {content: 'The herring gull', role: 'assistant'}, {replaces: {reply: old.id}})
    await store.close()
    return {again, old, session}
  }

  it('leaves out what a retry replaced; --all finds it, marked in a pipe and in --json', async () => {
    const {again, old, session} = await seedRetried()
    expect(await run(sandbox, ['sessions', 'search', 'kittiwake'])).to.deep.include({exitCode: 1, stderr: 'Nothing matches "kittiwake".\n', stdout: ''})
    const piped = await run(sandbox, ['sessions', 'search', 'kittiwake', '--all'])
    expect(piped).to.deep.include({
      exitCode: 0,
      stdout: `${[session.id, old.id, 'assistant (replaced)', old.createdAt.toISOString(), 'openai/gpt-4o', 'The kittiwake gull, wrongly', 'Birds'].join('\t')}\n`,
    })
    const json = await run<SessionsSearchResult>(sandbox, ['sessions', 'search', 'gull', '--role', 'assistant', '--all', '--json'])
    expect(json.result?.hits.map(hit => [hit.message?.id, hit.replaced]).sort()).to.deep.equal(
      [
        [again.id, false],
        [old.id, true],
      ].sort(),
    )
    const current = await run<SessionsSearchResult>(sandbox, ['sessions', 'search', 'gull', '--role', 'assistant', '--json'])
    expect(current.result?.hits.map(hit => [hit.message?.id, hit.replaced])).to.deep.equal([[again.id, false]])
  })

  describe('on a terminal', () => {
    before(function () {
      requireProgram(this, 'script')
    })

    it('shows short id, title, local date, model, and the snippet with matches in bold colour', async () => {
      await seed()
      const terminal = new Terminal(sandbox, ['sessions', 'search', 'zebra', '--role', 'assistant'], {
        columns: 120,
        env: {NO_COLOR: '', TERM: 'xterm-256color'},
      })
      expect(await terminal.done).to.equal(0)
      const lines = terminal.lines()
      expect(lines[0]).to.equal(
        `\u001B[36m01JCAAAA\u001B[39m  \u001B[1mRelease notes draft\u001B[22m  \u001B[2m${localTimestamp(answer.createdAt)}\u001B[22m  openai/gpt-4o  \u001B[2massistant\u001B[22m`,
      )
      expect(lines[1]).to.equal(`  Release notes: - Fixed the \u001B[33m\u001B[1mzebra\u001B[22m\u001B[39m crossing ${String.raw`x\x1b]0;pwned\x07y`}`)
      expect(lines).to.have.length(2)
    })

    it('marks a hit --all found out of the conversation after its role, in yellow', async () => {
      const {old} = await seedRetried()
      const terminal = new Terminal(sandbox, ['sessions', 'search', 'kittiwake', '--all'], {columns: 120, env: {NO_COLOR: '', TERM: 'xterm-256color'}})
      expect(await terminal.done).to.equal(0)
      const lines = terminal.lines()
      expect(lines[0]).to.equal(
        `\u001B[36m01JCCCCC\u001B[39m  \u001B[1mBirds\u001B[22m  \u001B[2m${localTimestamp(old.createdAt)}\u001B[22m  openai/gpt-4o  \u001B[2massistant\u001B[22m \u001B[33m(replaced)\u001B[39m`,
      )
      expect(lines[1]).to.equal('  The \u001B[33m\u001B[1mkittiwake\u001B[22m\u001B[39m gull, wrongly')
      expect(lines).to.have.length(2)
    })

    it('honours NO_COLOR: the same lines without a single escape', async () => {
      await seed()
      const terminal = new Terminal(sandbox, ['sessions', 'search', 'zebra'], {columns: 120, env: {NO_COLOR: '1', TERM: 'xterm-256color'}})
      expect(await terminal.done).to.equal(0)
      expect(terminal.output()).to.not.contain('\u001B')
      const lines = terminal.lines()
      const hits = Array.from({length: lines.length / 2}, (_, i) => `${lines[2 * i]}\n${lines[2 * i + 1]}`)
      // The order is the backend's relevance: the hits, each two lines, are compared as a set.
      expect(hits.sort()).to.deep.equal(
        [
          // Untitled: named by its first question, as `sessions list` names it.
          `01JCBBBB  What is a zebra?  ${localTimestamp(other.updatedAt)}  anthropic/claude  user\n  What is a zebra?`,
          `01JCAAAA  Release notes draft  ${localTimestamp(answer.createdAt)}  openai/gpt-4o  assistant\n${String.raw`  Release notes: - Fixed the zebra crossing x\x1b]0;pwned\x07y`}`,
          `01JCAAAA  Release notes draft  ${localTimestamp(question.createdAt)}  openai/gpt-4o  user\n  Write the release notes, and mention the zebra fix`,
        ].sort(),
      )
    })
  })
})
