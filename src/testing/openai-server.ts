/**
 * A fake OpenAI-compatible server: `POST /v1/chat/completions` (JSON `chat.completion`, or SSE
 * `chat.completion.chunk` events when `stream` is true) and `GET /v1/models`. Any other path gets
 * OpenAI's 404 error body: the wire protocol of api.openai.com and of every OpenAI-compatible server,
 * so a plugin for such a server can test against it too. What it sends follows the shapes
 * api.openai.com sends:
 *
 *   role chunk -> one chunk per scripted piece -> finish_reason chunk
 *   -> usage chunk with empty `choices` (only when `stream_options.include_usage`) -> data: [DONE]
 *
 * Usage:
 *   const server = await FakeOpenAIServer.start()
 *   server.reply(['Hel', 'lo'], {usage: {inputTokens: 3, outputTokens: 2}})
 *   ...baseUrl: server.url...
 *   await server.close()
 */
import type {ServerResponse} from 'node:http'

import type {ChatMessage, ChatRole} from '../providers/provider.js'
import {
  HttpFakeChatServer,
  isRecord,
  pathOf,
  type RecordedChat,
  type RecordedRequest,
  type ScriptedError,
  type ScriptedReply,
  scriptedUsage,
  type SseFrames,
} from './fake-chat-server.js'

export interface FakeOpenAIServerOptions {
  /** The ids `GET /v1/models` lists. */
  models?: string[]
}

/** How `GET /v1/models` answers: the list (default), an OpenAI error body, or nothing at all. */
export type ModelsBehaviour = 'hang' | 'list' | {message: string; status: number}

/** Fixed so that recorded responses are reproducible. */
const CREATED = 1_767_225_600

export class FakeOpenAIServer extends HttpFakeChatServer {
  readonly models: string[]
  modelsBehaviour: ModelsBehaviour = 'list'
  private completions = 0

  constructor(options: FakeOpenAIServerOptions = {}) {
    super('/v1')
    this.models = options.models ?? ['gpt-fake-mini', 'gpt-fake-large']
  }

  static async start(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
    return new FakeOpenAIServer(options).listen()
  }

  protected async handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const path = pathOf(request.path)
    if (request.method === 'GET' && path === '/v1/models') {
      if (this.modelsBehaviour === 'hang') return this.hold(res)
      if (this.modelsBehaviour !== 'list') return this.sendError(res, {...this.modelsBehaviour, type: 'error'})
      this.sendJson(res, 200, {
        data: this.models.map(id => ({created: CREATED, id, object: 'model', owned_by: 'fake'})),
        object: 'list',
      })
      return
    }

    if (request.method !== 'POST' || path !== '/v1/chat/completions') {
      this.sendError(res, {message: `Invalid URL (${request.method} ${path})`, status: 404, type: 'error'})
      return
    }

    if (!request.chat) {
      this.sendError(res, {message: 'The request body is not a chat completion request.', status: 400, type: 'error'})
      return
    }

    const {chat} = request
    const body = request.body as Record<string, unknown>
    const includeUsage = (body.stream_options as undefined | {include_usage?: boolean})?.include_usage === true
    await this.answerChat(res, chat, script =>
      chat.stream ? this.sendSse(res, this.frames(chat, script, includeUsage), script) : this.sendCompletion(res, chat, script),
    )
  }

  protected parseChat(method: string, path: string, body: unknown): RecordedChat | undefined {
    if (method !== 'POST' || pathOf(path) !== '/v1/chat/completions' || !isRecord(body)) return undefined
    if (typeof body.model !== 'string' || !Array.isArray(body.messages)) return undefined

    const chat: RecordedChat = {
      messages: body.messages.map(message => toChatMessage(message)),
      model: body.model,
      stream: body.stream === true,
    }
    const maxTokens = body.max_completion_tokens ?? body.max_tokens
    if (typeof maxTokens === 'number') chat.maxTokens = maxTokens
    if (typeof body.temperature === 'number') chat.temperature = body.temperature
    return chat
  }

  private frames(chat: RecordedChat, script: ScriptedReply, includeUsage: boolean): SseFrames {
    const id = this.nextId()
    const model = script.model ?? chat.model
    // Like api.openai.com: with include_usage every chunk carries `usage: null` except the last.
    const base = {created: CREATED, id, model, object: 'chat.completion.chunk', ...(includeUsage ? {usage: null} : {})}
    const chunk = (delta: Record<string, unknown>, finishReason: null | string = null) =>
      sse({...base, choices: [{delta, finish_reason: finishReason, index: 0, logprobs: null}]})

    const usage = usageOf(script)
    return {
      after: [chunk({}, finishReasonOf(script)), ...(includeUsage && usage ? [sse({...base, choices: [], usage})] : []), 'data: [DONE]\n\n'],
      before: [chunk({content: '', role: 'assistant'})],
      content: script.chunks.map(text => chunk({content: text})),
    }
  }

  private nextId(): string {
    this.completions += 1
    return `chatcmpl-fake-${this.completions}`
  }

  private async sendCompletion(res: ServerResponse, chat: RecordedChat, script: ScriptedReply): Promise<void> {
    if (await this.stallOrDropWhole(res, script)) return
    const usage = usageOf(script)
    this.sendJson(res, 200, {
      choices: [
        {
          finish_reason: finishReasonOf(script),
          index: 0,
          logprobs: null,
          message: {content: script.chunks.join(''), refusal: null, role: 'assistant'},
        },
      ],
      created: CREATED,
      id: this.nextId(),
      model: script.model ?? chat.model,
      object: 'chat.completion',
      ...(usage ? {usage} : {}),
    })
  }

  protected sendError(res: ServerResponse, script: ScriptedError): void {
    this.sendJson(
      res,
      script.status,
      {error: {code: script.code ?? null, message: script.message, param: null, type: script.errorType ?? errorTypeFor(script.status)}},
      script.headers,
    )
  }
}

function errorTypeFor(status: number): string {
  if (status === 429) return 'requests'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

function finishReasonOf(script: ScriptedReply): null | string {
  return script.finishReason === undefined ? 'stop' : script.finishReason
}

function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`
}

/** Text parts joined; other part types (images, audio) carry no text and are dropped. */
function toChatMessage(message: unknown): ChatMessage {
  const record = isRecord(message) ? message : {}
  const {content} = record
  const text = Array.isArray(content)
    ? content.map(part => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('')
    : typeof content === 'string'
      ? content
      : ''
  return {content: text, role: String(record.role) as ChatRole}
}

function usageOf(script: ScriptedReply): null | Record<string, unknown> {
  const usage = scriptedUsage(script)
  if (!usage) return null
  const {cachedInputTokens, costUsd, inputTokens, outputTokens} = usage
  return {
    completion_tokens: outputTokens,
    prompt_tokens: inputTokens,
    total_tokens: inputTokens + outputTokens,
    // As api.openai.com reports them: cached tokens are part of prompt_tokens.
    ...(cachedInputTokens === undefined ? {} : {prompt_tokens_details: {audio_tokens: 0, cached_tokens: cachedInputTokens}}),
    // As OpenRouter adds it.
    ...(costUsd === undefined ? {} : {cost: costUsd}),
  }
}
