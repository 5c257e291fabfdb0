import {expect} from 'chai'

import {SynapseError} from '../core/errors.js'
import {withPreviews} from '../core/previews.js'
import type {SearchHit, SearchOptions} from '../store/search.js'
import {MAX_LIST_LIMIT, type Message, PREVIEW_LENGTH, type Session, type UsageTotals} from '../store/session-store.js'
import {NO_USAGE} from '../store/usage-fields.js'
import type {StorageAdapter} from '../store/storage-adapter.js'
import {selectForPrune} from '../store/store-helpers.js'
import {newestFirst, SessionStore} from '../store/store.js'

export interface ConformanceOptions {
  /**
   * The backend's adapter, fresh and empty on every call. When given, the suite runs a second time
   * with the adapter's optional capabilities (`OPTIONAL_CAPABILITIES`) hidden, so that the core's
   * generic paths are proven on this backend too, not only its own fast ones. Leave it out only for
   * an adapter that offers no optional capability, and say so where the suite is called.
   */
  createAdapter?(): Promise<StorageAdapter>
  /** A fresh, empty store on every call, reading time from `clock`, as users open it. */
  createStore(options: {clock: () => Date}): Promise<SessionStore>
  /** Shown in the test titles. */
  name: string
}

/** What a StorageAdapter may offer beyond its primitives; the core has a generic path for each. */
export const OPTIONAL_CAPABILITIES = ['countSessions', 'freshRecords', 'listSummaries', 'prune', 'search', 'sessionIdsWithTitle', 'usageTotals'] as const

