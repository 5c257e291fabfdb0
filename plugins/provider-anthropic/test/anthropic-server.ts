/**
 * A fake of the Anthropic Messages API: `POST /v1/messages`, answered with a JSON `message`, or with
 * SSE when `stream` is true. What it sends follows what api.anthropic.com sends under API version
 * 2026-10-21 (the version @anthropic-ai/sdk 1.x speaks), event names included, because the SDK drops
 * an SSE frame that has no `event:` line:
 *
 *   message_start (usage.input_tokens) -> content_block_start -> ping
 *   -> one content_block_delta (text_delta) per scripted piece -> content_block_stop
 *   -> message_delta (stop_reason, cumulative usage.output_tokens) -> message_stop
 *
 * Errors have Anthropic's shape, `{type: 'error', error: {type, message}, request_id}`, with a
 * `request-id` header. Like the real API, a request without `anthropic-version` or `max_tokens` is
 * refused with a 400 before any script is used. Any other path gets a 404 `not_found_error`.
 *
 * The base URL to give the SDK is `server.url`, the bare origin: the SDK adds `/v1/messages` itself.
 *
 * Usage:
 *   const server = await FakeAnthropicServer.start()
 *   server.reply(['Hel', 'lo'], {usage: {inputTokens: 3, outputTokens: 2}})
 *   ...baseUrl: server.url...
 *   await server.close()
 */
import type {ServerResponse} from 'node:http'

import type {ChatMessage, ChatRole} from 'synapse-cli'

import {
  HttpFakeChatServer,
  isRecord,
  pathOf,
  type RecordedChat,
  type RecordedRequest,
  type ScriptedError,
  type ScriptedReply,
  type ScriptedResponse,
  scriptedUsage,
  type SseFrames,
} from 'synapse-cli/testing'

/** The stop reason of a reply that ended normally. */
export const END_TURN = 'end_turn'

/** The output token count `message_start` carries before any text is generated, as the API does. */
const START_OUTPUT_TOKENS = 1

/**
 * A scripted reply with what only this protocol can express. `enqueue()` takes it like any
 * ScriptedReply.
 */
export interface AnthropicScriptedReply extends ScriptedReply {
  /**
   * Also report `input_tokens` in `message_delta`. The API repeats the cumulative counts there when
   * they changed during the turn (server tools, say); a client should then prefer them.
   */
  deltaInputTokens?: number
  /**
   * After this many content pieces, send an SSE `error` event (how the API reports, say, an
   * overload once a stream is under way) and end the response, without content_block_stop,
   * message_delta or message_stop.
   */
  streamError?: {afterChunks: number; errorType: string; message: string}
}

export class FakeAnthropicServer extends HttpFakeChatServer {
  private counter = 0

  constructor() {
    super('')
  }

  static async start(): Promise<FakeAnthropicServer> {
    return new FakeAnthropicServer().listen()
  }

  /** Also takes the Anthropic-only fields of AnthropicScriptedReply. */
  override enqueue(...responses: Array<AnthropicScriptedReply | ScriptedResponse>): void {
    super.enqueue(...responses)
  }

  /** Also takes the Anthropic-only fields of AnthropicScriptedReply. */
  override setDefault(response: AnthropicScriptedReply | ScriptedResponse): void {
    super.setDefault(response)
  }

  protected async handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const path = pathOf(request.path)
    if (request.method !== 'POST' || path !== '/v1/messages') {
      this.sendError(res, {errorType: 'not_found_error', message: 'Not Found', status: 404, type: 'error'})
      return
    }

    if (!request.headers['anthropic-version']) {
      this.sendError(res, {message: 'anthropic-version: header is required', status: 400, type: 'error'})
      return
    }

    if (!request.chat) {
      this.sendError(res, {message: 'The request body is not a Messages API request.', status: 400, type: 'error'})
      return
    }

    if (request.chat.maxTokens === undefined) {
      this.sendError(res, {message: 'max_tokens: Field required', status: 400, type: 'error'})
      return
    }

