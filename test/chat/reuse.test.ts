import {expect} from 'chai'

import {Conversation} from '../../src/chat/conversation.js'
import {openaiProvider} from '../../src/providers/openai.js'
import type {ChatMessage} from '../../src/providers/provider.js'
import {MemorySessionStore} from '../../src/store/memory-store.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {rejection} from '../helpers/rejection.js'

const MODEL = 'gpt-fake-mini'
const SYSTEM = 'Be brief.'

describe('Conversation: retry, edit and undo', () => {
  let server: FakeOpenAIServer
  let store: MemorySessionStore
  let conv: Conversation

  /** What the last request carried, as role: content lines. */
  const lastRequest = (): string[] => (server.chatRequests.at(-1)!.chat!.messages as ChatMessage[]).map(m => `${m.role}: ${m.content}`)
  const stored = async () => (await store.messages(conv.session.id)).map(m => `${m.content}${m.hiddenAt ? ' (hidden)' : ''}`)
  const current = async () => (await store.messages(conv.session.id, {current: true})).map(m => m.content)

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
    store = new MemorySessionStore()
    const session = await store.create({model: MODEL, provider: 'openai', systemPrompt: SYSTEM})
    const provider = openaiProvider.create({apiKey: 'test-key', baseUrl: server.url, extra: {}, maxRetries: 0})
    conv = new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store})
    for (const [prompt, reply] of [
      ['q1', 'a1'],
      ['q2', 'a2'],
    ]) {
      server.reply([reply])
      await conv.send({model: MODEL, prompt})
    }
  })

  afterEach(async () => {
    await server.close()
  })

  it('retries the last question without sending it twice, and the new reply replaces the old one', async () => {
    server.reply(['a2 again'])
    const result = await conv.retry({model: MODEL})
    expect(lastRequest()).to.deep.equal(['system: Be brief.', 'user: q1', 'assistant: a1', 'user: q2'])
    const [, , question, old, again] = await store.messages(conv.session.id)
    expect(result).to.deep.include({reply: 'a2 again', replaced: {reply: old.id}, saved: true, status: 'complete'})
    expect(old.supersededBy).to.equal(again.id)
    expect(again.replyTo).to.equal(question.id)
    expect(await stored()).to.deep.equal(['q1', 'a1', 'q2', 'a2 (hidden)', 'a2 again'])
    // The next turn carries the new reply, not the old one.
    await conv.send({model: MODEL, prompt: 'q3'})
    expect(lastRequest()).to.deep.equal(['system: Be brief.', 'user: q1', 'assistant: a1', 'user: q2', 'assistant: a2 again', 'user: q3'])
  })

  it('keeps the old reply current when a retry fails or is interrupted, and stores nothing', async () => {
    const before = await store.messages(conv.session.id)
    server.fail(500, 'overloaded')
    await rejection(conv.retry({model: MODEL}))
    server.reply(['Par', 'tial'], {stallAfterChunks: 1})
    const controller = new AbortController()
    const result = await conv.retry({model: MODEL, onDelta: () => controller.abort(), signal: controller.signal})
    expect(result).to.deep.include({reply: 'Par', status: 'interrupted'})
    expect(result.replaced).to.equal(undefined)
    expect(await store.messages(conv.session.id)).to.deep.equal(before)
  })

  it('sends an edited question in place of the last one, which stays stored, replaced', async () => {
    server.reply(['a2 edited'])
    const result = await conv.edit({model: MODEL, prompt: 'q2 edited'})
    expect(lastRequest()).to.deep.equal(['system: Be brief.', 'user: q1', 'assistant: a1', 'user: q2 edited'])
    const messages = await store.messages(conv.session.id)
    expect(result.replaced).to.deep.equal({question: messages[2].id, reply: messages[3].id})
    expect(messages.map(m => [m.content, m.supersededBy])).to.deep.equal([
      ['q1', null],
      ['a1', null],
      ['q2', messages[4].id],
      ['a2', messages[5].id],
      ['q2 edited', null],
      ['a2 edited', null],
    ])
    expect(await current()).to.deep.equal(['q1', 'a1', 'q2 edited', 'a2 edited'])
  })

  it('keeps the old exchange current when an edit fails or is interrupted; the new question is marked failed', async () => {
    server.fail(500, 'overloaded')
    await rejection(conv.edit({model: MODEL, prompt: 'q2 edited'}))
    server.reply(['Par', 'tial'], {stallAfterChunks: 1})
    const controller = new AbortController()
    await conv.edit({model: MODEL, onDelta: () => controller.abort(), prompt: 'q2 edited', signal: controller.signal})
    expect(await current()).to.deep.equal(['q1', 'a1', 'q2', 'a2', 'q2 edited', 'q2 edited'])
    expect((await store.messages(conv.session.id)).slice(4).map(m => m.status)).to.deep.equal(['error', 'error'])
    await conv.send({model: MODEL, prompt: 'q3'})
    expect(lastRequest()).to.deep.equal(['system: Be brief.', 'user: q1', 'assistant: a1', 'user: q2', 'assistant: a2', 'user: q3'])
  })

  it('undoes exchanges one at a time: they stay stored and leave the context', async () => {
    const undone = await conv.undo()
    expect([undone.question.content, undone.reply?.content]).to.deep.equal(['q2', 'a2'])
    await conv.send({model: MODEL, prompt: 'q3'})
    expect(lastRequest()).to.deep.equal(['system: Be brief.', 'user: q1', 'assistant: a1', 'user: q3'])
    await conv.undo()
    await conv.undo()
    expect(await current()).to.deep.equal([])
    expect((await rejection(conv.undo())).message).to.equal('There is nothing to undo: the conversation has no question in it.')
    expect((await rejection(conv.retry({model: MODEL}))).message).to.equal('There is nothing to retry: this conversation has no question in it yet.')
    expect(await stored()).to.deep.equal(['q1 (hidden)', 'a1 (hidden)', 'q2 (hidden)', 'a2 (hidden)', 'q3 (hidden)', 'Hello from the fake. (hidden)'])
  })

  it('retries a question whose request failed, answering it at last', async () => {
    server.fail(500, 'overloaded')
    await rejection(conv.send({model: MODEL, prompt: 'q3'}))
    server.reply(['a3'])
    const result = await conv.retry({model: MODEL})
    expect(result.replaced).to.deep.equal({})
    expect(lastRequest()).to.deep.equal(['system: Be brief.', 'user: q1', 'assistant: a1', 'user: q2', 'assistant: a2', 'user: q3'])
    expect((await store.messages(conv.session.id)).map(m => `${m.content}:${m.status}`).slice(4)).to.deep.equal(['q3:complete', 'a3:complete'])
  })

  it('refuses to retry or edit a question another process is still answering', async () => {
    await store.append(conv.session.id, [{content: 'q3', role: 'user', status: 'pending'}])
    for (const attempt of [conv.retry({model: MODEL}), conv.edit({model: MODEL, prompt: 'x'})]) {
      expect((await rejection(attempt)).message).to.match(/^The last question is still waiting for its reply/)
    }
    expect(server.chatRequests.length).to.equal(2)
  })
})
