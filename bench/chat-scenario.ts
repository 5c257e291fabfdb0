import {deepStrictEqual, strictEqual} from 'node:assert/strict'
import type {ServerResponse} from 'node:http'
import {performance} from 'node:perf_hooks'

import OpenAI from 'openai'

import {buildContext, type ContextBudget} from '../src/chat/context.js'
import {Conversation} from '../src/chat/conversation.js'
import {loadConfig} from '../src/config/index.js'
import {modelFacts} from '../src/providers/model-facts.js'
import {openaiProvider} from '../src/providers/openai.js'
import {openSqliteStore} from '../src/store/typeorm/sqlite.js'
import type {ScriptedReply, SseFrames} from '../test/fakes/fake-chat-server.js'
import {FakeOpenAIServer} from '../test/fakes/openai-server.js'
import {createDatabase, openRaw, type Sandbox, seed} from './fixtures.js'
import {interleave, type Plan, statsOf} from './harness.js'
import {addedTimeComparison, type Measurement, timeComparison} from './measurement.js'

export interface ChatShape {
  /** Content pieces the fake streams per reply. */
  chunks: number
  /** Milliseconds between the pieces the fake sends. */
  delayMs: number
  /** Messages already in the session when each turn starts. */
  history: number
}

export interface ChatResult {
  total: Measurement
  ttft: Measurement
}

/** A model the shipped data knows, so that a turn takes the CLI's whole path: its context window, its price. */
const MODEL = 'gpt-4o-mini'
const PROMPT = 'Which synchronous level would you pick for a WAL database that a CLI writes once per prompt, and why?'
/** As the CLI runs a chat with no limits configured: the whole history goes. */
const BUDGET: ContextBudget = {maxMessages: 0, maxTokens: 0}
const WORDS = 'the reply streams token by token while nothing is written to the session database until it ends'.split(' ')

/**
 * The fake, sending piece i at i × delayMs after the stream starts, as a model produces tokens at its
 * own pace whatever the client does. The stock fake sleeps delayMs after each write, so every timer's
 * overshoot (and anything else on the event loop it shares with the client) adds up over the pieces:
 * about ±5% per turn, more than the 2% this scenario has to resolve. Same wire format; no stalls or
 * drops, which the benchmark does not script.
 */
class PacedFakeOpenAIServer extends FakeOpenAIServer {
  static override async start(): Promise<PacedFakeOpenAIServer> {
    return new PacedFakeOpenAIServer().listen()
  }

  protected override async sendSse(res: ServerResponse, frames: SseFrames, script: ScriptedReply): Promise<void> {
    res.writeHead(200, {'cache-control': 'no-cache', connection: 'keep-alive', 'content-type': 'text/event-stream'})
    for (const frame of frames.before) await this.write(res, frame)
    const start = performance.now()
    for (const [index, frame] of frames.content.entries()) {
      const wait = start + (index + 1) * (script.delayMs ?? 0) - performance.now()
      if (wait > 0) await this.pause(wait)
      await this.write(res, frame)
    }
    for (const frame of frames.after) await this.write(res, frame)
    res.end()
  }
}

/** One turn's two clocks, both from the moment the turn is asked for. */
interface Turn {
  firstTokenMs: number
  reply: string
  totalMs: number
}

/**
 * One streamed chat turn: synapse's `Conversation.send` (history load, user message committed, request,
 * stream, reply committed) on a real SQLite store, against the bare `openai` SDK sending the same
 * messages to the same in-process fake server, with the history already in memory and nothing saved.
 * Both sides use the real `openai` SDK over real HTTP, so the difference is what synapse adds around it.
 */