    const {chat} = request
    await this.answerChat(res, chat, script => (chat.stream ? this.sendSse(res, this.frames(chat, script), script) : this.sendMessage(res, chat, script)))
  }

  protected parseChat(method: string, path: string, body: unknown): RecordedChat | undefined {
    if (method !== 'POST' || pathOf(path) !== '/v1/messages' || !isRecord(body)) return undefined
    if (typeof body.model !== 'string' || !Array.isArray(body.messages)) return undefined

    const system = textOf(body.system)
    const chat: RecordedChat = {
      messages: [...(system === '' ? [] : [{content: system, role: 'system' as const}]), ...body.messages.map(message => toChatMessage(message))],
      model: body.model,
      stream: body.stream === true,
    }
    if (typeof body.max_tokens === 'number') chat.maxTokens = body.max_tokens
    if (typeof body.temperature === 'number') chat.temperature = body.temperature
    return chat
  }

  private frames(chat: RecordedChat, script: AnthropicScriptedReply): SseFrames {
    const start = this.skeleton(chat, script)
    const usage = usageOf(script)
    const {streamError} = script
    const pieces = streamError ? script.chunks.slice(0, streamError.afterChunks) : script.chunks
    const hasText = script.chunks.length > 0

    const before = [sse('message_start', {message: start, type: 'message_start'})]
    if (hasText) before.push(sse('content_block_start', {content_block: {citations: null, text: '', type: 'text'}, index: 0, type: 'content_block_start'}))
    before.push(sse('ping', {type: 'ping'}))

    const content = pieces.map(text => sse('content_block_delta', {delta: {text, type: 'text_delta'}, index: 0, type: 'content_block_delta'}))

    if (streamError) {
      const error = {error: {message: streamError.message, type: streamError.errorType}, request_id: start.id.replace('msg_', 'req_'), type: 'error'}
      return {after: [sse('error', error)], before, content}
    }

    const deltaUsage = usage
      ? {output_tokens: usage.output_tokens, ...(script.deltaInputTokens === undefined ? {} : {input_tokens: script.deltaInputTokens})}
      : undefined
    const after = [
      ...(hasText ? [sse('content_block_stop', {index: 0, type: 'content_block_stop'})] : []),
      sse('message_delta', {
        delta: {container: null, stop_details: null, stop_reason: stopReasonOf(script), stop_sequence: null},
        type: 'message_delta',
        ...(deltaUsage ? {usage: deltaUsage} : {}),
      }),
      sse('message_stop', {type: 'message_stop'}),
    ]
    return {after, before, content}
  }

  private nextId(): number {
    this.counter += 1
    return this.counter
  }

  private async sendMessage(res: ServerResponse, chat: RecordedChat, script: ScriptedReply): Promise<void> {
    if (await this.stallOrDropWhole(res, script)) return
    const message = this.skeleton(chat, script)
    const text = script.chunks.join('')
    const usage = usageOf(script)
    this.sendJson(
      res,
      200,
      {
        ...message,
        content: text === '' ? [] : [{citations: null, text, type: 'text'}],
        stop_reason: stopReasonOf(script),
        ...(usage ? {usage} : {}),
      },
      {'request-id': message.id.replace('msg_', 'req_')},
    )
  }

  protected sendError(res: ServerResponse, script: ScriptedError): void {
    const requestId = `req_fake_${this.nextId()}`
    const error = {
      message: script.message,
      type: script.errorType ?? errorTypeFor(script.status),
      ...(script.code ? {details: {error_code: script.code}} : {}),
    }
    this.sendJson(res, script.status, {error, request_id: requestId, type: 'error'}, {'request-id': requestId, ...script.headers})
  }

  /** The message as `message_start` carries it: no content, no stop reason yet, the input usage. */
  private skeleton(chat: RecordedChat, script: ScriptedReply) {
    const usage = usageOf(script)
    return {
      container: null,
      content: [] as unknown[],
      diagnostics: null,
      id: `msg_fake_${this.nextId()}`,
      model: script.model ?? chat.model,
      role: 'assistant',
      stop_details: null,
      stop_reason: null as null | string,
      stop_sequence: null,
      type: 'message',
      ...(usage ? {usage: {...usage, output_tokens: START_OUTPUT_TOKENS}} : {}),
    }
  }
}

function errorTypeFor(status: number): string {
  switch (status) {
    case 401: {
      return 'authentication_error'
    }

    case 402: {
      return 'billing_error'
    }

    case 403: {
      return 'permission_error'
    }

    case 404: {
      return 'not_found_error'
    }

    case 429: {
      return 'rate_limit_error'
    }

    case 504: {
      return 'timeout_error'
    }

    case 529: {
      return 'overloaded_error'
    }

    default: {
      return status >= 500 ? 'api_error' : 'invalid_request_error'
    }
  }
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

function stopReasonOf(script: ScriptedReply): null | string {
  return script.finishReason === undefined ? END_TURN : script.finishReason
}

/** A string, or the text blocks of a content array joined; other block types carry no text. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map(block => (isRecord(block) && block.type === 'text' && typeof block.text === 'string' ? block.text : '')).join('')
}

function toChatMessage(message: unknown): ChatMessage {
  const record = isRecord(message) ? message : {}
  return {content: textOf(record.content), role: String(record.role) as ChatRole}
}

/** The full usage block as the API reports it; null when the script says to report none. */
function usageOf(script: ScriptedReply) {
  const usage = scriptedUsage(script)
  if (!usage) return null
  const {cachedInputTokens = 0, inputTokens, outputTokens} = usage
  return {
    cache_creation: null,
    cache_creation_input_tokens: 0,
    // The API counts cache reads apart from input_tokens.
    cache_read_input_tokens: cachedInputTokens,
    inference_geo: null,
    input_tokens: inputTokens - cachedInputTokens,
    output_tokens: outputTokens,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
  }
}
