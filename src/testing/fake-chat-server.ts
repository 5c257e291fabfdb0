/**
 * What every fake chat server offers tests, whatever wire protocol it speaks, plus the HTTP plumbing
 * they share: a real node:http server on 127.0.0.1 with an ephemeral port, request recording, the
 * script queue, and SSE writing that honours delays, stalls and drops. A protocol fake extends
 * `HttpFakeChatServer` and only writes its own wire format: `FakeOpenAIServer` here, the Anthropic
 * plugin's fake of the Messages API in its own tests. Exported from "synapse-cli/testing", so that a
 * provider plugin written elsewhere tests against a real server the way the built-in ones do.
 *
 * The fakes run inside the test process and are reached by URL, so end-to-end tests can point a
 * spawned CLI at them through the environment.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

import type {
  FakeChatServerLike,
  RecordedChat,
  RecordedRequest,
  ScriptedError,
  ScriptedRaw,
  ScriptedReply,
  ScriptedResponse,
  ScriptedUsage,
} from './provider-suite.js'

export type {
  FakeChatServerLike,
  RecordedChat,
  RecordedRequest,
  ScriptedError,
  ScriptedNoResponse,
  ScriptedRaw,
  ScriptedReply,
  ScriptedResponse,
  ScriptedUsage,
} from './provider-suite.js'

export interface FakeChatServer extends FakeChatServerLike {
  /** The requests the fake recognised as chat requests, in order. */
  readonly chatRequests: readonly RecordedRequest[]
  /** Queues an error response. */
  fail(status: number, message: string, options?: Omit<ScriptedError, 'message' | 'status' | 'type'>): void
  /** `http://127.0.0.1:PORT`, without the protocol's path prefix. */
  readonly origin: string
  /** Queues a reply streamed as `chunks`. */
  reply(chunks: string[], options?: Omit<ScriptedReply, 'chunks' | 'type'>): void
  /** Forgets recorded requests and queued responses, and restores the default response. */
  reset(): void
}

/** The default reply when nothing is scripted: a short, fixed text so unscripted requests still succeed. */
export const DEFAULT_REPLY: ScriptedReply = {chunks: ['Hello', ' from', ' the fake.'], type: 'reply'}

/** Frames of one streamed reply, already serialised as complete SSE events (`data: ...\n\n`). */
export interface SseFrames {
  /** Sent after the content; the stop reason, usage and end-of-stream markers. */
  after: string[]
  /** Sent before the content, e.g. the role chunk or `message_start`. */
  before: string[]
  /** One frame per scripted chunk. */
  content: string[]
}

export abstract class HttpFakeChatServer implements FakeChatServer {
  readonly requests: RecordedRequest[] = []
  /** Answers chat requests once the queue is empty, before the default: a reply made from the request. */
  responder?: (chat: RecordedChat) => ScriptedResponse | undefined
  /** The most chat requests that were being answered at the same time. */
  maxConcurrentChats = 0
  private openChats = 0
  private defaultResponse: ScriptedResponse = DEFAULT_REPLY
  private readonly queue: ScriptedResponse[] = []
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  /** Responses the fake itself cut off (drops), which the client therefore did not close early. */
  private readonly droppedByServer = new WeakSet<ServerResponse>()
  /** Aborted on close, so pending delays end instead of keeping the process alive. */
  private readonly closing = new AbortController()
  private closed?: Promise<void>
  private port = 0

