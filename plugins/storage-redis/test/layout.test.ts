import {expect} from 'chai'
import {newId, PREVIEW_LENGTH} from 'synapse-cli'
import {ManualClock} from 'synapse-cli/testing'

import {openRedisStore} from '../src/redis-adapter.js'
import {keysUnder, Prefixes, SERVER_URL, withClient} from './helpers.js'

describe('Redis key layout', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  it('keeps everything under the URL’s prefix, as README describes, and leaves no key behind', async () => {
    const prefix = prefixes.fresh('layout')
    const url = new URL(SERVER_URL)
    url.searchParams.set('prefix', prefix)
    const clock = new ManualClock()
    const store = await openRedisStore({clock: clock.now, url: url.toString()})
    try {
      const session = await store.create({title: 'laid out'})
      const [question, reply] = await store.append(session.id, [
        {content: 'Where?', role: 'user'},
        {content: 'Here.', role: 'assistant'},
      ])
      expect(await keysUnder(prefix)).to.deep.equal(
        [`${prefix}message-ids`, `${prefix}messages:${session.id}`, `${prefix}session-ids`, `${prefix}session:${session.id}`, `${prefix}sessions`].sort(),
      )

      await withClient(async client => {
        expect(await client.hGetAll(`${prefix}session:${session.id}`)).to.deep.equal({
          createdAt: String(clock.now().getTime()),
          kept: 'false',
          metadata: '{}',
          model: 'null',
          parentId: 'null',
          parentPosition: 'null',
          preview: '"Where?"',
          previewId: question.id,
          provider: 'null',
          systemPrompt: 'null',
          title: '"laid out"',
          updatedAt: String(clock.now().getTime() + 1),
        })
        expect(await client.zRangeWithScores(`${prefix}sessions`, 0, -1)).to.deep.equal([{score: clock.now().getTime() + 1, value: session.id}])
        expect(await client.zRange(`${prefix}session-ids`, 0, -1)).to.deep.equal([session.id])
        expect(await client.hGetAll(`${prefix}message-ids`)).to.deep.equal({[question.id]: session.id, [reply.id]: session.id})
        const [first] = await client.lRange(`${prefix}messages:${session.id}`, 0, 0)
        expect(first.startsWith(`{"position":0,"id":"${question.id}","cachedInputTokens":null,"content":"Where?",`)).to.equal(true)
      })

      await store.delete([session.id])
      expect(await keysUnder(prefix)).to.deep.equal([])
    } finally {
      await store.close()
    }
  })

  it('marks a change by splicing the changed fields onto the end of the record', async () => {
    const prefix = prefixes.fresh('splice')
    const store = await openRedisStore({url: `${SERVER_URL}?prefix=${prefix}`})
    try {
      const session = await store.create()
      const [question] = await store.append(session.id, [{content: 'Why?', role: 'user', status: 'pending'}])
      await store.appendReply(session.id, question.id, {content: 'Because.', role: 'assistant'})
      await store.updateMessage(session.id, question.id, {metadata: {n: 1}})
      const [record] = await withClient(client => client.lRange(`${prefix}messages:${session.id}`, 0, 0))
      expect(record.startsWith(`{"position":0,"id":"${question.id}",`)).to.equal(true)
      expect(record.endsWith(',"status":"pending","supersededBy":null,"tokenSource":null,"status":"complete","metadata":{"n":1}}')).to.equal(true)
      expect((await store.messages(session.id))[0]).to.deep.include({metadata: {n: 1}, status: 'complete'})
    } finally {
      await store.close()
    }
  })

  it('moves the preview, cut in the script, to the next question when an edit replaces the first: at 100 code points, as SQL cuts it', async () => {
    const store = await openRedisStore({url: `${SERVER_URL}?prefix=${prefixes.fresh('preview')}`})
    try {
      // A pair at the cut (whole, as SQL's substr keeps it); escapes JSON writes; a lone surrogate, which Redis's cjson refuses to read.
      const contents = [`${'x'.repeat(99)}😀 after`, `"quoted" \\ back\tslash\u001b[31m / ${'中'.repeat(100)}`, `lone \ud800 ${'\\'.repeat(3)}ud800 end`]
      for (const content of contents) {
        const session = await store.create()
        const [question] = await store.append(session.id, [{content: 'first', role: 'user', status: 'pending'}])
        const reply = await store.appendReply(session.id, question.id, {content: 'a', role: 'assistant'})
        const [edited] = await store.append(session.id, [{content, role: 'user', status: 'pending'}])
        await store.appendReply(session.id, edited.id, {content: 'b', role: 'assistant'}, {replaces: {question: question.id, reply: reply.id}})
        const expected = Array.from(content).slice(0, PREVIEW_LENGTH).join('').replace('\ud800', '\ufffd')
        expect((await store.list({limit: 1}))[0].preview).to.equal(expected)
      }
    } finally {
      await store.close()
    }
  })

  it('reads, changes and deletes a store written before message-ids lost its positions, leaving no key behind', async () => {
    const prefix = prefixes.fresh('old-layout')
    const [sessionId, q0, a0, q1, other] = Array.from({length: 5}, () => newId())
    const at = 1_700_000_000_000
    // As the previous layout wrote them: the status in the record's head, no usage or hiding fields, the index "<session>:<index>".
    const old = (position: number, id: string, status: string, role: string, content: string, replyTo: null | string) =>
      `{"position":${position},"id":"${id}","status":"${status}",${JSON.stringify({content, createdAt: at + position, durationMs: null, finishReason: null, inputTokens: null, metadata: {}, model: null, outputTokens: null, provider: null, replyTo, role}).slice(1)}`
    await withClient(async client => {
      await client.hSet(`${prefix}session:${sessionId}`, {
        createdAt: String(at),
        kept: 'false',
        metadata: '{}',
        model: 'null',
        preview: '"First?"',
        previewId: q0,
        provider: 'null',
        systemPrompt: 'null',
        title: '"old"',
        updatedAt: String(at + 2),
      })
      await client.rPush(`${prefix}messages:${sessionId}`, [
        old(0, q0, 'complete', 'user', 'First?', null),
        old(1, a0, 'complete', 'assistant', 'First.', q0),
        old(2, q1, 'pending', 'user', 'Second?', null),
      ])
      await client.zAdd(`${prefix}sessions`, {score: at + 2, value: sessionId})
      await client.zAdd(`${prefix}session-ids`, {score: 0, value: sessionId})
      await client.hSet(`${prefix}message-ids`, {[a0]: `${sessionId}:1`, [q0]: `${sessionId}:0`, [q1]: `${sessionId}:2`})
    })
    const store = await openRedisStore({url: `${SERVER_URL}?prefix=${prefix}`})
    try {
      const loaded = await store.messages(sessionId)
      expect(loaded.map(m => [m.id, m.position, m.status, m.content, m.replyTo, m.hiddenAt, m.tokenSource])).to.deep.equal([
        [q0, 0, 'complete', 'First?', null, null, null],
        [a0, 1, 'complete', 'First.', q0, null, null],
        [q1, 2, 'pending', 'Second?', null, null, null],
      ])
      expect((await store.list())[0]).to.deep.include({id: sessionId, messageCount: 3, parentId: null, preview: 'First?', title: 'old'})

      const reply = await store.appendReply(sessionId, q1, {content: 'Second.', role: 'assistant'})
      expect((await store.updateMessage(sessionId, a0, {content: 'First, edited.'})).content).to.equal('First, edited.')
      expect((await store.messages(sessionId)).map(m => [m.id, m.position, m.status, m.content])).to.deep.equal([
        [q0, 0, 'complete', 'First?'],
        [a0, 1, 'complete', 'First, edited.'],
        [q1, 2, 'complete', 'Second?'],
        [reply.id, 3, 'complete', 'Second.'],
      ])

      // An old index entry still makes its message id taken for any other session, and free for its own.
      const snapshot = {messages: await store.messages(sessionId), session: await store.get(sessionId)}
      const taken = {messages: [{...snapshot.messages[0], sessionId: other}], session: {...snapshot.session, id: other}}
      const refused = await store.restore(taken).then(
        () => 'restored',
        (error: Error) => error.message,
      )
      expect(refused).to.equal(`A message with the id ${q0} already exists.`)
      await store.restore(snapshot, {replace: true})
      expect(await store.messages(sessionId)).to.deep.equal(snapshot.messages)

      expect(await store.delete([sessionId])).to.equal(1)
      expect(await keysUnder(prefix)).to.deep.equal([])
    } finally {
      await store.close()
    }
  })

  it('keeps two prefixes on one server apart', async () => {
    const [a, b] = [prefixes.url('apart'), prefixes.url('apart')]
    const first = await openRedisStore({url: a})
    const second = await openRedisStore({url: b})
    try {
      await first.create({title: 'only in a'})
      expect(await first.count()).to.equal(1)
      expect(await second.count()).to.equal(0)
      expect(await second.list()).to.deep.equal([])
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })
})