/** The adapter as a backend without any optional capability would be: the core's generic paths only. */
export function withoutCapabilities(adapter: StorageAdapter): StorageAdapter {
  const hidden = new Set<PropertyKey>(OPTIONAL_CAPABILITIES)
  return new Proxy(adapter, {
    get(target, key) {
      if (hidden.has(key)) return undefined
      const value = Reflect.get(target, key, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** A clock tests move by hand, so that "90 days ago" takes no waiting. */
export class ManualClock {
  constructor(private current = Date.parse('2026-01-01T00:00:00.000Z')) {}

  advance(ms: number): void {
    this.current += ms
  }

  now = (): Date => new Date(this.current)
}

const DAY = 86_400_000

/**
 * A whole session record, as `get` returns it and a snapshot for `restore` holds it: nothing
 * optional set, made at the epoch unless `fields` say otherwise, updated when it was made.
 */
export function sessionRecord(fields: Partial<Session> & Pick<Session, 'id'>): Session {
  const createdAt = fields.createdAt ?? new Date(0)
  return {
    createdAt,
    kept: false,
    metadata: {},
    model: null,
    parentId: null,
    parentPosition: null,
    provider: null,
    systemPrompt: null,
    title: null,
    updatedAt: createdAt,
    ...fields,
  }
}

/**
 * A whole message record, as `messages` returns it and a snapshot for `restore` holds it: a
 * complete user message at position 0 with nothing optional set, made at the epoch unless `fields`
 * say otherwise.
 */
export function messageRecord(fields: Partial<Message> & Pick<Message, 'id' | 'sessionId'>): Message {
  return {
    ...NO_USAGE,
    content: '',
    createdAt: new Date(0),
    durationMs: null,
    finishReason: null,
    hiddenAt: null,
    inputTokens: null,
    metadata: {},
    model: null,
    outputTokens: null,
    position: 0,
    provider: null,
    replyTo: null,
    role: 'user',
    status: 'complete',
    supersededBy: null,
    ...fields,
  }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<SynapseError> {
  try {
    await promise
  } catch (error) {
    expect(error instanceof SynapseError, String(error)).to.equal(true)
    expect((error as SynapseError).code).to.equal(code)
    return error as SynapseError
  }
  expect.fail(`expected a ${code} error, but the call succeeded`)
}

/**
 * The whole SessionStore contract, as mocha suites. Every adapter runs it in one line:
 * `sessionStoreConformance({name: 'sqlite', createStore: ({clock}) => openSqliteStore({path, clock})})`.
 */
export function sessionStoreConformance(options: ConformanceOptions): void {
  contract(options.name, options.createStore)
  const {createAdapter} = options
  if (createAdapter) {
    contract(`${options.name}, generic paths`, async ({clock}) => new SessionStore(withoutCapabilities(await createAdapter()), {clock}))
    retentionGuard(options.name, createAdapter)
  }
}

/**
 * The generic prune path chooses with `selectForPrune` and deletes with a guarded `deleteSessions`
 * later; whatever happens to a chosen session in between must be seen by the guard.
 */
function retentionGuard(name: string, createAdapter: NonNullable<ConformanceOptions['createAdapter']>): void {
  describe(`StorageAdapter retention guard: ${name}`, () => {
    it('spares a session kept or written between selection and deletion (select, keep, delete)', async () => {
      const clock = new ManualClock()
      const adapter = await createAdapter()
      const store = new SessionStore(adapter, {clock: clock.now})
      try {
        const ids: string[] = []
        for (let i = 0; i < 3; i++) {
          const {id} = await store.create({title: `s${i}`})
          await store.append(id, [{content: `q${i}`, role: 'user'}])
          ids.push(id)
          clock.advance(DAY)
        }
        const chosen = selectForPrune(newestFirst(await adapter.summaries()), {olderThan: clock.now()})
        expect(chosen.map(s => s.id)).to.deep.equal(ids)
        // Between selection and deletion: another process keeps one (updatedAt unchanged) and writes into another.
        await store.update(ids[0], {kept: true})
        await store.append(ids[1], [{content: 'still here', role: 'user'}])
        expect(await adapter.deleteSessions(chosen.map(({id, updatedAt}) => ({id, updatedAt})))).to.deep.equal([ids[2]])
        expect((await store.list()).map(s => [s.id, s.kept])).to.deep.equal([
          [ids[1], false],
          [ids[0], true],
        ])
        // Without a guard the deletion is what a user asked for ("sessions delete"): kept or not.
        expect(await adapter.deleteSessions([{id: ids[0]}])).to.deep.equal([ids[0]])
        expect(await store.count()).to.equal(1)
      } finally {
        await store.close()
      }
    })
  })
}

function contract(name: string, createStore: ConformanceOptions['createStore']): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let store: SessionStore
    let clock: ManualClock

    beforeEach(async () => {
      clock = new ManualClock()
      store = await createStore({clock: clock.now})
    })

    afterEach(async () => {
      await store.close()
    })

    describe('create and get', () => {
      it('creates an empty session with defaults and reads it back', async () => {
        const session = await store.create()
        expect(session.id).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/)
        expect(session.title).to.equal(null)
        expect(session.metadata).to.deep.equal({})
        expect(session.createdAt.getTime()).to.equal(clock.now().getTime())
        expect(await store.get(session.id)).to.deep.equal(session)
        expect(await store.messages(session.id)).to.deep.equal([])
      })

      it('keeps every field it was given, including nested metadata and unicode', async () => {
        const metadata = {cwd: '/home/ada', tenant: 'acme', traits: ['terse', {depth: 2}], user: 'Ada Lovelace ✓'}
        const session = await store.create({metadata, model: 'gpt-4o-mini', provider: 'openai', systemPrompt: 'Be brief. 🤖', title: 'Ünïcödé title'})
        const read = await store.get(session.id)
        expect(read).to.deep.include({model: 'gpt-4o-mini', provider: 'openai', systemPrompt: 'Be brief. 🤖', title: 'Ünïcödé title'})
        expect(read.metadata).to.deep.equal(metadata)
      })

      it('stores a title without the spaces around it, and refuses an empty or blank one, changing nothing', async () => {
        for (const title of ['', ' \t ']) await expectCode(store.create({title}), 'INVALID_INPUT')
        expect(await store.count()).to.equal(0)
        const session = await store.create({title: '  Plans  '})
        expect(session.title).to.equal('Plans')
        await expectCode(store.update(session.id, {title: ' '}), 'INVALID_INPUT')
        expect((await store.update(session.id, {title: ' Plans 2 '})).title).to.equal('Plans 2')
        expect((await store.update(session.id, {title: null})).title).to.equal(null)
      })

      it('accepts a chosen id and refuses a taken one', async () => {
        const id = '01JC0000000000000000000000'
        expect((await store.create({id})).id).to.equal(id)
        await expectCode(store.create({id}), 'INVALID_INPUT')
        expect(await store.count()).to.equal(1)
      })

      it('resolves a unique prefix, case-insensitively', async () => {
        const a = await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAAA'})
        await store.create({id: '01JCBBBBBBBBBBBBBBBBBBBBBB'})
        expect((await store.get('01jca')).id).to.equal(a.id)
        expect((await store.get(a.id.toLowerCase())).id).to.equal(a.id)
      })

      it('reports an ambiguous prefix with its candidates', async () => {
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA1'})
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA2'})
        const error = await expectCode(store.get('01JCAAAA'), 'AMBIGUOUS_SESSION_ID')
        expect(error.message).to.contain('01JCAAAAAAAAAAAAAAAAAAAAA1').and.to.contain('01JCAAAAAAAAAAAAAAAAAAAAA2')
      })

      it('reports an unknown id or one that cannot be an id as not found, and an empty one as a usage error', async () => {
        await store.create()
        await expectCode(store.get('01ZZZZZZZZ'), 'SESSION_NOT_FOUND')
        await expectCode(store.get('../etc/passwd'), 'SESSION_NOT_FOUND')
        for (const empty of ['', ' \t ']) await expectCode(store.get(empty), 'INVALID_INPUT')
      })

      it('hands out copies: changing a returned object changes nothing stored', async () => {
        const session = await store.create({metadata: {a: 1}})
        session.metadata.a = 2
        session.title = 'changed'
        expect(await store.get(session.id)).to.deep.include({metadata: {a: 1}, title: null})
      })
    })

    describe('append and messages', () => {
      it('appends in order with consecutive positions and every field kept', async () => {
        const session = await store.create()
        const [user] = await store.append(session.id, [{content: 'Hello', role: 'user'}])
        const [reply] = await store.append(session.id, [
          {
            ...NO_USAGE,
            content: 'Hi!',
            durationMs: 1234,
            finishReason: 'stop',
            inputTokens: 5,
            metadata: {raw: {id: 'x'}},
            model: 'm',
            outputTokens: 2,
            provider: 'p',
            role: 'assistant',
          },
        ])
        expect(user).to.deep.include({content: 'Hello', position: 0, role: 'user', sessionId: session.id, status: 'complete'})
        expect(reply).to.deep.include({durationMs: 1234, finishReason: 'stop', inputTokens: 5, model: 'm', outputTokens: 2, position: 1, provider: 'p'})
        const loaded = await store.messages(session.id)
        expect(loaded).to.deep.equal([user, reply])
      })

      it('appends a batch atomically: one bad message stores none', async () => {
        const session = await store.create()
        await expectCode(
          store.append(session.id, [
            {content: 'fine', role: 'user'},
            {content: 'bad', role: 'wizard' as never},
          ]),
          'INVALID_INPUT',
        )
        await expectCode(store.append(session.id, [{content: 'x', role: 'user', status: 'lost' as never}]), 'INVALID_INPUT')
        expect(await store.messages(session.id)).to.deep.equal([])
      })

      it('loads the last N messages, still in order', async () => {
        const session = await store.create()
        await store.append(
          session.id,
          Array.from({length: 10}, (_, i) => ({content: `m${i}`, role: i % 2 ? ('assistant' as const) : ('user' as const)})),
        )
        expect((await store.messages(session.id, {last: 3})).map(m => m.content)).to.deep.equal(['m7', 'm8', 'm9'])
        expect(await store.messages(session.id, {last: 0})).to.deep.equal([])
        expect((await store.messages(session.id, {last: 50})).length).to.equal(10)
        await expectCode(store.messages(session.id, {last: -1}), 'INVALID_INPUT')
      })

      it('refuses an unknown session', async () => {
        await expectCode(store.append('01ZZZZZZZZZZZZZZZZZZZZZZZZ', [{content: 'x', role: 'user'}]), 'SESSION_NOT_FOUND')
        await expectCode(store.messages('01ZZZZZZZZZZZZZZZZZZZZZZZZ'), 'SESSION_NOT_FOUND')
      })

      it('keeps large and unusual content byte for byte', async () => {
        const session = await store.create()
        const big = 'x'.repeat(1_000_000)
        const odd = 'tab\tnewline\nquote\' double" nul\u0000 emoji 👩‍💻 rtl ‮'
        await store.append(session.id, [
          {content: big, role: 'user'},
          {content: odd, role: 'assistant'},
          {content: '', role: 'assistant', status: 'interrupted'},
        ])
        const [a, b, c] = await store.messages(session.id)
        expect(a.content.length).to.equal(big.length)
        expect(b.content).to.equal(odd)
        expect(c).to.deep.include({content: '', status: 'interrupted'})
      })

      it('gives every concurrent append its own position', async () => {
        const session = await store.create()
        await Promise.all(Array.from({length: 40}, (_, i) => store.append(session.id, [{content: String(i), role: 'user'}])))
        const positions = (await store.messages(session.id)).map(m => m.position)
        expect(positions).to.deep.equal(Array.from({length: 40}, (_, i) => i))
      })

      it('makes the session the most recently updated', async () => {
        const first = await store.create()
        clock.advance(1000)
        const second = await store.create()
        expect((await store.latest())!.id).to.equal(second.id)
        clock.advance(1000)
        await store.append(first.id, [{content: 'again', role: 'user'}])
        expect((await store.latest())!.id).to.equal(first.id)
        expect((await store.get(first.id)).updatedAt.getTime()).to.equal(clock.now().getTime())
      })
    })

    describe('questions and replies', () => {
      it('commits a reply with its question: the reply names it, the pending question becomes complete', async () => {
        const session = await store.create()
        const [question] = await store.append(session.id, [{content: 'Why?', role: 'user', status: 'pending'}])
        expect(question).to.deep.include({replyTo: null, status: 'pending'})
        expect((await store.messages(session.id))[0].status).to.equal('pending')
        clock.advance(1000)
        const reply = await store.appendReply(session.id, question.id, {
          content: 'Because.',
          finishReason: 'stop',
          model: 'm',
          provider: 'p',
          replyTo: 'ignored',
          role: 'assistant',
        })
        expect(reply).to.deep.include({
          content: 'Because.',
          finishReason: 'stop',
          position: 1,
          replyTo: question.id,
          role: 'assistant',
          sessionId: session.id,
          status: 'complete',
        })
        const loaded = await store.messages(session.id)
        expect(loaded).to.deep.equal([{...question, status: 'complete'}, reply])
        expect((await store.get(session.id)).updatedAt.getTime()).to.equal(clock.now().getTime())
      })

      it('pairs replies with their questions whatever order they were asked and answered in', async () => {
        const session = await store.create()
        const [first] = await store.append(session.id, [{content: 'first', role: 'user', status: 'pending'}])
        const [second] = await store.append(session.id, [{content: 'second', role: 'user', status: 'pending'}])
        const toSecond = await store.appendReply(session.id, second.id, {content: 'to second', role: 'assistant'})
        const toFirst = await store.appendReply(session.id, first.id, {content: 'to first', role: 'assistant', status: 'interrupted'})
        const loaded = await store.messages(session.id)
        expect(loaded.map(m => [m.content, m.status, m.replyTo])).to.deep.equal([
          ['first', 'complete', null],
          ['second', 'complete', null],
          ['to second', 'complete', second.id],
          ['to first', 'interrupted', first.id],
        ])
        expect([toSecond.position, toFirst.position]).to.deep.equal([2, 3])
      })

      it('refuses a question of another session or none, and an unknown session, writing nothing', async () => {
        const session = await store.create()
        const other = await store.create()
        const [elsewhere] = await store.append(other.id, [{content: 'there', role: 'user', status: 'pending'}])
        await expectCode(store.appendReply(session.id, elsewhere.id, {content: 'x', role: 'assistant'}), 'MESSAGE_NOT_FOUND')
        await expectCode(store.appendReply(session.id, '01ZZZZZZZZZZZZZZZZZZZZZZZZ', {content: 'x', role: 'assistant'}), 'MESSAGE_NOT_FOUND')
        await expectCode(store.appendReply('01ZZZZZZZZZZZZZZZZZZZZZZZZ', elsewhere.id, {content: 'x', role: 'assistant'}), 'SESSION_NOT_FOUND')
        await expectCode(store.appendReply(other.id, elsewhere.id, {content: 'x', role: 'robot' as never}), 'INVALID_INPUT')
        expect(await store.messages(session.id)).to.deep.equal([])
        expect((await store.messages(other.id)).map(m => m.status)).to.deep.equal(['pending'])
      })

      it('gives concurrent replies and questions their own positions', async () => {
        const session = await store.create()
        const questions = await Promise.all(Array.from({length: 10}, (_, i) => store.append(session.id, [{content: `q${i}`, role: 'user', status: 'pending'}])))
        await Promise.all(questions.map(([q], i) => store.appendReply(session.id, q.id, {content: `a${i}`, role: 'assistant'})))
        const loaded = await store.messages(session.id)
        expect(loaded.map(m => m.position)).to.deep.equal(Array.from({length: 20}, (_, i) => i))
        const byId = new Map(loaded.map(m => [m.id, m]))
        for (const reply of loaded.filter(m => m.role === 'assistant')) expect(`a${byId.get(reply.replyTo!)!.content.slice(1)}`).to.equal(reply.content)
        expect(loaded.filter(m => m.status !== 'complete')).to.deep.equal([])
      })
    })

    describe('updates', () => {
      it('changes, keeps and clears session fields', async () => {
        const session = await store.create({model: 'a', title: 'old'})
        clock.advance(5000)
        const updated = await store.update(session.id, {metadata: {k: 'v'}, title: 'new'})
        expect(updated).to.deep.include({model: 'a', title: 'new'})
        expect(updated.metadata).to.deep.equal({k: 'v'})
        expect(await store.update(session.id, {model: null, title: null})).to.deep.include({model: null, title: null})
        await expectCode(store.update('01ZZZZZZZZZZZZZZZZZZZZZZZZ', {title: 'x'}), 'SESSION_NOT_FOUND')
      })

      it('leaves updatedAt, and so the session’s place, alone: only messages move it', async () => {
        const older = await store.create({title: 'older'})
        clock.advance(1000)
        const newer = await store.create({title: 'newer'})
        clock.advance(5000)
        const renamed = await store.update(older.id, {kept: true, metadata: {k: 'v'}, model: 'm', provider: 'p', systemPrompt: 's', title: 'renamed'})
        expect(renamed.updatedAt.getTime()).to.equal(older.updatedAt.getTime())
        expect((await store.get(older.id)).updatedAt.getTime()).to.equal(older.updatedAt.getTime())
        expect((await store.latest())!.id).to.equal(newer.id)
        expect((await store.list()).map(s => s.id)).to.deep.equal([newer.id, older.id])
        expect((await store.update(older.id, {})).title).to.equal('renamed')
        await expectCode(store.update('01ZZZZZZZZZZZZZZZZZZZZZZZZ', {}), 'SESSION_NOT_FOUND')
      })

      it('keeps a session and lets it go again', async () => {
        const session = await store.create()
        expect(session.kept).to.equal(false)
        expect((await store.update(session.id, {kept: true})).kept).to.equal(true)
        expect((await store.get(session.id)).kept).to.equal(true)
        expect((await store.list())[0].kept).to.equal(true)
        expect((await store.update(session.id, {title: 'still kept'})).kept).to.equal(true)
        expect((await store.update(session.id, {kept: false})).kept).to.equal(false)
        expect((await store.get(session.id)).kept).to.equal(false)
        expect((await store.create({kept: true})).kept).to.equal(true)
      })

      it('finishes a message in place', async () => {
        const session = await store.create()
        const [reply] = await store.append(session.id, [{content: 'part', role: 'assistant', status: 'interrupted'}])
        const other = await store.create()
        const [elsewhere] = await store.append(other.id, [{content: 'other', role: 'user'}])
        clock.advance(1000)
        const done = await store.updateMessage(session.id, reply.id, {
          content: 'partial reply',
          finishReason: 'stop',
          inputTokens: 3,
          outputTokens: 4,
          status: 'complete',
        })
        expect(done).to.deep.include({
          content: 'partial reply',
          finishReason: 'stop',
          id: reply.id,
          inputTokens: 3,
          outputTokens: 4,
          position: 0,
          status: 'complete',
        })
        expect((await store.messages(session.id))[0]).to.deep.equal(done)
        expect((await store.get(session.id)).updatedAt.getTime()).to.equal(clock.now().getTime())
        await expectCode(store.updateMessage(session.id, '01ZZZZZZZZZZZZZZZZZZZZZZZZ', {status: 'error'}), 'MESSAGE_NOT_FOUND')
        await expectCode(store.updateMessage(session.id, 'not an id', {status: 'error'}), 'MESSAGE_NOT_FOUND')
        // The message must be one of the session named, not merely one the store holds.
        await expectCode(store.updateMessage(session.id, elsewhere.id, {status: 'error'}), 'MESSAGE_NOT_FOUND')
        await expectCode(store.updateMessage('01ZZZZZZZZZZZZZZZZZZZZZZZZ', reply.id, {status: 'error'}), 'SESSION_NOT_FOUND')
        expect((await store.messages(other.id))[0].status).to.equal('complete')
        await expectCode(store.updateMessage(session.id, reply.id, {status: 'bogus' as never}), 'INVALID_INPUT')
      })
    })

    describe('retry, edit and undo: nothing destroyed', () => {
      /** A session holding one answered exchange; returns its question and reply. */
      async function answered(sessionId: string, question: string, reply: string): Promise<[Message, Message]> {
        const [q] = await store.append(sessionId, [{content: question, role: 'user', status: 'pending'}])
        const r = await store.appendReply(sessionId, q.id, {content: reply, role: 'assistant'})
        return [{...q, status: 'complete'}, r]
      }
      const current = async (id: string) => (await store.messages(id, {current: true})).map(m => m.content)

      it('commits a retry with its replacement: the old reply stays, hidden, superseded by the new one', async () => {
        const session = await store.create()
        const [first, firstReply] = await answered(session.id, 'q1', 'a1')
        const [question, reply] = await answered(session.id, 'q2', 'a2')
        expect(await store.lastExchange(session.id)).to.deep.equal({question, reply})
        clock.advance(1000)
        const again = await store.appendReply(session.id, question.id, {content: 'a2 again', role: 'assistant'}, {replaces: {reply: reply.id}})
        expect(again).to.deep.include({hiddenAt: null, position: 4, replyTo: question.id, supersededBy: null})
        const stored = await store.messages(session.id)
        expect(stored).to.deep.equal([first, firstReply, question, {...reply, hiddenAt: clock.now(), supersededBy: again.id}, again])
        expect(await current(session.id)).to.deep.equal(['q1', 'a1', 'q2', 'a2 again'])
        expect(await store.lastExchange(session.id)).to.deep.equal({question, reply: again})
        expect((await store.get(session.id)).updatedAt.getTime()).to.equal(clock.now().getTime())
        // The last N current messages, though the last N stored include a hidden one.
        expect((await store.messages(session.id, {current: true, last: 3})).map(m => m.content)).to.deep.equal(['a1', 'q2', 'a2 again'])
        expect((await store.messages(session.id, {current: true, last: 0})).length).to.equal(0)
      })

      it('commits an edit with its replacement: the old question and reply are superseded by the new ones', async () => {
        const session = await store.create()
        const [question, reply] = await answered(session.id, 'q', 'a')
        const [edited] = await store.append(session.id, [{content: 'q edited', role: 'user', status: 'pending'}])
        // Until the new reply commits, the old exchange is the current one.
        expect(await current(session.id)).to.deep.equal(['q', 'a', 'q edited'])
        clock.advance(1000)
        const newReply = await store.appendReply(
          session.id,
          edited.id,
          {content: 'a edited', role: 'assistant'},
          {replaces: {question: question.id, reply: reply.id}},
        )
        const stored = await store.messages(session.id)
        expect(stored.map(m => [m.content, m.status, m.hiddenAt?.getTime() ?? null, m.supersededBy])).to.deep.equal([
          ['q', 'complete', clock.now().getTime(), edited.id],
          ['a', 'complete', clock.now().getTime(), newReply.id],
          ['q edited', 'complete', null, null],
          ['a edited', 'complete', null, null],
        ])
        expect(await current(session.id)).to.deep.equal(['q edited', 'a edited'])
        await expectCode(store.appendReply(session.id, edited.id, {content: 'x', role: 'assistant'}, {replaces: {question: edited.id}}), 'INVALID_INPUT')
      })

      it('previews the first question still in the conversation: an edit or an undo of it moves the preview', async () => {
        const preview = async (id: string) => (await store.list({limit: MAX_LIST_LIMIT})).find(s => s.id === id)?.preview
        const session = await store.create()
        const [question, reply] = await answered(session.id, 'a question with a typo', 'a')
        // Characters of two, three and four UTF-8 bytes (the last two UTF-16 units each), cut at the 100th
        // code point as SQL's substr cuts: what a backend that cuts bytes or UTF-16 units itself must count.
        const long = `${'é'.repeat(40)}${'中'.repeat(40)}${'😀'.repeat(40)}`
        const cut = Array.from(long).slice(0, PREVIEW_LENGTH).join('')
        const [edited] = await store.append(session.id, [{content: long, role: 'user', status: 'pending'}])
        expect(await preview(session.id)).to.equal('a question with a typo')
        await store.appendReply(session.id, edited.id, {content: 'b', role: 'assistant'}, {replaces: {question: question.id, reply: reply.id}})
        expect(await preview(session.id)).to.equal(cut)
        await answered(session.id, 'a second question', 'c')
        await store.undo(session.id)
        expect(await preview(session.id)).to.equal(cut)
        await store.undo(session.id)
        expect(await preview(session.id)).to.equal(null)
        await answered(session.id, 'asked again', 'd')
        expect(await preview(session.id)).to.equal('asked again')
        // A fork cut before the edit has the first question back in its conversation; restored, a session previews the same.
        const fork = await store.fork(session.id, {at: 1})
        expect(await preview(fork.id)).to.equal('a question with a typo')
        const snapshot = {messages: await store.messages(session.id), session: await store.get(session.id)}
        await store.delete([session.id])
        await store.restore(snapshot)
        expect(await preview(session.id)).to.equal('asked again')
        // The names that delete and keep ask about follow the same rule.
        expect((await withPreviews(store, [snapshot.session]))[0].preview).to.equal('asked again')
      })

      it('writes nothing when a message to replace is not in the session', async () => {
        const session = await store.create()
        const other = await store.create()
        const [, elsewhere] = await answered(other.id, 'there', 'there too')
        const [question, reply] = await answered(session.id, 'q', 'a')
        const [pending] = await store.append(session.id, [{content: 'q edited', role: 'user', status: 'pending'}])
        const before = await store.messages(session.id)
        for (const replaces of [
          {reply: elsewhere.id},
          {question: question.id, reply: '01ZZZZZZZZZZZZZZZZZZZZZZZZ'},
          {question: 'not an id', reply: reply.id},
        ]) {
          await expectCode(store.appendReply(session.id, pending.id, {content: 'x', role: 'assistant'}, {replaces}), 'MESSAGE_NOT_FOUND')
        }
        expect(await store.messages(session.id)).to.deep.equal(before)
        expect((await store.messages(other.id)).every(m => m.hiddenAt === null)).to.equal(true)
      })

      it('undoes the last exchange, then the one before, keeping every message stored', async () => {
        const session = await store.create()
        const [q1, a1] = await answered(session.id, 'q1', 'a1')
        const [q2, a2] = await answered(session.id, 'q2', 'a2')
        clock.advance(1000)
        const undone = await store.undo(session.id)
        expect(undone).to.deep.equal({question: {...q2, hiddenAt: clock.now(), supersededBy: null}, reply: {...a2, hiddenAt: clock.now(), supersededBy: null}})
        expect(await store.messages(session.id)).to.deep.equal([q1, a1, undone.question, undone.reply])
        expect((await store.get(session.id)).updatedAt.getTime()).to.equal(clock.now().getTime())
        expect(await store.lastExchange(session.id)).to.deep.equal({question: q1, reply: a1})
        await store.undo(session.id)
        expect(await current(session.id)).to.deep.equal([])
        expect((await store.messages(session.id)).length).to.equal(4)
        await expectCode(store.undo(session.id), 'INVALID_INPUT')
        await expectCode(store.undo('01ZZZZZZZZZZZZZZZZZZZZZZZZ'), 'SESSION_NOT_FOUND')
        expect(await store.lastExchange(session.id)).to.equal(undefined)
      })

      it('undoes a question without a reply, and keeps out a reply committed to it afterwards', async () => {
        const session = await store.create()
        await answered(session.id, 'q1', 'a1')
        const [waiting] = await store.append(session.id, [{content: 'q2', role: 'user', status: 'pending'}])
        expect(await store.lastExchange(session.id)).to.deep.equal({question: waiting})
        const undone = await store.undo(session.id)
        expect(undone.reply).to.equal(undefined)
        // Another process was answering it: its reply is stored, and stays out of the conversation.
        await store.appendReply(session.id, waiting.id, {content: 'a2', role: 'assistant'})
        expect(await current(session.id)).to.deep.equal(['q1', 'a1'])
        expect((await store.messages(session.id, {current: true, last: 1})).map(m => m.content)).to.deep.equal(['a1'])
        expect((await store.messages(session.id)).map(m => m.content)).to.deep.equal(['q1', 'a1', 'q2', 'a2'])
      })

      it('forks with the marks: what was replaced within the fork stays out, what was replaced past the cut is current again', async () => {
        const session = await store.create()
        const [question, reply] = await answered(session.id, 'q', 'a')
        const again = await store.appendReply(session.id, question.id, {content: 'a again', role: 'assistant'}, {replaces: {reply: reply.id}})
        await answered(session.id, 'q2', 'a2')
        await store.undo(session.id)
        const whole = await store.fork(session.id)
        const copied = await store.messages(whole.id)
        expect(await current(whole.id)).to.deep.equal(['q', 'a again'])
        expect(copied[1].supersededBy).to.equal(copied[2].id)
        expect(copied.map(m => m.hiddenAt === null)).to.deep.equal([true, false, true, false, false])
        // Cut before the retry's reply: the first reply is the fork's.
        const early = await store.fork(session.id, {at: reply.position})
        expect(await current(early.id)).to.deep.equal(['q', 'a'])
        expect(again.position).to.be.greaterThan(reply.position)
      })

      it('restores hidden messages as they were, and refuses a supersededBy on a message not hidden', async () => {
        const session = await store.create()
        const [question, reply] = await answered(session.id, 'q', 'a')
        await store.appendReply(session.id, question.id, {content: 'a again', role: 'assistant'}, {replaces: {reply: reply.id}})
        const snapshot = {messages: await store.messages(session.id), session: await store.get(session.id)}
        await store.delete([session.id])
        await store.restore(snapshot)
        expect(await store.messages(session.id)).to.deep.equal(snapshot.messages)
        expect(await current(session.id)).to.deep.equal(['q', 'a again'])
        const bad = {...snapshot.messages[0], hiddenAt: null, supersededBy: reply.id}
        await expectCode(store.restore({messages: [bad], session: snapshot.session}, {replace: true}), 'INVALID_INPUT')
        await expectCode(store.restore({messages: [{...bad, hiddenAt: new Date(Number.NaN)}], session: snapshot.session}, {replace: true}), 'INVALID_INPUT')
        expect(await store.messages(session.id)).to.deep.equal(snapshot.messages)
      })
    })

    describe('list and count', () => {
      it('lists most recently updated first with counts and previews', async () => {
        const a = await store.create({title: 'A'})
        clock.advance(1000)
        const b = await store.create()
        clock.advance(1000)
        await store.append(a.id, [
          {content: 'You are terse.', role: 'system'},
          {content: `First question ${'?'.repeat(200)}`, role: 'user'},
          {content: 'Answer', role: 'assistant'},
        ])
        const listed = await store.list()
        expect(listed.map(s => s.id)).to.deep.equal([a.id, b.id])
        expect(listed[0]).to.deep.include({messageCount: 3, title: 'A'})
        expect(listed[0].preview).to.equal(`First question ${'?'.repeat(85)}`)
        expect(listed[1]).to.deep.include({messageCount: 0, preview: null})
        expect(await store.count()).to.equal(2)
      })

      it('pages stably, even when timestamps tie', async () => {
        const ids: string[] = []
        for (let i = 0; i < 7; i++) ids.push((await store.create()).id)
        const pages = [...(await store.list({limit: 3})), ...(await store.list({limit: 3, offset: 3})), ...(await store.list({limit: 3, offset: 6}))]
        expect(pages.map(s => s.id)).to.deep.equal([...ids].reverse())
        expect(await store.list({offset: 50})).to.deep.equal([])
        await expectCode(store.list({limit: 0}), 'INVALID_INPUT')
        await expectCode(store.list({offset: -1}), 'INVALID_INPUT')
      })

      it('gives short ids of at least 8 characters that resolve to their session', async () => {
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA1'})
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAB2'})
        await store.create({id: '01JCZZZZZZZZZZZZZZZZZZZZZ3'})
        const listed = await store.list()
        const short = Object.fromEntries(listed.map(s => [s.id, s.shortId]))
        expect(short).to.deep.equal({
          '01JCAAAAAAAAAAAAAAAAAAAAA1': '01JCAAAAAAAAAAAAAAAAAAAAA',
          '01JCAAAAAAAAAAAAAAAAAAAAB2': '01JCAAAAAAAAAAAAAAAAAAAAB',
          '01JCZZZZZZZZZZZZZZZZZZZZZ3': '01JCZZZZ',
        })
        for (const s of listed) expect((await store.get(s.shortId)).id).to.equal(s.id)
      })
    })

    describe('clear and delete', () => {
      it('clears a session’s messages and keeps the session', async () => {
        const session = await store.create({title: 'keep me'})
        await store.append(session.id, [
          {content: 'a', role: 'user'},
          {content: 'b', role: 'assistant'},
        ])
        expect(await store.clear(session.id)).to.equal(2)
        expect(await store.messages(session.id)).to.deep.equal([])
        expect((await store.get(session.id)).title).to.equal('keep me')
        const [again] = await store.append(session.id, [{content: 'c', role: 'user'}])
        expect(again.content).to.equal('c')
        await expectCode(store.clear('01ZZZZZZZZZZZZZZZZZZZZZZZZ'), 'SESSION_NOT_FOUND')
      })

      it('deletes sessions with their messages and ignores unknown ids', async () => {
        const a = await store.create()
        const b = await store.create()
        const [message] = await store.append(a.id, [{content: 'x', role: 'user'}])
        expect(await store.delete([a.id, '01ZZZZZZZZZZZZZZZZZZZZZZZZ', a.id])).to.equal(1)
        await expectCode(store.get(a.id), 'SESSION_NOT_FOUND')
        await expectCode(store.messages(a.id), 'SESSION_NOT_FOUND')
        // Its session is gone, and the message with it.
        await expectCode(store.updateMessage(a.id, message.id, {status: 'error'}), 'SESSION_NOT_FOUND')
        expect((await store.list()).map(s => s.id)).to.deep.equal([b.id])
        expect(await store.delete([])).to.equal(0)
      })
    })

    describe('sessions by title', () => {
      it('finds a session by its exact title: case-sensitive, the reference trimmed', async () => {
        const notes = await store.create({title: 'Release notes'})
        await store.create({title: 'release notes 2'})
        const odd = await store.create({title: `it's "$(rm -rf ~)" ✓ 🤖`})
        expect((await store.get('Release notes')).id).to.equal(notes.id)
        expect((await store.get('  Release notes\n')).id).to.equal(notes.id)
        expect((await store.get(`it's "$(rm -rf ~)" ✓ 🤖`)).id).to.equal(odd.id)
        await expectCode(store.get('release notes'), 'SESSION_NOT_FOUND')
        await expectCode(store.get('Release'), 'SESSION_NOT_FOUND')
        // Blank names no title: a usage error (see the id cases above).
        await expectCode(store.get('   '), 'INVALID_INPUT')
      })

      it('follows a rename, and tells long titles apart by every character', async () => {
        const session = await store.create({title: 'before'})
        await store.update(session.id, {title: 'after'})
        expect((await store.get('after')).id).to.equal(session.id)
        await expectCode(store.get('before'), 'SESSION_NOT_FOUND')
        // Alike for their first 150 characters, astral ones included: an index on a title's start must not decide alone.
        const start = '🤖'.repeat(50) + 'x'.repeat(100)
        const one = await store.create({title: `${start} one`})
        const two = await store.create({title: `${start} two`})
        expect((await store.get(`${start} two`)).id).to.equal(two.id)
        expect((await store.get(`${start} one`)).id).to.equal(one.id)
        await expectCode(store.get(start), 'SESSION_NOT_FOUND')
      })

      it('lets an id prefix win over a title, and a title settle a prefix that alone is ambiguous', async () => {
        const target = await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA1'})
        const decoy = await store.create({id: '01JCBBBBBBBBBBBBBBBBBBBBBB', title: '01JCAAAA'})
        expect((await store.get('01JCAAAA')).id).to.equal(target.id)
        await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAA2'})
        expect((await store.get('01JCAAAA')).id).to.equal(decoy.id)
        await store.update(decoy.id, {title: 'other'})
        await expectCode(store.get('01JCAAAA'), 'AMBIGUOUS_SESSION_ID')
      })

      it('reports a title several sessions share, with their short ids and dates, and says to use the id', async () => {
        // Sharing 10 characters, their short ids are 11 long.
        const a = await store.create({id: '01JCAAAAAA1AAAAAAAAAAAAAAA', title: 'Notes'})
        clock.advance(DAY)
        const b = await store.create({id: '01JCAAAAAA2AAAAAAAAAAAAAAA', title: 'Notes'})
        const error = await expectCode(store.get('Notes'), 'AMBIGUOUS_SESSION_TITLE')
        expect(error.message).to.equal(
          `"Notes" is the title of 2 sessions: 01JCAAAAAA1 (updated ${a.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC), 01JCAAAAAA2 (updated ${b.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC).`,
        )
        expect(error.suggestions.join(' ')).to.contain('Use the id')
        expect(error.exitCode).to.equal(1)
        for (let i = 0; i < 5; i++) await store.create({title: 'Notes'})
        const many = await expectCode(store.get('Notes'), 'AMBIGUOUS_SESSION_TITLE')
        expect(many.message).to.match(/^"Notes" is the title of more than 5 sessions: (\S+ \(updated [^)]+\), ){5}…\.$/)
      })
    })

    describe('fork', () => {
      async function conversation() {
        const parent = await store.create({
          metadata: {cwd: '/home/ada', nested: {a: [1]}},
          model: 'gpt-4o-mini',
          provider: 'openai',
          systemPrompt: 'Be brief.',
          title: 'Plan',
        })
        const [q1] = await store.append(parent.id, [{content: 'first question', role: 'user'}])
        clock.advance(1000)
        await store.appendReply(parent.id, q1.id, {
          content: 'first answer',
          durationMs: 12,
          inputTokens: 3,
          model: 'gpt-4o-mini',
          outputTokens: 4,
          role: 'assistant',
        })
        const [q2] = await store.append(parent.id, [{content: 'second question', role: 'user'}])
        await store.appendReply(parent.id, q2.id, {content: 'cut short', role: 'assistant', status: 'interrupted'})
        return store.get(parent.id)
      }

      async function snapshotOf(id: string) {
        return {messages: await store.messages(id), session: await store.get(id)}
      }

      it('copies every message with new ids, and the settings, leaving the parent as it was', async () => {
        const parent = await conversation()
        const before = await snapshotOf(parent.id)
        clock.advance(DAY)
        const fork = await store.fork(parent.id)
        expect(await snapshotOf(parent.id)).to.deep.equal(before)
        expect(fork).to.deep.equal({
          ...before.session,
          createdAt: clock.now(),
          id: fork.id,
          kept: false,
          parentId: parent.id,
          parentPosition: 3,
          title: 'Plan (fork)',
          updatedAt: clock.now(),
        })
        expect(fork.id).to.not.equal(parent.id)
        expect(await store.get(fork.id)).to.deep.equal(fork)
        const copies = await store.messages(fork.id)
        const originals = before.messages
        expect(copies.map(m => m.id).filter(id => originals.some(o => o.id === id))).to.deep.equal([])
        const newId = new Map(originals.map((m, i) => [m.id, copies[i].id]))
        expect(copies).to.deep.equal(
          originals.map((m, i) => ({...m, id: copies[i].id, replyTo: m.replyTo === null ? null : newId.get(m.replyTo), sessionId: fork.id})),
        )
        // The fork is the newest session, so "continue the last session" continues it.
        expect((await store.latest())?.id).to.equal(fork.id)
        expect((await store.list())[0]).to.deep.include({messageCount: 4, parentId: parent.id, parentPosition: 3})
      })

      it('copies up to and including position N, with the title asked for', async () => {
        const parent = await conversation()
        const fork = await store.fork(parent.id, {at: 1, title: '  Plan B  '})
        expect(fork).to.deep.include({parentId: parent.id, parentPosition: 1, title: 'Plan B'})
        expect(messageContents(await store.messages(fork.id))).to.deep.equal([
          ['user', 'first question'],
          ['assistant', 'first answer'],
        ])
        expect((await store.fork(parent.id, {at: 0})).parentPosition).to.equal(0)
        expect(await store.messages((await store.fork(parent.id, {at: 0})).id)).to.have.length(1)
      })

      it('goes on independently: appends to the fork follow its copies and never reach the parent', async () => {
        const parent = await conversation()
        const fork = await store.fork(parent.id, {at: 1})
        const [next] = await store.append(fork.id, [{content: 'another way', role: 'user'}])
        expect(next.position).to.equal(2)
        expect(await store.messages(parent.id)).to.have.length(4)
        await store.append(parent.id, [{content: 'parent goes on', role: 'user'}])
        expect(messageContents(await store.messages(fork.id)).at(-1)).to.deep.equal(['user', 'another way'])
      })

      it('leaves out pending questions, and copies failed and interrupted messages as they are', async () => {
        const parent = await store.create()
        await store.append(parent.id, [
          {content: 'failed', role: 'user', status: 'error'},
          {content: 'under way', role: 'user', status: 'pending'},
          {content: 'partial', role: 'assistant', status: 'interrupted'},
        ])
        const fork = await store.fork(parent.id)
        expect(fork).to.deep.include({parentPosition: 2, title: null})
        expect((await store.messages(fork.id)).map(m => [m.position, m.content, m.status])).to.deep.equal([
          [0, 'failed', 'error'],
          [2, 'partial', 'interrupted'],
        ])
      })

      it('forks an empty session, a fork, and outlives a deleted parent', async () => {
        const empty = await store.create({title: 'empty'})
        const fromEmpty = await store.fork(empty.id)
        expect(fromEmpty).to.deep.include({parentId: empty.id, parentPosition: null, title: 'empty (fork)'})
        expect(await store.messages(fromEmpty.id)).to.deep.equal([])

        const parent = await conversation()
        const child = await store.fork(parent.id)
        const grandchild = await store.fork(child.id, {at: 2})
        expect(grandchild).to.deep.include({parentId: child.id, parentPosition: 2, title: 'Plan (fork) (fork)'})
        expect(await store.delete([parent.id, child.id])).to.equal(2)
        expect(await store.get(grandchild.id)).to.deep.equal(grandchild)
        expect(messageContents(await store.messages(grandchild.id))).to.have.length(3)
      })

      it('refuses a position out of range, an empty title and an unknown session, writing nothing', async () => {
        const parent = await conversation()
        const empty = await store.create()
        for (const at of [4, -1, 1.5, Number.NaN]) {
          const error = await expectCode(store.fork(parent.id, {at}), 'INVALID_INPUT')
          expect(error.exitCode).to.equal(2)
          expect(error.message).to.contain('positions 0 to 3')
        }
        expect((await expectCode(store.fork(empty.id, {at: 0}), 'INVALID_INPUT')).message).to.contain('it has no messages')
        await expectCode(store.fork(parent.id, {title: ' '}), 'INVALID_INPUT')
        await expectCode(store.fork(parent.id, {title: 'nul \0'}), 'INVALID_INPUT')
        await expectCode(store.fork('01ZZZZZZZZZZZZZZZZZZZZZZZZ'), 'SESSION_NOT_FOUND')
        await expectCode(store.fork('Plan'), 'SESSION_NOT_FOUND')
        expect(await store.count()).to.equal(2)
      })

      it('restores a fork with its parent recorded, and refuses a malformed parent', async () => {
        const parent = await conversation()
        const fork = await store.fork(parent.id)
        const snapshot = await snapshotOf(fork.id)
        await store.delete([fork.id])
        await store.restore(snapshot)
        expect(await snapshotOf(fork.id)).to.deep.equal(snapshot)
        const other = {messages: [], session: {...snapshot.session, id: '01JNFFFFFFFFFFFFFFFFFFFFFF'}}
        await expectCode(store.restore({...other, session: {...other.session, parentId: '../etc'}}), 'INVALID_INPUT')
        await expectCode(store.restore({...other, session: {...other.session, parentPosition: -1}}), 'INVALID_INPUT')
        await expectCode(store.restore({...other, session: {...other.session, parentId: null}}), 'INVALID_INPUT')
        await expectCode(store.get(other.session.id), 'SESSION_NOT_FOUND')
      })
    })

    describe('prune', () => {
      async function sessionsAged(count: number): Promise<string[]> {
        const ids: string[] = []
        for (let i = 0; i < count; i++) {
          const session = await store.create({title: `s${i}`})
          await store.append(session.id, [{content: `q${i}`, role: 'user'}])
          ids.push(session.id)
          clock.advance(DAY)
        }
        return ids
      }

      it('keeps the newest max_sessions, deleting the oldest first', async () => {
        const ids = await sessionsAged(5)
        const result = await store.prune({maxSessions: 3})
        expect(result.dryRun).to.equal(false)
        expect(result.deleted.map(s => s.id)).to.deep.equal(ids.slice(0, 2))
        expect(result.deleted[0]).to.deep.include({messageCount: 1, preview: 'q0'})
        expect((await store.list()).map(s => s.id)).to.deep.equal(ids.slice(2).reverse())
      })

      it('deletes sessions not updated within the retention period', async () => {
        const ids = await sessionsAged(4)
        // now = day 4; cut-off at day 1.5 drops the sessions updated on days 0 and 1.
        const result = await store.prune({olderThan: new Date(clock.now().getTime() - 2.5 * DAY)})
        expect(result.deleted.map(s => s.id)).to.deep.equal(ids.slice(0, 2))
        expect(await store.count()).to.equal(2)
      })

      it('applies both limits together', async () => {
        const ids = await sessionsAged(6)
        const result = await store.prune({maxSessions: 4, olderThan: new Date(clock.now().getTime() - 4.5 * DAY)})
        expect(result.deleted.map(s => s.id)).to.deep.equal(ids.slice(0, 2))
        const tighter = await store.prune({maxSessions: 1, olderThan: new Date(clock.now().getTime() - 4.5 * DAY)})
        expect(tighter.deleted.map(s => s.id)).to.deep.equal(ids.slice(2, 5))
      })

      it('reports without deleting on a dry run', async () => {
        const ids = await sessionsAged(3)
        const result = await store.prune({dryRun: true, maxSessions: 1})
        expect(result).to.deep.include({dryRun: true})
        expect(result.deleted.map(s => s.id)).to.deep.equal(ids.slice(0, 2))
        expect(await store.count()).to.equal(3)
      })

      it('never deletes a kept session, and kept ones do not count toward max_sessions', async () => {
        const ids = await sessionsAged(5)
        await store.update(ids[0], {kept: true})
        await store.update(ids[3], {kept: true})
        // Unkept, newest first: 4, 2, 1. The age limit (before day 1.5) takes 1 and spares the kept 0; 4 and 2 fit in two.
        const dry = await store.prune({dryRun: true, maxSessions: 2, olderThan: new Date(clock.now().getTime() - 3.5 * DAY)})
        expect(dry.deleted.map(s => s.id)).to.deep.equal([ids[1]])
        const result = await store.prune({maxSessions: 2})
        expect(result.deleted.map(s => s.id)).to.deep.equal([ids[1]])
        expect((await store.list()).map(s => s.id)).to.deep.equal([ids[4], ids[3], ids[2], ids[0]])
        expect((await store.prune({maxSessions: 0, olderThan: clock.now()})).deleted.map(s => s.id)).to.deep.equal([ids[2], ids[4]])
        expect((await store.list()).map(s => s.id)).to.deep.equal([ids[3], ids[0]])
      })

      it('never deletes a protected session, which still holds its place in max_sessions', async () => {
        const ids = await sessionsAged(5)
        const result = await store.prune({maxSessions: 2, protect: [ids[0], '01ZZZZZZZZZZZZZZZZZZZZZZZZ']})
        // The newest two stay; of the three beyond them, the protected oldest stays too.
        expect(result.deleted.map(s => s.id)).to.deep.equal([ids[1], ids[2]])
        expect((await store.prune({olderThan: clock.now(), protect: ids.slice(3)})).deleted.map(s => s.id)).to.deep.equal([ids[0]])
        expect((await store.list()).map(s => s.id)).to.deep.equal([ids[4], ids[3]])
      })

      it('deletes nothing without limits, and refuses a negative limit', async () => {
        await sessionsAged(2)
        expect((await store.prune({})).deleted).to.deep.equal([])
        expect((await store.prune({maxSessions: 0})).deleted.length).to.equal(2)
        await expectCode(store.prune({maxSessions: -1}), 'INVALID_INPUT')
      })
    })

    describe('restore', () => {
      async function snapshotOf(id: string) {
        return {messages: await store.messages(id), session: await store.get(id)}
      }

      it('writes a session exactly as exported: ids, positions, statuses, timestamps, metadata, kept', async () => {
        const original = await store.create({kept: true, metadata: {tenant: 'acme', traits: ['x']}, model: 'm', provider: 'p', systemPrompt: 'S', title: 'T'})
        await store.append(original.id, [
          {content: 'q', role: 'user'},
          {content: 'partial', durationMs: 12, finishReason: null, metadata: {raw: 1}, model: 'm', provider: 'p', role: 'assistant', status: 'interrupted'},
        ])
        await store.clear(original.id)
        await store.append(original.id, [
          {content: 'q2', role: 'user', status: 'error'},
          {content: 'a2', inputTokens: 3, outputTokens: 4, role: 'assistant'},
        ])
        const [asked] = await store.append(original.id, [{content: 'q3', role: 'user', status: 'pending'}])
        await store.appendReply(original.id, asked.id, {content: 'a3', role: 'assistant'})
        await store.append(original.id, [{content: 'q4', role: 'user', status: 'pending'}])
        const snapshot = await snapshotOf(original.id)
        await store.delete([original.id])
        clock.advance(99_000)
        const restored = await store.restore(snapshot)
        expect(restored).to.deep.equal(snapshot.session)
        expect(restored.kept).to.equal(true)
        expect(await snapshotOf(original.id)).to.deep.equal(snapshot)
        // Appends continue after the restored positions.
        const [next] = await store.append(original.id, [{content: 'after', role: 'user'}])
        expect(next.position).to.equal(snapshot.messages.at(-1)!.position + 1)
      })

      it('restores an empty session', async () => {
        const session = sessionRecord({
          createdAt: new Date('2025-03-01T10:00:00.000Z'),
          id: '01JNAAAAAAAAAAAAAAAAAAAAAA',
          title: 'empty',
          updatedAt: new Date('2025-03-02T10:00:00.000Z'),
        })
        await store.restore({messages: [], session})
        expect(await store.get(session.id)).to.deep.equal(session)
        expect((await store.list())[0]).to.deep.include({messageCount: 0, title: 'empty'})
      })

      it('refuses a taken session id or message id, unless replacing, and writes nothing', async () => {
        const a = await store.create({title: 'a'})
        await store.append(a.id, [{content: 'one', role: 'user'}])
        const snapshot = await snapshotOf(a.id)
        await expectCode(store.restore(snapshot), 'INVALID_INPUT')
        const stolen = {messages: snapshot.messages, session: {...snapshot.session, id: '01JNBBBBBBBBBBBBBBBBBBBBBB'}}
        await expectCode(store.restore(stolen), 'INVALID_INPUT')
        await expectCode(store.get('01JNBBBBBBBBBBBBBBBBBBBBBB'), 'SESSION_NOT_FOUND')

        const changed = {messages: [{...snapshot.messages[0], content: 'replaced'}], session: {...snapshot.session, title: 'new title'}}
        await store.restore(changed, {replace: true})
        expect(await snapshotOf(a.id)).to.deep.equal(changed)
        expect(await store.count()).to.equal(1)
      })

      it('rejects malformed snapshots before writing anything', async () => {
        const session = sessionRecord({id: '01JNCCCCCCCCCCCCCCCCCCCCCC'})
        const message = messageRecord({content: 'x', id: '01JNDDDDDDDDDDDDDDDDDDDDDD', sessionId: session.id})
        await expectCode(store.restore({messages: [], session: {...session, id: '../../etc/passwd'}}), 'INVALID_INPUT')
        await expectCode(store.restore({messages: [], session: {...session, id: '01jncccccccccccccccccccccc'}}), 'INVALID_INPUT')
        await expectCode(store.restore({messages: [message, {...message, id: '01JNEEEEEEEEEEEEEEEEEEEEEE', position: 0}], session}), 'INVALID_INPUT')
        await expectCode(store.restore({messages: [message, message], session}), 'INVALID_INPUT')
        await expectCode(store.restore({messages: [{...message, role: 'robot' as never}], session}), 'INVALID_INPUT')
        await expectCode(store.restore({messages: [], session: {...session, createdAt: new Date(Number.NaN)}}), 'INVALID_INPUT')
        expect(await store.count()).to.equal(0)
      })

      it('refuses values not every backend can hold: huge or fractional numbers, NUL, over-long names', async () => {
        const session = sessionRecord({id: '01JNCCCCCCCCCCCCCCCCCCCCCC'})
        const message = messageRecord({content: 'x', id: '01JNDDDDDDDDDDDDDDDDDDDDDD', sessionId: session.id})
        for (const bad of [
          {position: 3e9},
          {position: 1e300},
          {inputTokens: 1e12},
          {outputTokens: -1},
          {durationMs: 2 ** 31},
          {durationMs: 1.5},
          {content: 'nul \0 inside'},
          {model: 'm'.repeat(201)},
          {provider: 'p'.repeat(101)},
          {finishReason: 'f'.repeat(51)},
        ]) {
          const error = await expectCode(store.restore({messages: [{...message, ...bad}], session}), 'INVALID_INPUT')
          expect(error.message, JSON.stringify(bad)).to.match(/^Message 01JNDDDDDDDDDDDDDDDDDDDDDD has /)
        }
        await expectCode(store.restore({messages: [], session: {...session, title: 'a\0b'}}), 'INVALID_INPUT')
        expect(await store.count()).to.equal(0)
        // The limits themselves are stored, and appends go on after the highest position.
        const edge = {...message, durationMs: 2 ** 31 - 1, inputTokens: 2 ** 31 - 1, model: '模'.repeat(200), outputTokens: 0, position: 1_000_000_000}
        await store.restore({messages: [edge], session})
        expect(await store.messages(session.id)).to.deep.equal([edge])
        expect((await store.append(session.id, [{content: 'next', role: 'user'}]))[0].position).to.equal(1_000_000_001)
      })

      describe('a batch (restoreAll)', () => {
        const at = new Date('2025-05-01T00:00:00.000Z')
        const sessionOf = (id: string, title: string) => sessionRecord({createdAt: at, id, title})
        const messageOf = (id: string, sessionId: string, position: number) => messageRecord({content: `m${position}`, createdAt: at, id, position, sessionId})

        /** Everything the store holds, as one string: equal strings, equal stores. */
        async function dump(): Promise<string> {
          const sessions = await store.list({limit: 10_000})
          const whole = []
          for (const {id} of sessions.sort((x, y) => (x.id < y.id ? -1 : 1))) whole.push({messages: await store.messages(id), session: await store.get(id)})
          return JSON.stringify(whole)
        }

        it('writes every session of a good batch, in order, kept ones kept and replies paired, and appends go on after each', async () => {
          const x = sessionOf('01JNXXXXXXXXXXXXXXXXXXXXXX', 'x')
          const y = {...sessionOf('01JNYYYYYYYYYYYYYYYYYYYYYY', 'y'), kept: true}
          const batch = [
            {
              messages: [
                messageOf('01JNX000000000000000000000', x.id, 0),
                {...messageOf('01JNX111111111111111111111', x.id, 5), replyTo: '01JNX000000000000000000000', role: 'assistant' as const},
              ],
              session: x,
            },
            {messages: [], session: y},
          ]
          expect(await store.restoreAll(batch)).to.deep.equal([x, y])
          expect(await store.messages(x.id)).to.deep.equal(batch[0].messages)
          expect(await store.get(y.id)).to.deep.equal(y)
          expect((await store.append(x.id, [{content: 'after', role: 'user'}]))[0].position).to.equal(6)
          expect(await store.restoreAll([])).to.deep.equal([])
        })

        it('leaves the store exactly as it was when any session of the batch is refused', async () => {
          const a = await store.create({title: 'a'})
          const [taken] = await store.append(a.id, [{content: 'held by a', role: 'user'}])
          const b = await store.create({title: 'b'})
          const before = await dump()
          const fresh = sessionOf('01JNXXXXXXXXXXXXXXXXXXXXXX', 'fresh')
          const thief = sessionOf('01JNYYYYYYYYYYYYYYYYYYYYYY', 'thief')
          const good = {messages: [messageOf('01JNX0000000000000000000AA', fresh.id, 0)], session: fresh}
          const failing = [
            // A message id held by a session outside the batch, found only after the first session.
            [good, {messages: [messageOf(taken.id, thief.id, 0)], session: thief}],
            // Two sessions of the batch sharing a message id.
            [good, {messages: [messageOf('01JNX0000000000000000000AA', thief.id, 0)], session: thief}],
            // The same session twice.
            [good, good],
            // An existing session without replace.
            [good, {messages: [], session: {...sessionOf(b.id, 'b again'), createdAt: b.createdAt}}],
            // A value out of range in the last session.
            [good, {messages: [{...messageOf('01JNY0000000000000000000AA', thief.id, 0), position: 1e300}], session: thief}],
          ]
          for (const batch of failing) {
            await expectCode(store.restoreAll(batch), 'INVALID_INPUT')
            expect(await dump()).to.equal(before)
          }
          // Replacing does not free a message id held by a session outside the batch.
          await expectCode(
            store.restoreAll(
              [
                {messages: [], session: {...sessionOf(b.id, 'b replaced'), createdAt: b.createdAt}},
                {messages: [messageOf(taken.id, thief.id, 0)], session: thief},
              ],
              {replace: true},
            ),
            'INVALID_INPUT',
          )
          expect(await dump()).to.equal(before)
        })

        it('with replace, frees the message ids of the replaced sessions for the whole batch', async () => {
          const a = await store.create({title: 'a'})
          const [first] = await store.append(a.id, [{content: 'first', role: 'user'}])
          const moved = sessionOf('01JNZZZZZZZZZZZZZZZZZZZZZZ', 'takes the id')
          // The session that takes the id comes before the one whose replacement frees it.
          const batch = [
            {messages: [messageOf(first.id, moved.id, 0)], session: moved},
            {messages: [], session: {...(await store.get(a.id)), title: 'a emptied'}},
          ]
          await store.restoreAll(batch, {replace: true})
          expect(await store.messages(a.id)).to.deep.equal([])
          expect((await store.messages(moved.id)).map(m => m.id)).to.deep.equal([first.id])
          expect((await store.get(a.id)).title).to.equal('a emptied')
          expect((await store.updateMessage(moved.id, first.id, {content: 'found'})).sessionId).to.equal(moved.id)
          await expectCode(store.updateMessage(a.id, first.id, {content: 'not here'}), 'MESSAGE_NOT_FOUND')
        })
      })
    })

    describe('usage', () => {
      const usage = {cachedInputTokens: 40, costSource: 'config', costUsd: 0.5, tokenSource: 'provider' as const}

      it('stores the usage fields of a reply, changes them by patch, and restores them as given', async () => {
        const session = await store.create()
        const [question] = await store.append(session.id, [{content: 'q', role: 'user', status: 'pending'}])
        const reply = await store.appendReply(session.id, question.id, {...usage, content: 'a', inputTokens: 100, outputTokens: 10, role: 'assistant'})
        expect(reply).to.deep.include(usage)
        expect((await store.messages(session.id))[1]).to.deep.include(usage)
        expect(question).to.deep.include({cachedInputTokens: null, costSource: null, costUsd: null, tokenSource: null})
        const patched = await store.updateMessage(session.id, reply.id, {costSource: null, costUsd: null, tokenSource: 'estimate'})
        expect(patched).to.deep.include({cachedInputTokens: 40, costSource: null, costUsd: null, tokenSource: 'estimate'})
        const snapshot = {messages: await store.messages(session.id), session: await store.get(session.id)}
        await store.restore({...snapshot, messages: snapshot.messages.map(m => ({...m, costUsd: 1.25e-7}))}, {replace: true})
        expect((await store.messages(session.id)).map(m => m.costUsd)).to.deep.equal([1.25e-7, 1.25e-7])
      })

      it('refuses usage values not every backend can hold', async () => {
        const session = await store.create()
        for (const bad of [{tokenSource: 'guessed' as never}, {costUsd: -1}, {costUsd: Number.NaN}, {cachedInputTokens: 1.5}, {cachedInputTokens: -1}]) {
          await expectCode(store.append(session.id, [{content: 'a', role: 'assistant', ...bad}]), 'INVALID_INPUT')
        }
        expect(await store.messages(session.id)).to.deep.equal([])
      })

      it('sums tokens and costs of replies in total and by model, provider, session and day, over a time range', async () => {
        const a = await store.create({id: '01JVAAAAAAAAAAAAAAAAAAAAAA'})
        const b = await store.create({id: '01JVBBBBBBBBBBBBBBBBBBBBBB'})
        const start = clock.now()
        await store.append(a.id, [
          {content: 'q', inputTokens: 999, role: 'user'},
          {...usage, content: 'r1', inputTokens: 100, model: 'm1', outputTokens: 10, provider: 'p1', role: 'assistant'},
        ])
        clock.advance(DAY)
        const second = clock.now()
        await store.append(a.id, [
          {
            content: 'r2',
            costSource: null,
            costUsd: null,
            inputTokens: 10,
            model: 'm2',
            outputTokens: 5,
            provider: 'p2',
            role: 'assistant',
            tokenSource: 'estimate',
          },
        ])
        clock.advance(DAY)
        const third = clock.now()
        await store.append(b.id, [
          {
            cachedInputTokens: 0,
            content: 'r3',
            costSource: 'config',
            costUsd: 0.25,
            inputTokens: 1,
            model: 'm1',
            outputTokens: 1,
            provider: 'p1',
            role: 'assistant',
            tokenSource: 'tokenizer',
          },
          // A reply stored before replies had counts: it counts as a reply, adds no tokens and has no cost.
          {content: 'old', role: 'assistant'},
        ])
        const totals = (partial: Partial<UsageTotals>): UsageTotals => ({...emptyUsage, ...partial})

        const all = await store.usage()
        expect(all.by).to.equal(null)
        expect(all.groups).to.deep.equal([])
        expect(all.total).to.deep.equal(
          totals({cachedInputTokens: 40, costUsd: 0.75, estimatedReplies: 2, inputTokens: 111, outputTokens: 16, replies: 4, unpricedReplies: 2}),
        )

        const byModel = await store.usage({by: 'model'})
        expect(byModel.groups).to.deep.equal([
          {...totals({cachedInputTokens: 40, costUsd: 0.75, estimatedReplies: 1, inputTokens: 101, outputTokens: 11, replies: 2}), key: 'm1'},
          {...totals({estimatedReplies: 1, inputTokens: 10, outputTokens: 5, replies: 1, unpricedReplies: 1}), key: 'm2'},
          {...totals({replies: 1, unpricedReplies: 1}), key: null},
        ])
        expect(byModel.total).to.deep.equal(all.total)
        expect((await store.usage({by: 'provider'})).groups.map(g => [g.key, g.replies])).to.deep.equal([
          ['p1', 2],
          ['p2', 1],
          [null, 1],
        ])
        expect((await store.usage({by: 'session'})).groups.map(g => [g.key, g.costUsd, g.replies])).to.deep.equal([
          [a.id, 0.5, 2],
          [b.id, 0.25, 2],
        ])
        const byDay = await store.usage({by: 'day'})
        expect(byDay.groups.map(g => [g.key, g.replies, g.costUsd])).to.deep.equal([
          [localDate(start), 1, 0.5],
          [localDate(second), 1, null],
          [localDate(third), 2, 0.25],
        ])

        const range = await store.usage({since: second, until: third})
        expect(range.total).to.deep.equal(totals({estimatedReplies: 1, inputTokens: 10, outputTokens: 5, replies: 1, unpricedReplies: 1}))
        expect((await store.usage({since: third})).total.replies).to.equal(2)
        expect((await store.usage({until: start})).total).to.deep.equal(emptyUsage)

        const ofB = await store.usage({by: 'session', sessionIds: [b.id, '01JVZZZZZZZZZZZZZZZZZZZZZZ', 'not an id']})
        expect(ofB.groups.map(g => g.key)).to.deep.equal([b.id])
        expect(ofB.total.costUsd).to.equal(0.25)
        expect((await store.usage({sessionIds: []})).total).to.deep.equal(emptyUsage)
      })

      it('refuses a grouping or a date it does not know', async () => {
        await expectCode(store.usage({by: 'week' as never}), 'INVALID_INPUT')
        await expectCode(store.usage({since: new Date(Number.NaN)}), 'INVALID_INPUT')
      })
    })

    describe('search', () => {
      /** Each hit as "content or title" for comparing sets and orders. */
      const texts = (hits: SearchHit[]) => hits.map(h => h.snippet.text)
      const marked = (hit: SearchHit) => hit.snippet.matches.map(r => hit.snippet.text.slice(r.start, r.end))

      it('finds messages holding every word, whole words, any case, Unicode included', async () => {
        const a = await store.create({model: 'm1', provider: 'p1', title: 'Trip planning'})
        await store.append(a.id, [
          {content: 'The ZEBRA crossing near the station', role: 'user'},
          {content: 'A zebra, but no crossing here', role: 'assistant'},
          {content: 'Zebras are not a zebra crossing… or are they', role: 'user'},
          {content: 'Ünïcödé straße ĸ', role: 'assistant'},
        ])
        const hits = await store.search('zebra crossing')
        expect(hits.map(h => h.message?.position).sort()).to.deep.equal([0, 1, 2])
        for (const hit of hits) {
          expect(hit.session).to.deep.include({id: a.id, model: 'm1', provider: 'p1', title: 'Trip planning'})
          expect(hit.session.shortId).to.have.length.of.at.least(8)
          expect(a.id.startsWith(hit.session.shortId)).to.equal(true)
          expect(hit.message?.role).to.be.oneOf(['user', 'assistant'])
          expect(marked(hit).map(w => w.toLowerCase())).to.include.members(['zebra', 'crossing'])
          expect(typeof hit.score).to.equal('number')
        }
        expect(texts(await store.search('ÜNÏCÖDÉ'))).to.deep.equal(['Ünïcödé straße ĸ'])
        expect(texts(await store.search('ünïcödé STRASSE'))).to.deep.equal([])
        expect(texts(await store.search('ünïcödé Straße'))).to.deep.equal(['Ünïcödé straße ĸ'])
        expect(await store.search('zebr')).to.deep.equal([])
        expect(await store.search('zebra giraffe')).to.deep.equal([])
      })

      it('matches "quoted phrases" in order and prefix* words', async () => {
        const s = await store.create()
        await store.append(s.id, [
          {content: 'release notes for version two', role: 'user'},
          {content: 'notes on the release', role: 'assistant'},
          {content: 'prerelease builds, released yesterday', role: 'user'},
        ])
        expect(texts(await store.search('"release notes"'))).to.deep.equal(['release notes for version two'])
        expect(texts(await store.search('"notes release"'))).to.deep.equal([])
        expect((await store.search('releas*')).map(h => h.message?.position).sort()).to.deep.equal([0, 1, 2])
        const prefixed = await store.search('releas*')
        expect(marked(prefixed.find(h => h.message?.position === 2)!)).to.deep.equal(['released'])
        expect(texts(await store.search('"release no"*'))).to.deep.equal(['release notes for version two'])
      })

      it('takes operators and punctuation as plain words, never as syntax', async () => {
        const s = await store.create()
        await store.append(s.id, [
          {content: 'fish AND chips OR peas', role: 'user'},
          {content: 'near the column: value (x) -y ^z', role: 'assistant'},
          {content: 'see src/store/store.ts line 4', role: 'user'},
        ])
        expect(texts(await store.search('fish AND chips'))).to.deep.equal(['fish AND chips OR peas'])
        expect(texts(await store.search('NOT peas'))).to.deep.equal([])
        expect(texts(await store.search('OR'))).to.deep.equal(['fish AND chips OR peas'])
        expect(texts(await store.search('NEAR column:value (x) -y ^z'))).to.deep.equal(['near the column: value (x) -y ^z'])
        expect(texts(await store.search('"chips peas'))).to.deep.equal(['fish AND chips OR peas'])
        expect(texts(await store.search('store.ts'))).to.deep.equal(['see src/store/store.ts line 4'])
        expect(texts(await store.search('chips" peas* *'))).to.deep.equal(['fish AND chips OR peas'])
        await expectCode(store.search('?!-- ()" *'), 'INVALID_INPUT')
        await expectCode(store.search('x'.repeat(10_240)), 'INVALID_INPUT')
      })

      it('finds titles as hits on the session, first, and an empty store has no hits', async () => {
        expect(await store.search('anything')).to.deep.equal([])
        const titled = await store.create({title: 'Kestrel migration notes'})
        const other = await store.create()
        await store.append(other.id, [{content: 'a kestrel hovered', role: 'user'}])
        const hits = await store.search('kestrel')
        expect(hits.map(h => [h.session.id, h.message === null])).to.deep.equal([
          [titled.id, true],
          [other.id, false],
        ])
        expect(hits[0].snippet).to.deep.equal({matches: [{end: 7, start: 0}], text: 'Kestrel migration notes'})
        await store.update(titled.id, {title: 'Falcon'})
        expect((await store.search('kestrel')).map(h => h.session.id)).to.deep.equal([other.id])
        expect((await store.search('falcon')).map(h => h.session.id)).to.deep.equal([titled.id])
      })

      it('ranks a message repeating the words above one mentioning them once, and ties most recent first', async () => {
        const s = await store.create()
        await store.append(s.id, [{content: 'otter one two three four five', role: 'user'}])
        clock.advance(1000)
        await store.append(s.id, [{content: 'otter otter otter four five six', role: 'user'}])
        clock.advance(1000)
        await store.append(s.id, [{content: 'otter one two three four five', role: 'assistant'}])
        const hits = await store.search('otter')
        expect(hits.map(h => h.message?.position)).to.deep.equal([1, 2, 0])
        expect(hits[0].score).to.be.greaterThan(hits[1].score)
        expect(hits[1].score).to.equal(hits[2].score)
      })

      it('pages through many equal scores most recent first, every hit once', async () => {
        const s = await store.create()
        const ids: string[] = []
        for (let i = 0; i < 9; i++) {
          clock.advance(1000)
          ids.push(...(await store.append(s.id, [{content: i % 4 === 0 ? 'tern tern' : 'tern', role: 'user'}])).map(m => m.id))
        }
        const all = await store.search('tern', {limit: 100})
        // The two-word messages first, each group newest first.
        const expected = [...ids.filter((_, i) => i % 4 === 0).reverse(), ...ids.filter((_, i) => i % 4 !== 0).reverse()]
        expect(all.map(h => h.message?.id)).to.deep.equal(expected)
        const paged: SearchHit[] = []
        for (let offset = 0; offset < 9; offset += 2) paged.push(...(await store.search('tern', {limit: 2, offset})))
        expect(paged.map(h => h.message?.id)).to.deep.equal(expected)
      })

      it('filters by role, model, provider, time and session, and pages', async () => {
        const a = await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAAA', model: 'alpha', provider: 'openai'})
        const b = await store.create({id: '01JCBBBBBBBBBBBBBBBBBBBBBB', model: 'beta', provider: 'anthropic', title: 'heron title'})
        const [early] = await store.append(a.id, [{content: 'heron early', role: 'user'}])
        clock.advance(DAY)
        const middle = clock.now()
        await store.append(a.id, [{content: 'heron reply', model: 'gamma', provider: 'other', role: 'assistant'}])
        clock.advance(DAY)
        await store.append(b.id, [{content: 'heron late', role: 'user'}])
        const by = async (options: SearchOptions) => texts(await store.search('heron', options)).sort()
        expect(await by({role: 'user'})).to.deep.equal(['heron early', 'heron late'])
        expect(await by({model: 'alpha'})).to.deep.equal(['heron early'])
        expect(await by({model: 'gamma'})).to.deep.equal(['heron reply'])
        expect(await by({model: 'beta'})).to.deep.equal(['heron late', 'heron title'])
        expect(await by({provider: 'anthropic'})).to.deep.equal(['heron late', 'heron title'])
        expect(await by({since: middle})).to.deep.equal(['heron late', 'heron reply', 'heron title'])
        expect(await by({until: middle})).to.deep.equal(['heron early', 'heron reply'])
        expect(await by({since: middle, until: middle})).to.deep.equal(['heron reply'])
        expect(await by({session: '01jcaa'})).to.deep.equal(['heron early', 'heron reply'])
        expect((await store.search('heron', {role: 'user', session: a.id}))[0].message).to.deep.equal({
          createdAt: early.createdAt,
          id: early.id,
          position: 0,
          role: 'user',
        })
        const all = await store.search('heron')
        expect(all).to.have.length(4)
        const paged = [...(await store.search('heron', {limit: 3})), ...(await store.search('heron', {limit: 3, offset: 3}))]
        expect(paged).to.deep.equal(all)
        expect(await store.search('heron', {offset: 10})).to.deep.equal([])
        await expectCode(store.search('heron', {session: '01JCZZ'}), 'SESSION_NOT_FOUND')
        await expectCode(store.search('heron', {session: '01JC'}), 'AMBIGUOUS_SESSION_ID')
        await expectCode(store.search('heron', {limit: 0}), 'INVALID_INPUT')
        await expectCode(store.search('heron', {role: 'wizard' as never}), 'INVALID_INPUT')
        await expectCode(store.search('heron', {since: new Date(Number.NaN)}), 'INVALID_INPUT')
      })

      it('stays in step with every change: edits, clears, deletes, restores', async () => {
        const s = await store.create()
        const [m] = await store.append(s.id, [{content: 'pending thought', role: 'assistant', status: 'pending'}])
        await store.updateMessage(s.id, m.id, {content: 'finished walrus', status: 'complete'})
        expect(await store.search('pending')).to.deep.equal([])
        expect(texts(await store.search('walrus'))).to.deep.equal(['finished walrus'])
        const messages = await store.messages(s.id)
        const session = await store.get(s.id)
        await store.clear(s.id)
        expect(await store.search('walrus')).to.deep.equal([])
        await store.restore({messages, session: {...session, title: 'walrus title'}}, {replace: true})
        expect(texts(await store.search('walrus'))).to.deep.equal(['walrus title', 'finished walrus'])
        await store.delete([s.id])
        expect(await store.search('walrus')).to.deep.equal([])
      })

      describe('what retry, edit and undo took out', () => {
        /** One answered exchange; returns its question and reply. */
        async function exchange(sessionId: string, question: string, reply: string): Promise<[Message, Message]> {
          const [q] = await store.append(sessionId, [{content: question, role: 'user', status: 'pending'}])
          return [q, await store.appendReply(sessionId, q.id, {content: reply, role: 'assistant'})]
        }
        /** Each hit as [its message's content or title, replaced]. */
        const found = async (text: string, options: SearchOptions = {}) =>
          (await store.search(text, {limit: 100, ...options})).map(h => [h.snippet.text, h.replaced] as [string, boolean])

        it('leaves out a retried reply unless asked, and marks it then', async () => {
          const s = await store.create({title: 'cormorant notes'})
          const [question, reply] = await exchange(s.id, 'where do cormorants nest', 'cormorant answer one')
          clock.advance(1000)
          await store.appendReply(s.id, question.id, {content: 'cormorant answer two', role: 'assistant'}, {replaces: {reply: reply.id}})
          expect(await found('cormorant answer')).to.deep.equal([['cormorant answer two', false]])
          // A title hit is no message: it stays, never marked.
          const prefixed = await found('cormorant*')
          expect(prefixed[0]).to.deep.equal(['cormorant notes', false])
          expect(prefixed.slice(1).sort()).to.deep.equal([
            ['cormorant answer two', false],
            ['where do cormorants nest', false],
          ])
          expect(await found('answer one')).to.deep.equal([])
          expect(await found('answer one', {includeReplaced: true})).to.deep.equal([['cormorant answer one', true]])
          const all = await store.search('cormorant answer', {includeReplaced: true})
          // Recency breaks the tie of equal scores: the retry's reply is the newer.
          expect(all.map(h => [h.message?.id, h.replaced])).to.deep.equal([
            [(await store.messages(s.id))[2].id, false],
            [reply.id, true],
          ])
          expect(all[1].message).to.deep.equal({createdAt: reply.createdAt, id: reply.id, position: 1, role: 'assistant'})
          // The other filters still apply; what is left out still counts in the ranking, as an index holds it.
          expect(await found('cormorant*', {includeReplaced: true, role: 'user'})).to.deep.equal([['where do cormorants nest', false]])
          expect(all[0].score).to.equal(all[1].score)
          expect((await store.search('cormorant answer'))[0].score).to.equal(all[0].score)
          await expectCode(store.search('cormorant', {includeReplaced: 'yes' as never}), 'INVALID_INPUT')
        })

        it('leaves out an undone question and its reply, and a reply committed to it afterwards', async () => {
          const s = await store.create()
          await exchange(s.id, 'grebe first question', 'grebe first reply')
          await exchange(s.id, 'grebe undone question', 'grebe undone reply')
          await store.undo(s.id)
          const [waiting] = await store.append(s.id, [{content: 'grebe pending question', role: 'user', status: 'pending'}])
          await store.undo(s.id)
          // Another process was answering it: its reply is not hidden, but its question is.
          await store.appendReply(s.id, waiting.id, {content: 'grebe late reply', role: 'assistant'})
          expect((await found('grebe')).sort()).to.deep.equal([
            ['grebe first question', false],
            ['grebe first reply', false],
          ])
          expect(await found('undone')).to.deep.equal([])
          expect(await found('late')).to.deep.equal([])
          expect((await found('grebe', {includeReplaced: true})).sort()).to.deep.equal([
            ['grebe first question', false],
            ['grebe first reply', false],
            ['grebe late reply', true],
            ['grebe pending question', true],
            ['grebe undone question', true],
            ['grebe undone reply', true],
          ])
        })

        it("leaves out an edited question's old text and its old reply", async () => {
          const s = await store.create()
          const [question, reply] = await exchange(s.id, 'plover question as first asked', 'plover reply to the first')
          const [edited] = await store.append(s.id, [{content: 'plover question as edited', role: 'user', status: 'pending'}])
          // Until the edit's reply commits, the old exchange is the current one: the new question too.
          expect((await found('plover question')).sort()).to.deep.equal([
            ['plover question as edited', false],
            ['plover question as first asked', false],
          ])
          await store.appendReply(
            s.id,
            edited.id,
            {content: 'plover reply to the edit', role: 'assistant'},
            {replaces: {question: question.id, reply: reply.id}},
          )
          expect((await found('plover')).sort()).to.deep.equal([
            ['plover question as edited', false],
            ['plover reply to the edit', false],
          ])
          expect(await found('first')).to.deep.equal([])
          expect((await found('first', {includeReplaced: true})).sort()).to.deep.equal([
            ['plover question as first asked', true],
            ['plover reply to the first', true],
          ])
          expect(await found('first', {includeReplaced: true, session: s.id})).to.have.length(2)
        })

        it('gives every hit its session’s preview as the list has it: an edit moves it on, a title stays', async () => {
          const listed = async () => new Map((await store.list({limit: MAX_LIST_LIMIT})).map(s => [s.id, s.preview]))
          /** Each hit as [its message's id, or "title", its session's title and preview]. */
          const named = async (text: string, options: SearchOptions = {}) =>
            (await store.search(text, {limit: 100, ...options})).map(h => [h.message?.id ?? 'title', h.session.title, h.session.preview])
          const untitled = await store.create()
          // Characters of two and four UTF-8 bytes (the last two UTF-16 units each): the cut at the
          // 100th code point, as SQL's substr and `previewText` make it.
          const long = `puffin ${'é'.repeat(50)} ${'😀'.repeat(60)}`
          const cut = Array.from(long).slice(0, PREVIEW_LENGTH).join('')
          const [question, reply] = await exchange(untitled.id, long, 'a puffin nests in a burrow')
          const titled = await store.create({title: 'Puffin notes'})
          const [titledQuestion] = await exchange(titled.id, 'how long does a puffin live', 'about twenty years')
          expect((await listed()).get(untitled.id)).to.equal(cut)
          expect((await named('puffin')).sort()).to.deep.equal(
            [
              ['title', 'Puffin notes', 'how long does a puffin live'],
              [titledQuestion.id, 'Puffin notes', 'how long does a puffin live'],
              [question.id, null, cut],
              [reply.id, null, cut],
            ].sort(),
          )
          const [edited] = await store.append(untitled.id, [{content: 'where does a puffin nest', role: 'user', status: 'pending'}])
          const newReply = await store.appendReply(
            untitled.id,
            edited.id,
            {content: 'in a burrow', role: 'assistant'},
            {replaces: {question: question.id, reply: reply.id}},
          )
          const after = await listed()
          expect(after.get(untitled.id)).to.equal('where does a puffin nest')
          // Every hit of the session names it by the question that took the first one's place, a hit the edit took out too.
          expect((await named('puffin', {includeReplaced: true, session: untitled.id})).sort()).to.deep.equal(
            [
              [edited.id, null, 'where does a puffin nest'],
              [question.id, null, 'where does a puffin nest'],
              [reply.id, null, 'where does a puffin nest'],
            ].sort(),
          )
          for (const hit of await store.search('puffin', {includeReplaced: true, limit: 100})) expect(hit.session.preview).to.equal(after.get(hit.session.id))
          // Nothing current to preview: null, as the list has it.
          await store.undo(untitled.id)
          expect((await listed()).get(untitled.id)).to.equal(null)
          expect((await named('burrow', {includeReplaced: true, session: untitled.id})).sort()).to.deep.equal(
            [
              [newReply.id, null, null],
              [reply.id, null, null],
            ].sort(),
          )
        })

        it('pages past replaced hits: every page full, every current hit once, in order', async () => {
          const s = await store.create()
          // Eight answered questions, each reply retried twice: the 16 replies taken out outscore
          // ("sandpiper sandpiper") the 8 current ones, so that the best stored matches are all out.
          const current: string[] = []
          const everyId: string[] = []
          for (let i = 0; i < 8; i++) {
            clock.advance(1000)
            const [q, first] = await exchange(s.id, `question ${i}`, `sandpiper sandpiper reply ${i}`)
            let reply = first
            everyId.push(reply.id)
            for (const content of [`sandpiper sandpiper again ${i}`, `sandpiper final ${i}`]) {
              clock.advance(1000)
              reply = await store.appendReply(s.id, q.id, {content, role: 'assistant'}, {replaces: {reply: reply.id}})
              everyId.push(reply.id)
            }
            current.push(reply.id)
          }
          const all = await store.search('sandpiper', {limit: 100})
          expect(all.map(h => h.message?.id).sort()).to.deep.equal([...current].sort())
          expect(all.every(h => !h.replaced)).to.equal(true)
          for (const limit of [1, 2, 4]) {
            const paged: SearchHit[] = []
            for (let offset = 0; offset < current.length; offset += limit) {
              const page = await store.search('sandpiper', {limit, offset})
              expect(page, `limit ${limit}, offset ${offset}`).to.have.length(Math.min(limit, current.length - offset))
              paged.push(...page)
            }
            expect(paged.map(h => h.message?.id)).to.deep.equal(all.map(h => h.message?.id))
            expect(await store.search('sandpiper', {limit, offset: current.length})).to.deep.equal([])
          }
          const everything = await store.search('sandpiper', {includeReplaced: true, limit: 100})
          expect(everything.map(h => h.message?.id).sort()).to.deep.equal([...everyId].sort())
          expect(everything.filter(h => h.replaced)).to.have.length(everyId.length - current.length)
          const pages: SearchHit[] = []
          for (let offset = 0; offset < everyId.length; offset += 5) pages.push(...(await store.search('sandpiper', {includeReplaced: true, limit: 5, offset})))
          expect(pages).to.deep.equal(everything)
        })

        it('counts what was taken out in a listing and in usage: it is stored, and a replaced reply was paid for', async () => {
          const s = await store.create()
          const [question] = await store.append(s.id, [{content: 'q', role: 'user', status: 'pending'}])
          const first = await store.appendReply(s.id, question.id, {content: 'a', costUsd: 0.25, inputTokens: 10, outputTokens: 5, role: 'assistant'})
          await store.appendReply(
            s.id,
            question.id,
            {content: 'a again', costUsd: 0.5, inputTokens: 10, outputTokens: 7, role: 'assistant'},
            {replaces: {reply: first.id}},
          )
          expect((await store.list())[0]).to.deep.include({messageCount: 3, preview: 'q'})
          const {total} = await store.usage()
          expect(total).to.deep.include({costUsd: 0.75, inputTokens: 20, outputTokens: 12, replies: 2})
        })
      })

      it('gives a snippet of one line around the first match, marks inside it, text exactly as stored', async () => {
        const s = await store.create()
        const long = `${'lorem ipsum '.repeat(20)}the\tneedle\n\nin a haystack ${'dolor sit '.repeat(30)}`
        await store.append(s.id, [{content: long, role: 'user'}])
        const [hit] = await store.search('needle haystack')
        expect(hit.snippet.text.startsWith('…')).to.equal(true)
        expect(hit.snippet.text.endsWith('…')).to.equal(true)
        expect(hit.snippet.text).to.contain('the needle in a haystack')
        expect(hit.snippet.text.length).to.be.at.most(170)
        expect(marked(hit)).to.deep.equal(['needle', 'haystack'])
      })
    })

    describe('lifecycle', () => {
      it('refuses calls after close, and closing twice is harmless', async () => {
        await store.close()
        await store.close()
        await expectCode(store.list(), 'STORAGE_UNAVAILABLE')
        await expectCode(store.create(), 'STORAGE_UNAVAILABLE')
      })
    })
  })
}

const emptyUsage: UsageTotals = {cachedInputTokens: 0, costUsd: null, estimatedReplies: 0, inputTokens: 0, outputTokens: 0, replies: 0, unpricedReplies: 0}

/** The local calendar day of an instant, as usage reports name days. */
function localDate(at: Date): string {
  return [at.getFullYear(), at.getMonth() + 1, at.getDate()].map(n => String(n).padStart(2, '0')).join('-')
}

/** Messages as plain comparable data, for tests across processes and backends. */
export function messageContents(messages: Message[]): Array<[string, string]> {
  return messages.map(m => [m.role, m.content])
}