export async function benchChat(sandbox: Sandbox, plan: Plan, shape: ChatShape): Promise<ChatResult> {
  const chunks = Array.from({length: shape.chunks}, (_, i) => `${WORDS[i % WORDS.length]} `)
  const expectedReply = chunks.join('')
  const server = await PacedFakeOpenAIServer.start()
  server.setDefault({chunks, delayMs: shape.delayMs, type: 'reply'})

  const path = sandbox.file('chat.db')
  await createDatabase(path)
  const [sessionId] = seed(path, {messagesPerSession: shape.history, now: Date.now(), sessions: 1})
  const store = await openSqliteStore({path})
  // A second connection puts the session back to its seeded history between trials, untimed.
  const raw = openRaw(path)
  const reset = raw.prepare('DELETE FROM messages WHERE session_id = ? AND position >= ?')
  const provider = openaiProvider.create({apiKey: 'bench', baseUrl: server.url, extra: {}})
  // What startConversation gives a chat: the model facts over the (here empty) config.
  const config = await loadConfig({cwd: sandbox.root, env: sandbox.env()})
  const facts = (model: string, name: string, at: Date) => modelFacts(model, name, config, {at})
  const conversation = new Conversation({budget: BUDGET, facts, persistent: true, provider, session: await store.get(sessionId), store})
  const client = new OpenAI({apiKey: 'bench', baseURL: server.url})
  // The baseline holds the history in memory, as a client that saves nothing would.
  const history = buildContext(conversation.session.systemPrompt, await store.messages(sessionId), PROMPT, BUDGET).messages
  const messages = history.map(({content, role}) => ({content, role})) as OpenAI.ChatCompletionMessageParam[]

  const sdk = async (): Promise<Turn> => {
    let firstTokenAt: number | undefined
    let reply = ''
    const start = performance.now()
    const stream = await client.chat.completions.create({messages, model: MODEL, stream: true, stream_options: {include_usage: true}})
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta?.content
      if (text) {
        firstTokenAt ??= performance.now()
        reply += text
      }
    }
    const end = performance.now()
    return {firstTokenMs: (firstTokenAt ?? Number.NaN) - start, reply, totalMs: end - start}
  }

  const synapse = async (): Promise<Turn> => {
    reset.run(sessionId, shape.history)
    let firstTokenAt: number | undefined
    let reply = ''
    const onDelta = (text: string) => {
      firstTokenAt ??= performance.now()
      reply += text
    }
    const start = performance.now()
    const result = await conversation.send({model: MODEL, onDelta, prompt: PROMPT})
    const end = performance.now()
    if (!result.saved) throw new Error('synapse did not save the turn', {cause: result.saveError})
    return {firstTokenMs: (firstTokenAt ?? Number.NaN) - start, reply, totalMs: end - start}
  }

  try {
    // Both sides send the same request and get the whole reply; synapse stores both messages.
    const requestsBefore = server.chatRequests.length
    strictEqual((await synapse()).reply, expectedReply)
    strictEqual((await sdk()).reply, expectedReply)
    const [synapseRequest, sdkRequest] = server.chatRequests.slice(requestsBefore).map(request => request.body)
    deepStrictEqual(synapseRequest, sdkRequest)
    strictEqual((await store.messages(sessionId)).length, shape.history + 2)

    // Each trial's first-token time goes aside; the harness keeps its total and drops warm-up rounds.
    const firstTokens = {sdk: [] as number[], synapse: [] as number[]}
    const timed = (name: 'sdk' | 'synapse', turn: () => Promise<Turn>) => async () => {
      const {firstTokenMs, reply, totalMs} = await turn()
      if (reply !== expectedReply) throw new Error(`${name} received ${JSON.stringify(reply)}`)
      firstTokens[name].push(firstTokenMs)
      return totalMs
    }
    const totals = await interleave({raw: timed('sdk', sdk), synapse: timed('synapse', synapse)}, plan)
    server.requests.length = 0
    const firstToken = {raw: statsOf(firstTokens.sdk.slice(plan.warmup)), synapse: statsOf(firstTokens.synapse.slice(plan.warmup))}

    const baseline = 'bare openai SDK'
    const turn = `${shape.history}-message session, ${shape.chunks}-piece reply paced ${shape.delayMs} ms apart`
    return {
      total: timeComparison({
        baseline,
        id: 'chat-total',
        notes: [
          `one streamed turn (${turn}) on the same in-process fake server; synapse's includes loading the history and committing the prompt before the request and the reply after it`,
          'the baseline sends the same request body (checked) from history held in memory, and saves nothing',
          `the fake sends piece i at i x ${shape.delayMs} ms from its first byte whatever the client does, as a model would (bench/chat-scenario.ts), so timer overshoots do not add up`,
        ],
        operation: 'chat turn, total vs bare openai SDK',
        target: {bound: 'max', ratio: 1.02},
        timings: totals,
      }),
      ttft: addedTimeComparison({
        baseline,
        id: 'chat-ttft',
        notes: [
          "time to first token: from send() (synapse) or create() (SDK) to the first non-empty content; synapse's includes the history load and the prompt's commit",
        ],
        operation: 'chat turn, first token vs bare openai SDK',
        target: {addedMs: 5, bound: 'max'},
        timings: firstToken,
      }),
    }
  } finally {
    await store.close()
    raw.close()
    await server.close()
  }
}
