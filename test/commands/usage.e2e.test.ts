import {expect} from 'chai'
import {countTokens} from 'gpt-tokenizer/encoding/o200k_base'
import {join} from 'node:path'

import {shippedPriceSource} from '../../src/providers/cost.js'
import type {Message} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {shippedFacts} from '../helpers/model-data.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {type Sandbox, writeUserConfig} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {runOnTerminal} from '../helpers/terminal.js'

/**
 * Tokens and cost end to end: `bin/run.js` as a child process with the real openai SDK, against the
 * fake OpenAI server reporting usage (with cached tokens, through stream_options.include_usage), or
 * none; then what `sessions show`, `sessions list --json`, `chat -v` and `synapse usage` make of it.
 */
describe('tokens and cost (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  useOpenAISandbox({apiKey: 'sk-test-usage'}, made => ({sandbox, server} = made))

  async function replies(): Promise<Message[]> {
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    try {
      const all: Message[] = []
      for (const session of (await store.list({limit: 100})).reverse()) all.push(...(await store.messages(session.id)).filter(m => m.role === 'assistant'))
      return all
    } finally {
      await store.close()
    }
  }

  it('stores reported usage with cached tokens and its cost at the shipped price, and reports it with -v', async () => {
    server.reply(['Cached', ' answer.'], {usage: {cachedInputTokens: 600, inputTokens: 1000, outputTokens: 200}})
    const {code, stderr} = await synapse(sandbox, ['chat', '-m', 'gpt-4o', '-v', 'Hello'])
    expect(code, stderr).to.equal(0)
    expect((server.chatRequests[0].body as {stream_options?: unknown}).stream_options).to.deep.equal({include_usage: true})
    const facts = shippedFacts('openai', 'gpt-4o')!
    const cost = (400 * facts.inputPrice! + 600 * facts.cachedInputPrice! + 200 * facts.outputPrice!) / 1_000_000
    const [reply] = await replies()
    expect(reply).to.deep.include({cachedInputTokens: 600, costSource: shippedPriceSource(), inputTokens: 1000, outputTokens: 200, tokenSource: 'provider'})
    expect(reply.costUsd).to.be.closeTo(cost, 1e-12)
    expect(stderr).to.contain(`1,000→200 tokens (600 cached) · $${cost.toFixed(4)}`)
  })

  it('counts with the model family tokenizer when the provider reports nothing, and marks the counts as estimated', async () => {
    server.reply(['Counted ', 'by synapse itself.'], {usage: null})
    const {code, stderr} = await synapse(sandbox, ['chat', '-m', 'gpt-4o', 'Count me'])
    expect(code, stderr).to.equal(0)
    const [reply] = await replies()
    expect(reply.tokenSource).to.equal('tokenizer')
    expect(reply.outputTokens).to.equal(countTokens('Counted by synapse itself.'))
    // The request: the question with the chat format's framing (4 a message, 3 for the reply's start).
    expect(reply.inputTokens).to.equal(countTokens('Count me') + 4 + 3)
    expect(reply.costSource).to.equal(shippedPriceSource())
    expect(reply.costUsd).to.be.greaterThan(0)
  })

  it('estimates for a model with no tokenizer, and a model without a price has no cost, not $0', async () => {
    server.reply(['abcdefgh'], {usage: null})
    expect((await synapse(sandbox, ['chat', '-m', 'llama3.2', 'Hi'])).code).to.equal(0)
    const [reply] = await replies()
    expect(reply).to.deep.include({costSource: null, costUsd: null, outputTokens: 2, tokenSource: 'estimate'})
    const shown = await synapse(sandbox, ['sessions', 'show', reply.sessionId])
    expect(shown.stdout).to.contain('(estimated) · cost unknown')
    expect(shown.stdout).to.contain('total: 1 reply · ')
  })

  it('prices a local model from [models."<name>"], naming the config as the source, and a provider-reported cost wins', async () => {
    writeUserConfig(sandbox, '[models."local-llm"]\ninput_price = 1.0\noutput_price = 2.0\n')
    server.reply(['ok'], {usage: {inputTokens: 500_000, outputTokens: 250_000}})
    expect((await synapse(sandbox, ['chat', '-m', 'local-llm', 'Hi'])).code).to.equal(0)
    server.reply(['ok'], {usage: {costUsd: 0.0123, inputTokens: 10, outputTokens: 1}})
    expect((await synapse(sandbox, ['chat', '-m', 'local-llm', 'Hi again'])).code).to.equal(0)
    const [configured, reported] = await replies()
    expect(configured).to.deep.include({costSource: 'config', costUsd: 1})
    expect(reported).to.deep.include({costSource: 'provider', costUsd: 0.0123})
  })

  it('sessions show, sessions list --json and synapse usage report the stored totals', async () => {
    writeUserConfig(sandbox, '[models."m-a"]\ninput_price = 1.0\noutput_price = 1.0\n')
    server.reply(['one'], {usage: {cachedInputTokens: 100, inputTokens: 400_000, outputTokens: 100_000}})
    expect((await synapse(sandbox, ['chat', '-m', 'm-a', 'First'])).code).to.equal(0)
    const [first] = await replies()
    server.reply(['two'], {usage: {inputTokens: 10, outputTokens: 5}})
    expect((await synapse(sandbox, ['chat', '-s', first.sessionId, '-m', 'm-b', 'Second'])).code).to.equal(0)
    server.reply(['three'], {usage: {inputTokens: 50_000, outputTokens: 50_000}})
    expect((await synapse(sandbox, ['chat', '-m', 'm-a', 'Third'])).code).to.equal(0)

    const shown = await synapse(sandbox, ['sessions', 'show', first.sessionId])
    expect(shown.stdout).to.contain('assistant · #1 · m-a · 400,000→100,000 tokens (100 cached) · $0.5000')
    expect(shown.stdout).to.contain('assistant · #3 · m-b · 10→5 tokens · cost unknown')
    expect(shown.stdout).to.contain('total: 2 replies · 400,010→100,005 tokens (100 cached) · $0.5000 + 1 unpriced')
    const showJson = JSON.parse((await synapse(sandbox, ['sessions', 'show', first.sessionId, '--json'])).stdout)
    expect(showJson.usage).to.deep.include({costUsd: 0.5, inputTokens: 400_010, replies: 2, unpricedReplies: 1})
    expect(showJson.messages[1]).to.deep.include({cachedInputTokens: 100, costSource: 'config', costUsd: 0.5, tokenSource: 'provider'})

    const listed = JSON.parse((await synapse(sandbox, ['sessions', 'list', '--json'])).stdout) as Array<{id: string; usage: {costUsd: number; replies: number}}>
    expect(listed.map(s => [s.usage.replies, s.usage.costUsd])).to.deep.equal([
      [1, 0.1],
      [2, 0.5],
    ])

    const total = JSON.parse((await synapse(sandbox, ['usage', '--json'])).stdout)
    expect(total).to.deep.include({by: null, groups: [], since: null, until: null})
    expect(total.total).to.deep.equal({
      cachedInputTokens: 100,
      costUsd: 0.6,
      estimatedReplies: 0,
      inputTokens: 450_010,
      outputTokens: 150_005,
      replies: 3,
      unpricedReplies: 1,
    })
    const byModel = await synapse(sandbox, ['usage', '--by', 'model'])
    expect(byModel.stdout).to.equal('m-a\t2\t450,000\t100\t150,000\t$0.6000\nm-b\t1\t10\t0\t5\tcost unknown\n')
    const backwards = await synapse(sandbox, ['usage', '--since', '1h', '--until', '2000-01-01'])
    expect(backwards.code).to.equal(2)
    expect(backwards.stderr).to.match(
      /^Error: --since \(.+\) is not before --until \(.+\)\.\n {2}→ Give --since an earlier time than --until, or leave one out\.\n$/,
    )
    const unreadable = await synapse(sandbox, ['usage', '--since', 'last tuesday'])
    expect(unreadable.code).to.equal(2)
    expect(unreadable.stderr).to.contain('"last tuesday" is neither a duration nor a date.')
    const future = JSON.parse((await synapse(sandbox, ['usage', '--since', '2999-01-01', '--json'])).stdout)
    expect(future.total.replies).to.equal(0)
  })

  it('context_strategy = "summarize": -v says what was summarised; show and export keep the summary and every original', async () => {
    writeUserConfig(sandbox, '[session]\ncontext_strategy = "summarize"\n\n[models."gpt-4o"]\ncontext_window = 1000\n')
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    const session = await store.create({model: 'gpt-4o', provider: 'openai'})
    for (let i = 0; i < 6; i++) {
      const [question] = await store.append(session.id, [{content: `q${i} ${'word '.repeat(60)}`, role: 'user', status: 'pending'}])
      await store.appendReply(session.id, question.id, {content: `a${i} ${'word '.repeat(60)}`, role: 'assistant'})
    }
    await store.close()
    server.reply(['Six questions about words.'])
    server.reply(['Done.'])
    const {code, stderr} = await synapse(sandbox, ['chat', '-s', session.id, '-v', 'next'])
    expect(code, stderr).to.equal(0)
    expect(stderr).to.match(/4 earlier messages \(positions 0–2\) sent as a summary made for this turn/)
    const shown = await synapse(sandbox, ['sessions', 'show', session.id])
    expect(shown.stdout).to.match(/system · #\d+ · gpt-4o · summary of positions 0–2 · .* tokens/)
    expect(shown.stdout).to.contain('q0 word')
    const exported = JSON.parse((await synapse(sandbox, ['sessions', 'export', session.id, '--format', 'json'])).stdout)
    const messages = exported.sessions[0].messages as Array<{content: string; metadata: Record<string, unknown>; role: string}>
    expect(messages).to.have.length(15)
    expect(messages[12]).to.deep.include({content: 'Six questions about words.', metadata: {summary: {from: 0, to: 2}}, role: 'system'})
  })

  it('draws a bar per day at a terminal, fitted to its width, and a plain table in a pipe', async () => {
    writeUserConfig(sandbox, '[models."m-a"]\ninput_price = 1.0\noutput_price = 1.0\n')
    server.reply(['one'], {usage: {inputTokens: 1_000_000, outputTokens: 0}})
    expect((await synapse(sandbox, ['chat', '-m', 'm-a', 'First'])).code).to.equal(0)
    const day = new Date()
    const today = [day.getFullYear(), day.getMonth() + 1, day.getDate()].map(n => String(n).padStart(2, '0')).join('-')

    const piped = await synapse(sandbox, ['usage', '--by', 'day'])
    expect(piped.stdout).to.equal(`${today}\t1\t1,000,000\t0\t0\t$1.00\n`)

    const wide = await runOnTerminal(sandbox, ['usage', '--by', 'day'], {columns: 100, env: {NO_COLOR: '1'}})
    expect(wide.code).to.equal(0)
    const row = wide.lines.find(line => line.startsWith(today))!
    expect(row).to.match(/\$1\.00 {2}█{40}$/)
    expect(wide.lines.at(-1)).to.equal('total: 1 reply · 1,000,000→0 tokens · $1.00')
    const narrow = await runOnTerminal(sandbox, ['usage', '--by', 'day'], {columns: 60, env: {NO_COLOR: '1'}})
    for (const line of narrow.lines) expect(line.length, line).to.be.at.most(60)
    expect(narrow.lines.find(line => line.startsWith(today))).to.match(/█+$/)
  })
})