  constructor(private readonly pathPrefix: string) {
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch(error => {
        // A broken fake must fail the test loudly rather than hang it.
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(599, {'content-type': 'text/plain'}).end(`fake server bug: ${String(error)}`)
        } else {
          res.destroy()
        }
      })
    })
    this.server.on('connection', socket => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
  }

  get chatRequests(): RecordedRequest[] {
    return this.requests.filter(request => request.chat !== undefined)
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get url(): string {
    return `${this.origin}${this.pathPrefix}`
  }

  async close(): Promise<void> {
    this.closed ??= new Promise<void>(resolve => {
      this.closing.abort()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
      for (const socket of this.sockets) socket.destroy()
    })
    return this.closed
  }

  enqueue(...responses: ScriptedResponse[]): void {
    this.queue.push(...responses)
  }

  fail(status: number, message: string, options: Omit<ScriptedError, 'message' | 'status' | 'type'> = {}): void {
    this.enqueue({...options, message, status, type: 'error'})
  }

  /** Starts listening on 127.0.0.1 with an ephemeral port. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  reply(chunks: string[], options: Omit<ScriptedReply, 'chunks' | 'type'> = {}): void {
    this.enqueue({...options, chunks, type: 'reply'})
  }

  reset(): void {
    this.requests.length = 0
    this.queue.length = 0
    this.defaultResponse = DEFAULT_REPLY
    this.responder = undefined
    this.maxConcurrentChats = 0
  }

  setDefault(response: ScriptedResponse): void {
    this.defaultResponse = response
  }

  /**
   * Answers a chat request the protocol accepted with the next scripted response: errors through
   * `sendError`, a reply through `reply`; no-response and raw scripts are the same in every protocol.
   */
  protected async answerChat(res: ServerResponse, chat: RecordedChat, reply: (script: ScriptedReply) => Promise<void>): Promise<void> {
    const script = this.nextResponse(chat)
    switch (script.type) {
      case 'error': {
        this.sendError(res, script)
        return
      }

      case 'no-response': {
        await this.hold(res)
        return
      }

      case 'raw': {
        this.sendRaw(res, script)
        return
      }

      case 'reply': {
        if (script.heldUntil) await this.until(script.heldUntil)
        await reply(script)
      }
    }
  }

  /** Answers one recorded request; `res` is still untouched. */
  protected abstract handle(request: RecordedRequest, res: ServerResponse): Promise<void>

  /** Writes an error response in the protocol's error shape. */
  protected abstract sendError(res: ServerResponse, script: ScriptedError): void

  /** The request in provider-neutral terms when it is a chat request of this protocol; else undefined. */
  protected abstract parseChat(method: string, path: string, body: unknown): RecordedChat | undefined

  /** Keeps the response open, sending nothing, until the client leaves or the server closes. */
  protected async hold(res: ServerResponse): Promise<void> {
    if (res.destroyed) return
    await new Promise<void>(resolve => {
      res.once('close', () => resolve())
    })
  }

  /** The next scripted response for a chat request. */
  protected nextResponse(chat?: RecordedChat): ScriptedResponse {
    return this.queue.shift() ?? (chat && this.responder?.(chat)) ?? this.defaultResponse
  }

  /**
   * For a reply that is not streamed: there are no pieces to count, so a stall or a drop happens before
   * any byte. True when it did and the response is done with; otherwise waits out the script's delay.
   */
  protected async stallOrDropWhole(res: ServerResponse, script: ScriptedReply): Promise<boolean> {
    if (script.stallAfterChunks !== undefined) {
      await this.hold(res)
      return true
    }

    if (script.dropAfterChunks !== undefined) {
      res.socket?.destroy()
      return true
    }

    if (script.delayMs) await this.pause(script.delayMs)
    return false
  }

  /** Writes a scripted raw response as it is. */
  protected sendRaw(res: ServerResponse, script: ScriptedRaw): void {
    res.writeHead(script.status ?? 200, script.contentType === null ? {} : {'content-type': script.contentType})
    res.end(script.body)
  }

  protected sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      ...headers,
      'content-length': String(Buffer.byteLength(text)),
      'content-type': 'application/json',
    })
    res.end(text)
  }

  /**
   * Streams `frames` as an SSE response, honouring the script's delay, stall and drop. Stall and drop
   * count content frames, so `0` means right after the `before` frames, headers included.
   */
  protected async sendSse(res: ServerResponse, frames: SseFrames, script: ScriptedReply): Promise<void> {
    res.writeHead(200, {'cache-control': 'no-cache', connection: 'keep-alive', 'content-type': 'text/event-stream'})
    for (const frame of frames.before) await this.write(res, frame)

    for (let index = 0; index <= frames.content.length; index++) {
      if (script.stallAfterChunks === index) return this.hold(res)
      if (script.dropAfterChunks === index) {
        this.droppedByServer.add(res)
        res.socket?.destroy()
        return
      }

      if (index === frames.content.length) break
      if (script.delayMs) await this.pause(script.delayMs)
      await this.write(res, frames.content[index])
    }

    for (const frame of frames.after) await this.write(res, frame)
    res.end()
  }

  /**
   * Resolves once `data` is handed to the socket, so that what a script sends before a drop or a stall
   * really leaves the process (a destroyed socket discards what is still buffered). No-op once closed.
   */
  protected async write(res: ServerResponse, data: string): Promise<void> {
    if (res.destroyed) return
    await new Promise<void>(resolve => {
      res.write(data, () => resolve())
    })
  }

  /** Waits, but ends early (without throwing) when the server closes. */
  protected async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, {signal: this.closing.signal}).catch(() => {})
  }

  /** Waits for `promise` to settle, but ends early (without throwing) when the server closes. */
  protected async until(promise: Promise<unknown>): Promise<void> {
    if (this.closing.signal.aborted) return
    const closed = new Promise(resolve => this.closing.signal.addEventListener('abort', resolve, {once: true}))
    await Promise.race([promise.catch(() => undefined), closed])
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now()
    const text = await readBody(req)
    const path = req.url ?? '/'
    const method = req.method ?? 'GET'
    const body = parseBody(text)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    }

    const recorded: RecordedRequest = {body, clientClosedEarly: false, headers, method, path, receivedAt}
    const chat = this.parseChat(method, path, body)
    if (chat) recorded.chat = chat
    this.requests.push(recorded)
    if (chat) {
      this.openChats += 1
      this.maxConcurrentChats = Math.max(this.maxConcurrentChats, this.openChats)
      res.once('close', () => {
        this.openChats -= 1
      })
    }

    res.once('close', () => {
      const endedByServer = this.closing.signal.aborted || this.droppedByServer.has(res)
      if (!res.writableFinished && !endedByServer) recorded.clientClosedEarly = true
    })

    await this.handle(recorded, res)
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A request path without its query. */
export function pathOf(path: string): string {
  return path.split('?')[0]
}

/** Usage as a script gives it; by default 1 input token and one output token per piece; null: none. */
export function scriptedUsage(script: ScriptedReply): null | ScriptedUsage {
  if (script.usage === null) return null
  return script.usage ?? {inputTokens: 1, outputTokens: script.chunks.length}
}
