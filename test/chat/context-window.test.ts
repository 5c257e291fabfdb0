import {expect} from 'chai'
import {countTokens} from 'gpt-tokenizer/encoding/o200k_base'

import {summaryText} from '../../src/chat/context.js'
import {Conversation, type ConversationOptions} from '../../src/chat/conversation.js'
import type {ModelFacts} from '../../src/providers/model-facts.js'
import {openaiProvider} from '../../src/providers/openai.js'
import type {ChatMessage} from '../../src/providers/provider.js'
import {MemorySessionStore} from '../../src/store/memory-store.js'
import {FakeOpenAIServer} from '../fakes/openai-server.js'

const SYSTEM = 'Be brief.'
/** A model with o200k_base, so that budgets are decided by the real tokenizer. */
const MODEL = 'gpt-4o'
const TURN = 'word '.repeat(60)

/**
 * The context budget from the model's context window, and the summarize strategy: against the fake
 * OpenAI server through the real SDK, a summary request first when the conversation no longer fits.
 */
describe('context window and strategy', () => {
  let server: FakeOpenAIServer
  let store: MemorySessionStore

  beforeEach(async () => {
    server = await FakeOpenAIServer.start()
    store = new MemorySessionStore()
  })
  afterEach(() => server.close())

  function factsWithWindow(contextWindow: number): ConversationOptions['facts'] {
    return async () => ({cachedInputPrice: null, contextWindow, inputPrice: 1, outputPrice: 2, pricesFrom: 'config', source: 'config'}) satisfies ModelFacts
  }

  /** A session holding `turns` answered questions of about 60 tokens each way. */
  async function conversationWith(turns: number, options: Partial<ConversationOptions>): Promise<Conversation> {
    const session = await store.create({model: MODEL, provider: 'openai', systemPrompt: SYSTEM})
    for (let i = 0; i < turns; i++) {
      const [question] = await store.append(session.id, [{content: `q${i} ${TURN}`, role: 'user', status: 'pending'}])
      await store.appendReply(session.id, question.id, {content: `a${i} ${TURN}`, role: 'assistant'})
    }
    const provider = openaiProvider.create({apiKey: 'k', baseUrl: server.url, extra: {}, maxRetries: 0})
    return new Conversation({budget: {maxMessages: 0, maxTokens: 0}, persistent: true, provider, session, store, ...options})
  }

  const sent = (index: number): ChatMessage[] => server.chatRequests[index].chat!.messages

  it('sends everything while the conversation fits the window, without counting it', async () => {
    const conversation = await conversationWith(3, {facts: factsWithWindow(128_000)})
    const result = await conversation.send({model: MODEL, prompt: 'next'})
    expect(result.omitted).to.equal(0)
    expect(sent(0)).to.have.length(1 + 6 + 1)
  })

  it('leaves out the oldest turns that do not fit the window less the reply reserve, counted with the tokenizer', async () => {
    // 1,000 tokens of window, 250 kept for the reply: the prompt, the system prompt and about five messages fit.
    const conversation = await conversationWith(6, {facts: factsWithWindow(1000)})
    const result = await conversation.send({model: MODEL, prompt: 'next'})
    const messages = sent(0)
    const tokens = messages.reduce((sum, m) => sum + countTokens(m.content) + 4, 3)
    expect(tokens).to.be.at.most(750)
    expect(result.omitted).to.be.greaterThan(0)
    expect(messages.length - 2 + result.omitted).to.equal(12)
    // One turn more would not have fitted.
    const firstKept = messages[1].content
    expect(firstKept.startsWith('q')).to.equal(true)
    expect(tokens + 2 * (countTokens(`q0 ${TURN}`) + 4)).to.be.greaterThan(750)
  })

  it('summarize: asks for a summary of the turns that no longer fit, stores it over their positions, and sends it in their place', async () => {
    const conversation = await conversationWith(6, {contextStrategy: 'summarize', facts: factsWithWindow(1000)})
    server.reply(['The user asked six ', 'things.'], {usage: {inputTokens: 400, outputTokens: 5}})
    server.reply(['Answer.'])
    const result = await conversation.send({model: MODEL, prompt: 'next'})

    const summaryRequest = sent(0)
    expect(summaryRequest[0].role).to.equal('system')
    expect(summaryRequest[1].content).to.contain(`user: q0 ${TURN}`).and.to.contain(`assistant: a0 ${TURN}`)
    // A quarter of what the history may take: the window less the reply's reserve, the system prompt and the prompt.
    const historyBudget = 1000 - 250 - (countTokens(SYSTEM) + 4 + countTokens('next') + 4 + 3)
    expect(server.chatRequests[0].body).to.deep.include({max_tokens: Math.floor(historyBudget / 4)})

    const stored = await store.messages(conversation.session.id)
    // Every original stays; the summary sits before the turn's question, then the reply.
    expect(stored.map(m => m.role)).to.deep.equal([...Array.from({length: 6}, () => ['user', 'assistant']).flat(), 'system', 'user', 'assistant'])
    const summary = stored[12]
    expect(summary).to.deep.include({content: 'The user asked six things.', inputTokens: 400, outputTokens: 5, tokenSource: 'provider'})
    expect(summary.costUsd).to.be.closeTo((400 * 1 + 5 * 2) / 1e6, 1e-15)
    const {from, to} = summary.metadata.summary as {from: number; to: number}
    expect(from).to.equal(0)
    // `to` is the last covered question's position; its reply, right after it, goes with it.
    expect(result.summary).to.deep.equal({covered: to + 2, created: true, range: {from, to}})

    const main = sent(1)
    expect(main.slice(0, 2)).to.deep.equal([
      {content: SYSTEM, role: 'system'},
      {content: summaryText('The user asked six things.'), role: 'system'},
    ])
    expect(main[2].content).to.equal(stored[to + 2].content)
    expect(main.at(-1)).to.deep.equal({content: 'next', role: 'user'})
    expect(result.omitted).to.equal(0)
    // The summary's cost is part of the session's usage.
    expect((await store.usage({sessionIds: [conversation.session.id]})).total.replies).to.equal(8)

    // The next turn that fits with it sends the stored summary again and asks for none.
    server.reply(['Again.'])
    const again = await conversation.send({model: MODEL, prompt: 'short'})
    expect(server.chatRequests).to.have.length(3)
    expect(sent(2)[1]).to.deep.equal({content: summaryText('The user asked six things.'), role: 'system'})
    expect(again.summary).to.deep.include({created: false, range: {from, to}})
  })

  it('summarize: a failed summary request falls back to leaving turns out, and the turn goes on', async () => {
    const conversation = await conversationWith(6, {contextStrategy: 'summarize', facts: factsWithWindow(1000)})
    server.fail(500, 'summaries are down')
    server.reply(['Still answered.'])
    const result = await conversation.send({model: MODEL, prompt: 'next'})
    expect(result).to.deep.include({reply: 'Still answered.', saved: true, status: 'complete'})
    expect(result.summaryError).to.match(/^the summary request failed \(.*summaries are down.*\)$/)
    expect(result.omitted).to.be.greaterThan(0)
    expect(result.summary).to.equal(undefined)
    const stored = await store.messages(conversation.session.id)
    expect(stored.filter(m => m.role === 'system')).to.deep.equal([])
    expect(sent(1).filter(m => m.role === 'system')).to.deep.equal([{content: SYSTEM, role: 'system'}])
  })

  it('summarize: an empty summary is no summary either', async () => {
    const conversation = await conversationWith(6, {contextStrategy: 'summarize', facts: factsWithWindow(1000)})
    server.reply([], {finishReason: 'stop'})
    server.reply(['Answered.'])
    const result = await conversation.send({model: MODEL, prompt: 'next'})
    expect(result.summaryError).to.equal('the model returned an empty summary')
    expect(result.reply).to.equal('Answered.')
    expect((await store.messages(conversation.session.id)).some(m => m.role === 'system')).to.equal(false)
  })

  it('a configured max_context_tokens wins over the window', async () => {
    const conversation = await conversationWith(6, {budget: {maxMessages: 0, maxTokens: 200}, facts: factsWithWindow(128_000)})
    const result = await conversation.send({model: MODEL, prompt: 'next'})
    const history = sent(0).slice(1, -1)
    expect(history.reduce((sum, m) => sum + countTokens(m.content) + 4, 0)).to.be.at.most(200)
    expect(result.omitted).to.equal(12 - history.length)
  })
})
