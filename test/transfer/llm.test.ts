import Database from 'better-sqlite3'
import {expect} from 'chai'
import {copyFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {SynapseError} from '../../src/core/errors.js'
import type {Message, SessionStore} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {serialize} from '../../src/transfer/format.js'
import {importFromLlm, type LlmImportReport, llmLogsPath, llmUserDir, readLlmDatabase} from '../../src/transfer/llm.js'
import {collectSnapshots} from '../../src/transfer/transfer.js'
import {run} from '../helpers/cli.js'
import {llmFixturePath, newestLlmDatabase, sha256, sidecarsOf} from '../helpers/llm-database.js'
import {SynapseLockHolder} from '../helpers/lock-holder.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/

interface FixtureResponse {
  conversation_id: string
  datetime_utc: string
  duration_ms: number
  id: string
  input_tokens: number
  model: string
  output_tokens: number
  prompt: string
  response: string
  response_json: string
  system: null | string
}

/** What the llm fixture holds, read straight from it: the truth each imported field is checked against. */
function readFixture(): {conversations: Array<{id: string; model: string; name: string}>; responses: FixtureResponse[]} {
  const db = new Database(llmFixturePath(), {fileMustExist: true, readonly: true})
  try {
    return {
      conversations: db.prepare('SELECT id, name, model FROM conversations').all() as Array<{id: string; model: string; name: string}>,
      responses: db.prepare('SELECT * FROM responses ORDER BY datetime_utc').all() as FixtureResponse[],
    }
  } finally {
    db.close()
  }
}

/** llm writes UTC with microseconds and no zone; synapse keeps milliseconds. */
const utc = (datetime: string) => new Date(`${datetime.slice(0, 23)}Z`)

async function exportOf(store: SessionStore): Promise<string> {
  return serialize(await collectSnapshots(store, {all: true}), 'json')
}

describe('import from simonw/llm', () => {
  let sandbox: Sandbox
  let store: SessionStore
  let llmFile: string
  beforeEach(async () => {
    sandbox = makeSandbox()
    mkdirSync(sandbox.root, {recursive: true})
    llmFile = join(sandbox.root, 'logs.db')
    copyFileSync(llmFixturePath(), llmFile)
    store = await openSqliteStore({path: join(sandbox.root, 'synapse.db')})
  })
  afterEach(async () => {
    await store.close()
    sandbox.cleanup()
  })

  describe('the database llm 0.19.1 wrote', () => {
    it('becomes one session per conversation with every field of every response', async () => {
      const before = sha256(llmFile)
      const report = await importFromLlm(store, llmFile)
      expect(sha256(llmFile)).to.equal(before)
      expect(sidecarsOf(llmFile)).to.deep.equal([])

      const {conversations, responses} = readFixture()
      expect(conversations).to.have.length(4)
      expect(responses).to.have.length(7)
      expect(report.responses).to.equal(7)
      expect(report.skipped).to.deep.equal([])
      expect(report.notes).to.deep.equal([])
      expect(report.imported.map(s => s.messages).sort()).to.deep.equal([2, 2, 4, 6])
      expect(await store.count()).to.equal(4)

      for (const conversation of conversations) {
        const own = responses.filter(r => r.conversation_id === conversation.id)
        const session = await store.get(conversation.id.toUpperCase())
        expect(session.id).to.equal(conversation.id.toUpperCase())
        expect(session.title).to.equal(conversation.name)
        expect(session.model).to.equal(conversation.model)
        expect(session.provider).to.equal(null)
        expect(session.systemPrompt).to.equal(own[0].system)
        expect(session.metadata).to.deep.equal({llm: {conversationId: conversation.id}})
        expect(session.createdAt.toISOString()).to.equal(utc(own[0].datetime_utc).toISOString())
        const last = own.at(-1)!
        expect(session.updatedAt.getTime()).to.equal(utc(last.datetime_utc).getTime() + last.duration_ms)

        const messages = await store.messages(session.id)
        expect(messages).to.have.length(own.length * 2)
        own.forEach((response, i) => {
          const [question, reply] = [messages[2 * i], messages[2 * i + 1]]
          const llm = {conversationId: conversation.id, responseId: response.id}
          expect(question).to.deep.include({
            content: response.prompt,
            durationMs: null,
            finishReason: null,
            id: response.id.toUpperCase(),
            inputTokens: null,
            metadata: {llm},
            model: null,
            outputTokens: null,
            position: 2 * i,
            provider: null,
            replyTo: null,
            role: 'user',
            sessionId: session.id,
            status: 'complete',
          })
          expect(question.createdAt.toISOString()).to.equal(utc(response.datetime_utc).toISOString())
          expect(reply).to.deep.include({
            content: response.response,
            durationMs: response.duration_ms,
            finishReason: (JSON.parse(response.response_json) as {finish_reason: string}).finish_reason,
            inputTokens: response.input_tokens,
            metadata: {llm},
            model: response.model,
            outputTokens: response.output_tokens,
            position: 2 * i + 1,
            provider: null,
            replyTo: question.id,
            role: 'assistant',
            sessionId: session.id,
            status: 'complete',
          })
          expect(reply.id).to.match(ULID)
          expect(reply.createdAt.getTime()).to.equal(utc(response.datetime_utc).getTime() + response.duration_ms)
        })
      }
    })

    it('keeps what makes this fixture particular: two models, a system prompt, continued conversations, non-ASCII text', async () => {
      await importFromLlm(store, llmFile)
      const french = await store.get('01M8RABQTKG8PEG4HYJNSWJP2K')
      expect(french).to.deep.include({model: 'fake-large', systemPrompt: 'You answer in French.', title: 'Bonjour, comment ça va ?'})
      expect((await store.messages(french.id)).map(m => [m.role, m.content])).to.deep.equal([
        ['user', 'Bonjour, comment ça va ?'],
        ['assistant', 'echo[2]: Bonjour, comment ça va ?'],
        ['user', 'Et la météo ?'],
        ['assistant', 'echo[4]: Et la météo ?'],
      ])
      const wal = await store.messages('01M8RABNDJSEX2M1QH7JEXQHTN')
      expect(wal.map(m => m.content)[4]).to.equal('Thanks — résumé of that in one line, please 🙂')
      expect(wal.filter(m => m.role === 'assistant').map(m => [m.inputTokens, m.outputTokens, m.durationMs])).to.deep.equal([
        [7, 6, 97],
        [21, 7, 89],
        [35, 11, 97],
      ])
      const code = await store.messages('01M8RABS3B2K1C11Z87SE7XXMG')
      expect(code[0].content).to.equal('Write a Python function:\n```python\ndef add(a, b):\n    return a + b\n```\nExplain it.')
    })

    it('reads the read-only file in its read-only directory, changing nothing', async () => {
      const fixture = llmFixturePath()
      const before = sha256(fixture)
      const report = await importFromLlm(store, fixture)
      expect(report.imported).to.have.length(4)
      expect(sha256(fixture)).to.equal(before)
      expect(sidecarsOf(fixture)).to.deep.equal([])
    })

    it('reads a WAL database at rest without making -wal or -shm beside it', async () => {
      const db = new Database(llmFile)
      expect(db.pragma('journal_mode = WAL', {simple: true})).to.equal('wal')
      db.close()
      expect(sidecarsOf(llmFile)).to.deep.equal([])
      const before = sha256(llmFile)
      const report = await importFromLlm(store, llmFile)
      expect(report.imported.map(s => s.messages).sort()).to.deep.equal([2, 2, 4, 6])
      expect(sha256(llmFile)).to.equal(before)
      expect(sidecarsOf(llmFile)).to.deep.equal([])
    })
  })

  describe('running it again', () => {
    it('imports nothing new and leaves the store as it was', async () => {
      await importFromLlm(store, llmFile)
      const first = await exportOf(store)
      const again = await importFromLlm(store, llmFile)
      expect(again.imported).to.deep.equal([])
      expect(again.changed).to.deep.equal([])
      expect(again.alreadyImported.map(s => s.id).sort()).to.deep.equal([
        '01M8RABNDJSEX2M1QH7JEXQHTN',
        '01M8RABQTKG8PEG4HYJNSWJP2K',
        '01M8RABS3B2K1C11Z87SE7XXMG',
        '01M8RABSXQ3QCD4FQNBJ91QWHV',
      ])
      expect(await exportOf(store)).to.equal(first)
    })

    it('imports only a conversation begun in llm since, and names one continued since; --replace refreshes it', async () => {
      await importFromLlm(store, llmFile)
      const db = new Database(llmFile)
      db.prepare("INSERT INTO conversations (id, name, model) VALUES ('01m8rbzzzzzzzzzzzzzzzzzzzz', 'A new one', 'fake')").run()
      const insert = db.prepare(
        'INSERT INTO responses (id, model, prompt, response, conversation_id, duration_ms, datetime_utc, input_tokens, output_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      insert.run('01m8rbzzzzzzzzzzzzzzzzzzz1', 'fake', 'new question', 'new answer', '01m8rbzzzzzzzzzzzzzzzzzzzz', 50, '2026-12-02T09:00:00.000000', 3, 2)
      insert.run('01m8rbzzzzzzzzzzzzzzzzzzz2', 'fake', 'one more thing', 'sure', '01m8rabsxq3qcd4fqnbj91qwhv', 40, '2026-12-02T09:05:00.000000', 9, 1)
      db.close()

      const second = await importFromLlm(store, llmFile)
      expect(second.imported).to.deep.equal([{id: '01M8RBZZZZZZZZZZZZZZZZZZZZ', messages: 2, replaced: false, title: 'A new one'}])
      expect(second.changed).to.deep.equal([{id: '01M8RABSXQ3QCD4FQNBJ91QWHV', llmConversationId: '01m8rabsxq3qcd4fqnbj91qwhv'}])
      expect(await store.messages('01M8RABSXQ3QCD4FQNBJ91QWHV')).to.have.length(2)

      const refreshed = await importFromLlm(store, llmFile, {replace: true})
      expect(refreshed.imported).to.have.length(5)
      expect(refreshed.imported.every(s => s.replaced)).to.equal(true)
      expect((await store.messages('01M8RABSXQ3QCD4FQNBJ91QWHV')).map(m => m.content)).to.deep.equal([
        'single question, no follow-up',
        'echo[1]: single question, no follow-up',
        'one more thing',
        'sure',
      ])
      expect(await store.count()).to.equal(5)
      const after = await exportOf(store)
      await importFromLlm(store, llmFile, {replace: true})
      expect(await exportOf(store)).to.equal(after)
    })
  })

  describe('the newest schema (tools, fragments, attachments, parts)', () => {
    const A = '01jyq4v6k8m2n3p4q5r6s7t8va'
    const [A1, A2, A3, ORPHAN] = ['01jyq4v6k8m2n3p4q5r6s7t8vb', '01jyq4v6k8m2n3p4q5r6s7t8vc', '01jyq4v6k8m2n3p4q5r6s7t8vd', '01jyq4v6k8m2n3p4q5r6s7t8ve']

    function writeNewest(path: string): void {
      const db = newestLlmDatabase(path)
      db.prepare("INSERT INTO conversations VALUES (?, 'Tools and files', 'gpt-4.1-mini')").run(A)
      db.prepare("INSERT INTO conversations VALUES ('legacy-conversation', 'Old style ids', 'claude-3.5-sonnet')").run()
      db.prepare('INSERT INTO schemas VALUES (\'s1\', \'{"type": "object"}\')').run()
      const insert =
        db.prepare(`INSERT INTO responses (id, model, prompt, system, prompt_json, options_json, response, response_json, conversation_id, duration_ms,
        datetime_utc, input_tokens, output_tokens, token_details, schema_id, resolved_model) VALUES
        (@id, @model, @prompt, @system, '{}', @options, @response, @json, @conversation, @duration, @at, @input, @output, @details, @schema, @resolved)`)
      const row = {details: null, duration: null, input: null, json: null, options: '{}', output: null, resolved: null, schema: null, system: null}
      insert.run({
        ...row,
        at: '2026-11-30T10:00:00.250000+00:00',
        conversation: A,
        details: '{"cached_tokens": 3}',
        duration: 1500,
        id: A1,
        input: 120,
        json: '{"finish_reason": "length"}',
        model: 'gpt-4.1-mini',
        options: '{"temperature": 0.2}',
        output: 30,
        prompt: 'Describe these two photos',
        resolved: 'gpt-4.1-mini-2025-04-14',
        response: 'A cat and a dog.',
        system: 'You are terse.',
      })
      insert.run({
        ...row,
        at: '2026-11-30T10:01:00.000000+00:00',
        conversation: A,
        duration: 800,
        id: A2,
        input: 60,
        model: 'gpt-4.1-mini',
        output: 12,
        prompt: 'What is the weather in Paris?',
        response: '',
      })
      insert.run({
        ...row,
        at: '2026-11-30T10:01:01.000000+00:00',
        conversation: A,
        duration: 700,
        id: A3,
        input: 90,
        model: 'gpt-4.1-mini',
        output: 8,
        prompt: null,
        response: 'Sunny, 21 °C.',
      })
      insert.run({
        ...row,
        at: '2024-05-01 10:00:00.5',
        conversation: 'legacy-conversation',
        id: 'resp-1',
        model: 'claude-3.5-sonnet',
        prompt: 'Hi',
        response: 'Hello!',
        schema: 's1',
        system: 'Be kind.',
      })
      insert.run({
        ...row,
        at: '2024-05-01 10:01:00',
        conversation: 'legacy-conversation',
        id: 'resp-2',
        model: 'claude-3.5-sonnet',
        prompt: 'Again',
        response: 'Hello again!',
        system: 'Be very kind.',
      })
      insert.run({
        ...row,
        at: '2026-11-30T11:00:00.000000',
        conversation: null,
        duration: 5,
        id: ORPHAN,
        model: 'gpt-4.1-mini',
        prompt: 'orphan',
        response: 'alone',
      })
      db.prepare(
        "INSERT INTO attachments VALUES ('att1', 'image/jpeg', '/photos/cat.jpg', NULL, NULL), ('att2', 'image/png', NULL, 'https://example.com/dog.png', NULL)",
      ).run()
      db.prepare("INSERT INTO prompt_attachments VALUES (?, 'att1', 0), (?, 'att2', 1)").run(A1, A1)
      db.prepare(
        "INSERT INTO fragments (id, hash, content, datetime_utc, source) VALUES (1, 'h1', 'README text', '2026-11-30T10:00:00', 'README.md'), (2, 'h2', 'Style guide', '2026-11-30T10:00:00', 'style.md')",
      ).run()
      db.prepare('INSERT INTO prompt_fragments VALUES (?, 1, 0)').run(A1)
      db.prepare('INSERT INTO system_fragments VALUES (?, 2, 0)').run(A1)
      db.prepare("INSERT INTO tools (id, hash, name, description, input_schema, plugin) VALUES (1, 't1', 'weather', 'The weather', '{}', 'llm-weather')").run()
      db.prepare('INSERT INTO tool_responses VALUES (1, ?), (1, ?)').run(A2, A3)
      db.prepare(
        "INSERT INTO tool_calls (response_id, tool_id, name, arguments, tool_call_id) VALUES (?, 1, 'weather', '{\"city\": \"Paris\"}', 'c1'), (?, 1, 'weather', '{\"city\": \"Lyon\"}', 'c2')",
      ).run(A2, A2)
      db.prepare(
        "INSERT INTO tool_results (response_id, tool_id, name, output, tool_call_id) VALUES (?, 1, 'weather', '21', 'c1'), (?, 1, 'weather', '19', 'c2')",
      ).run(A3, A3)
      db.prepare(
        "INSERT INTO parts (response_id, direction, role, part_type, \"order\", content) VALUES (?, 'output', 'assistant', 'reasoning', 0, 'thinking…'), (?, 'output', 'assistant', 'text', 1, 'Sunny, 21 °C.')",
      ).run(A3, A3)
      db.close()
    }

    it('imports the text of every response and says what it skipped and why', async () => {
      const newest = join(sandbox.root, 'newest.db')
      writeNewest(newest)
      const before = sha256(newest)
      const report = await importFromLlm(store, newest)
      expect(sha256(newest)).to.equal(before)
      expect(sidecarsOf(newest)).to.deep.equal([])
      expect(report.skipped.map(({count, kind, responses}) => ({count, kind, responses}))).to.deep.equal([
        {count: 2, kind: 'attachment', responses: [A1]},
        {count: 1, kind: 'fragment', responses: [A1]},
        {count: 1, kind: 'system-fragment', responses: [A1]},
        {count: 2, kind: 'tool-call', responses: [A2]},
        {count: 2, kind: 'tool-result', responses: [A3]},
        {count: 1, kind: 'reasoning', responses: [A3]},
        {count: 1, kind: 'options', responses: [A1]},
        {count: 1, kind: 'token-details', responses: [A1]},
        {count: 1, kind: 'schema', responses: ['resp-1']},
      ])
      for (const skip of report.skipped) expect(skip.reason).to.match(/^[a-z].{20,}[^.]$/)
      expect(report.notes).to.deep.equal([
        "llm conversation legacy-conversation changes its system prompt at response resp-2; the new one is kept in that message's metadata (llm.system).",
      ])

      const [legacy, tools, orphan] = (await collectSnapshots(store, {all: true})).sort((a, b) => a.session.createdAt.getTime() - b.session.createdAt.getTime())
      expect(tools.session).to.deep.include({id: A.toUpperCase(), model: 'gpt-4.1-mini', systemPrompt: 'You are terse.', title: 'Tools and files'})
      expect(tools.session.createdAt.toISOString()).to.equal('2026-11-30T10:00:00.250Z')
      expect(tools.messages.map(m => [m.role, m.content])).to.deep.equal([
        ['user', 'Describe these two photos'],
        ['assistant', 'A cat and a dog.'],
        ['user', 'What is the weather in Paris?'],
        ['assistant', ''],
        ['user', ''],
        ['assistant', 'Sunny, 21 °C.'],
      ])
      expect(tools.messages[1]).to.deep.include({
        durationMs: 1500,
        finishReason: 'length',
        inputTokens: 120,
        metadata: {llm: {conversationId: A, resolvedModel: 'gpt-4.1-mini-2025-04-14', responseId: A1}},
        model: 'gpt-4.1-mini',
        outputTokens: 30,
      })
      expect(tools.messages[1].createdAt.toISOString()).to.equal('2026-11-30T10:00:01.750Z')

      // Ids that are not ULIDs get ULIDs of their own time, the same on every import.
      expect(legacy.session).to.deep.include({
        metadata: {llm: {conversationId: 'legacy-conversation'}},
        model: 'claude-3.5-sonnet',
        systemPrompt: 'Be kind.',
        title: 'Old style ids',
      })
      expect(legacy.session.id).to.match(ULID)
      expect(legacy.session.createdAt.toISOString()).to.equal('2024-05-01T10:00:00.500Z')
      expect(legacy.messages.map(m => m.id)).to.satisfy((ids: string[]) => ids.every(id => ULID.test(id)))
      expect(legacy.messages[2].metadata).to.deep.equal({llm: {conversationId: 'legacy-conversation', responseId: 'resp-2', system: 'Be very kind.'}})
      expect(legacy.messages[3]).to.deep.include({durationMs: null, inputTokens: null, outputTokens: null})
      const reread = await readLlmDatabase(newest)
      expect(reread.snapshots.map(s => [s.session.id, ...s.messages.map((m: Message) => m.id)])).to.deep.equal(
        [legacy, tools, orphan].map(s => [s.session.id, ...s.messages.map(m => m.id)]),
      )

      // A response in no conversation is a session of its own.
      expect(orphan.session).to.deep.include({metadata: {llm: {conversationId: null}}, model: 'gpt-4.1-mini', systemPrompt: null, title: null})
      expect(orphan.messages.map(m => m.content)).to.deep.equal(['orphan', 'alone'])
      expect((await importFromLlm(store, newest)).imported).to.deep.equal([])
    })

    it('on the command line: a line per kind skipped, and the typed result under --json', async () => {
      const newest = join(sandbox.root, 'newest.db')
      writeNewest(newest)
      const human = await run(sandbox, ['sessions', 'import', '--from', 'llm', newest])
      expect(human.exitCode, human.stderr).to.equal(0)
      const lines = human.stdout.split('\n')
      expect(lines[0]).to.equal(`Imported 3 sessions (12 messages) from llm's ${newest} (6 responses read).`)
      expect(lines[1]).to.equal('Not imported:')
      expect(lines[2]).to.equal(
        '  2 × attachment (in 1 response): synapse keeps text only: images, files and URLs attached to prompts are not imported (the prompt text is).',
      )
      expect(lines).to.include('  2 × tool-call (in 1 response): synapse has no tool calls: the calls a model asked for are not imported (its text reply is).')
      expect(lines).to.include(
        "Note: llm conversation legacy-conversation changes its system prompt at response resp-2; the new one is kept in that message's metadata (llm.system).",
      )

      const json = await run<LlmImportReport>(sandbox, ['sessions', 'import', '--from', 'llm', newest, '--json'])
      expect(json.exitCode).to.equal(0)
      const result = JSON.parse(json.stdout) as LlmImportReport
      expect(result).to.deep.include({changed: [], from: 'llm', imported: [], path: newest, responses: 6})
      expect(result.alreadyImported).to.have.length(3)
      expect(result.skipped.map(s => s.kind)).to.include.members(['attachment', 'tool-call', 'tool-result', 'fragment'])
    })

    it('notes a database migrated by a newer llm and imports what it knows', async () => {
      const newest = join(sandbox.root, 'newest.db')
      writeNewest(newest)
      const db = new Database(newest)
      db.prepare("INSERT INTO _llm_migrations VALUES ('m099_future', '2027-01-01')").run()
      db.close()
      const report = await importFromLlm(store, newest)
      expect(report.imported).to.have.length(3)
      expect(report.notes[0]).to.equal('The database was migrated by an llm newer than this synapse knows (m099_future); what synapse recognises was imported.')
    })
  })

  describe('bad input: one clear error, nothing changed', () => {
    async function refused(path: string): Promise<SynapseError> {
      await importFromLlm(store, llmFixturePath())
      const before = await exportOf(store)
      const fileBefore = sha256(path)
      const error = await importFromLlm(store, path).then(
        () => expect.fail('the import went through'),
        (error_: SynapseError) => error_,
      )
      expect(await exportOf(store)).to.equal(before)
      expect(sha256(path)).to.equal(fileBefore)
      return error
    }

    it('a file that is not a database', async () => {
      const path = join(sandbox.root, 'notes.txt')
      writeFileSync(path, 'these are my notes, not a database\n'.repeat(20))
      const error = await refused(path)
      expect(error.code).to.equal('INVALID_INPUT')
      expect(error.message).to.equal(`${path} is not an SQLite database, so not llm's logs.db (SQLITE_NOTADB); nothing was imported.`)
    })

    it('a database another process holds locked', async () => {
      const holder = new SynapseLockHolder(llmFile, 'EXCLUSIVE')
      try {
        await holder.locked
        const error = await refused(llmFile)
        expect(error.code).to.equal('STORAGE_BUSY')
        expect(error.message).to.equal(`llm's database ${llmFile} stayed locked by another process for 1 s; nothing was imported.`)
      } finally {
        await holder.release()
      }
      expect((await importFromLlm(store, llmFile)).alreadyImported).to.have.length(4)
    })

    it('a database without a responses table, or with one llm never wrote', async () => {
      const other = join(sandbox.root, 'other.db')
      const db = new Database(other)
      db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)')
      db.close()
      const error = await refused(other)
      expect(error.code).to.equal('INVALID_INPUT')
      expect(error.message).to.equal(
        `${other} is an SQLite database but not in a schema of llm's that synapse knows: it has no "responses" table; nothing was imported.`,
      )

      const odd = join(sandbox.root, 'odd.db')
      const oddDb = new Database(odd)
      oddDb.exec('CREATE TABLE responses (id TEXT PRIMARY KEY, body TEXT)')
      oddDb.close()
      expect((await refused(odd)).message).to.equal(
        `${odd} is an SQLite database but not in a schema of llm's that synapse knows: its "responses" table has no "prompt", "response", "datetime_utc" column; nothing was imported.`,
      )
    })

    it('a database of llm before 0.5, with only its logs table', async () => {
      const old = join(sandbox.root, 'old.db')
      const db = new Database(old)
      db.exec('CREATE TABLE log (id INTEGER PRIMARY KEY, model TEXT, prompt TEXT, response TEXT)')
      db.close()
      expect((await refused(old)).message).to.include('it has only the "logs" table of llm before 0.5')
    })

    it('on the command line: exit 1, one error line with its remedy', async () => {
      const path = join(sandbox.root, 'notes.txt')
      writeFileSync(path, 'not a database')
      const {exitCode, stderr, stdout} = await run(sandbox, ['sessions', 'import', '--from', 'llm', path])
      expect(exitCode).to.equal(1)
      expect(stdout).to.equal('')
      expect(stderr).to.equal(
        `Error: ${path} is not an SQLite database, so not llm's logs.db (SQLITE_NOTADB); nothing was imported.\n  → Pass the path of llm's database ("llm logs path" prints it), or set LLM_USER_PATH to its directory.\n`,
      )
      const missing = await run(sandbox, ['sessions', 'import', '--from', 'llm', join(sandbox.root, 'nowhere.db')])
      expect(missing.exitCode).to.equal(1)
      expect(missing.stderr.split('\n')[0]).to.equal(`Error: There is no llm database at ${join(sandbox.root, 'nowhere.db')}; nothing was imported.`)
      const newIds = await run(sandbox, ['sessions', 'import', '--from', 'llm', llmFile, '--new-ids'])
      expect(newIds.exitCode).to.equal(2)
    })
  })

  describe('where llm keeps its database', () => {
    it('follows llm: LLM_USER_PATH, else the platform app directory', () => {
      expect(llmUserDir({HOME: '/home/ada', LLM_USER_PATH: '/data/llm'}, 'linux')).to.equal('/data/llm')
      expect(llmUserDir({HOME: '/home/ada'}, 'linux')).to.equal('/home/ada/.config/io.datasette.llm')
      expect(llmUserDir({HOME: '/home/ada', XDG_CONFIG_HOME: '/home/ada/cfg'}, 'linux')).to.equal('/home/ada/cfg/io.datasette.llm')
      expect(llmUserDir({HOME: '/Users/ada', XDG_CONFIG_HOME: '/ignored'}, 'darwin')).to.equal('/Users/ada/Library/Application Support/io.datasette.llm')
      expect(llmUserDir({APPDATA: 'C:\\Users\\ada\\AppData\\Roaming', USERPROFILE: 'C:\\Users\\ada'}, 'win32')).to.equal(
        'C:\\Users\\ada\\AppData\\Roaming\\io.datasette.llm',
      )
      expect(llmLogsPath({LLM_USER_PATH: '/data/llm'}, 'linux')).to.equal('/data/llm/logs.db')
      expect(llmLogsPath({HOME: '/home/ada'}, 'freebsd')).to.equal('/home/ada/.config/io.datasette.llm/logs.db')
    })

    it('imports from the default place with no path given: LLM_USER_PATH, then XDG_CONFIG_HOME, then HOME', async () => {
      const viaUserPath = join(sandbox.root, 'llm-user')
      mkdirSync(viaUserPath)
      copyFileSync(llmFixturePath(), join(viaUserPath, 'logs.db'))
      sandbox.env.LLM_USER_PATH = viaUserPath
      const first = await run<LlmImportReport>(sandbox, ['sessions', 'import', '--from', 'llm', '--json'])
      expect(first.exitCode, first.stderr).to.equal(0)
      expect((JSON.parse(first.stdout) as LlmImportReport).path).to.equal(join(viaUserPath, 'logs.db'))

      delete sandbox.env.LLM_USER_PATH
      const viaXdg = join(sandbox.env.XDG_CONFIG_HOME!, 'io.datasette.llm')
      const xdg = await run(sandbox, ['sessions', 'import', '--from', 'llm'])
      expect(xdg.stderr.split('\n')[0]).to.equal(`Error: There is no llm database at ${join(viaXdg, 'logs.db')}; nothing was imported.`)
      mkdirSync(viaXdg, {recursive: true})
      copyFileSync(llmFixturePath(), join(viaXdg, 'logs.db'))
      const second = await run<LlmImportReport>(sandbox, ['sessions', 'import', '--from', 'llm', '--json'])
      expect((JSON.parse(second.stdout) as LlmImportReport).path).to.equal(join(viaXdg, 'logs.db'))

      delete sandbox.env.XDG_CONFIG_HOME
      const viaHome = join(sandbox.home, '.config', 'io.datasette.llm')
      mkdirSync(viaHome, {recursive: true})
      copyFileSync(llmFixturePath(), join(viaHome, 'logs.db'))
      const third = await run<LlmImportReport>(sandbox, ['sessions', 'import', '--from', 'llm', '--json'])
      expect(third.exitCode, third.stderr).to.equal(0)
      expect((JSON.parse(third.stdout) as LlmImportReport).path).to.equal(join(viaHome, 'logs.db'))
    })

    it('keeps the export forms of import working, and asks for a file without --from llm', async () => {
      const missing = await run(sandbox, ['sessions', 'import'])
      expect(missing.exitCode).to.equal(2)
      expect(missing.stderr.split('\n')[0]).to.equal('Error: Name the export to import.')
      await run(sandbox, ['sessions', 'import', '--from', 'llm', llmFile])
      const exported = await run(sandbox, ['sessions', 'export', '--all', '--format', 'jsonl'])
      const file = join(sandbox.root, 'export.jsonl')
      writeFileSync(file, exported.stdout)
      const copy = await run(sandbox, ['sessions', 'import', file, '--new-ids'])
      expect(copy.exitCode, copy.stderr).to.equal(0)
      expect(copy.stdout).to.equal('Imported 4 sessions (14 messages).\n')
    })
  })
})
