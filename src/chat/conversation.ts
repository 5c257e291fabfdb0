import {type ErrorCode, SynapseError} from '../core/errors.js'
import type {Provider, Usage} from '../providers/provider.js'
import type {Exchange, LoadOptions, Message, Replaced, Session, SessionStore} from '../store/session-store.js'
import {MemorySessionStore} from '../store/memory-store.js'
import {newSessionRecord} from '../store/store-helpers.js'
import {buildContext, type ContextBudget} from './context.js'

export interface TurnOptions {
  maxTokens?: number
  model: string
  /** Called with each piece of the reply as it arrives, before anything is written. */
  onDelta?: (text: string) => void
  prompt: string
  /** Aborting it stops the request; the reply so far is kept as an interrupted message. */
  signal?: AbortSignal
  temperature?: number
}

export interface TurnResult {
  durationMs: number
  finishReason: null | string
  model: string
  /** Earlier messages left out of the request to fit the context budget. */
  omitted: number
  provider: string
  reply: string
  /**
   * What a retry or an edit took out of the conversation, once its reply was committed: the ids of
   * the old question (an edit) and the old reply. Absent for a plain turn, and for a retry or an
   * edit that was interrupted, which leaves the old exchange current.
   */
  replaced?: Replaced
  /** The first error that kept the turn from being saved; the reply was still delivered. */
  saveError?: unknown
  saved: boolean
  sessionId: string
  status: 'complete' | 'interrupted'
  /** From sending the request to the first piece of the reply; null if none came. */
  timeToFirstTokenMs: null | number
  usage: Usage
}

const STORAGE_FAILURES = new Set<ErrorCode>(['STORAGE_BUSY', 'STORAGE_UNAVAILABLE'])

function nothingTo(action: 'edit' | 'retry' | 'undo'): SynapseError {
  return new SynapseError('INVALID_INPUT', `There is nothing to ${action}: this conversation has no question in it yet.`, {
    exitCode: 1,
    suggestions: ['Ask something first, or continue another session with -s <id> ("synapse sessions list" shows them).'],
  })
}

/** A store that cannot be written now (locked past the timeout, read-only, full): a reason to go on unsaved, not to fail. */
export function isStorageFailure(error: unknown): boolean {
  return error instanceof SynapseError && STORAGE_FAILURES.has(error.code)
}

export interface ConversationOptions {
  budget: ContextBudget
  /** Whether `store` keeps what it is given beyond this process (false for --no-save). */
  persistent: boolean
  provider: Provider
  session: Session
  store: SessionStore
  /**
   * false: `session` is not in the store yet and is created there by the first turn, so that a
   * conversation left without one (`synapse -r`, then /exit) leaves no empty session. Default true.
   */
  stored?: boolean
}

/**
 * One conversation: sends a prompt with the session's history and saves the exchange so that no
 * turn is ever lost. The order is the contract:
 * 1. the user's message is committed, "pending", before the request goes out;
 * 2. the reply streams to the caller as it arrives, nothing written meanwhile;
 * 3. the reply is committed when it completes, with provider, model, tokens, finish reason and
 *    duration, in one transaction with its question's change to "complete" (`appendReply`); an
 *    interrupted reply is committed so too, as far as it got;
 * 4. when the request fails, the user's message is marked "error", so the next turn does not send a
 *    question without its answer, and the error is thrown.
 * A storage failure never costs the user the reply: it is recorded in the result instead.
 */
export class Conversation {
  session: Session
  private readonly options: ConversationOptions
  private stored: boolean

  constructor(options: ConversationOptions) {
    this.options = options
    this.session = options.session
    this.stored = options.stored ?? true
  }

  /** Deletes the session's messages, keeping the session; how many went. */
  async clear(): Promise<number> {
    return this.stored ? this.options.store.clear(this.session.id) : 0
  }

  /** The session's messages, in order; none before the first turn of a session not stored yet. */
  async messages(options?: LoadOptions): Promise<Message[]> {
    return this.stored ? this.options.store.messages(this.session.id, options) : []
  }

  /** The session as the store has it now: another process may have renamed it. */
  async refresh(): Promise<Session> {
    if (this.stored && this.options.persistent) this.session = await this.options.store.get(this.session.id)
    return this.session
  }

  get store(): SessionStore {
    return this.options.store
  }

  /** A new turn: the prompt, with the conversation so far as context. */
  async send(turn: TurnOptions): Promise<TurnResult> {
    return this.exchange(turn, {})
  }

  /**
   * Asks the last question again for a new reply, sending only what came before it as context (the
   * question is not added again). Once the new reply commits, it replaces the old one, which stays
   * stored; a request that fails or is interrupted leaves the old reply current and stores nothing.
   * Throws INVALID_INPUT when there is no question, and when the last one is still waiting for its reply.
   */
  async retry(turn: Omit<TurnOptions, 'prompt'>): Promise<TurnResult> {
    const last = await this.reusable('retry')
    return this.exchange({...turn, prompt: last.question.content}, {asked: last.question, replacing: last})
  }

  /**
   * Sends `turn.prompt` in place of the last question: the context is what came before it, and once
   * the reply commits, the new question and reply replace the old ones, which stay stored. A request
   * that fails or is interrupted leaves the old exchange current: the new question is kept, marked
   * "error", as any failed request's is. Throws INVALID_INPUT as `retry` does.
   */
  async edit(turn: TurnOptions): Promise<TurnResult> {
    return this.exchange(turn, {replacing: await this.reusable('edit')})
  }

  /** Takes the last exchange out of the conversation; it stays stored. Throws INVALID_INPUT when there is none. */
  async undo(): Promise<Exchange> {
    if (!this.stored) throw nothingTo('undo')
    return this.options.store.undo(this.session.id)
  }

  /** The last question still in the conversation, with its reply; undefined before the first. */
  async lastExchange(): Promise<Exchange | undefined> {
    return this.stored ? this.options.store.lastExchange(this.session.id) : undefined
  }

  private async reusable(action: 'edit' | 'retry'): Promise<Exchange> {
    const last = await this.lastExchange()
    if (!last) throw nothingTo(action)
    // Another process may be answering it: a second answer would race the first.
    if (last.question.status === 'pending') {
      throw new SynapseError('INVALID_INPUT', `The last question is still waiting for its reply, so there is no reply to ${action} yet.`, {
        exitCode: 1,
        suggestions: ['Wait for the other synapse to finish, or take the question out with /undo (synapse -c --undo).'],
      })
    }
    return last
  }

  /**
   * One request and what it stores. `asked`: a stored question asked again (a retry), so no new one
   * is appended. `replacing`: the exchange the new one takes the place of, left out of the context
   * and replaced only when the reply commits.
   */
  private async exchange(turn: TurnOptions, reuse: {asked?: Message; replacing?: Exchange}): Promise<TurnResult> {
    let saveError: unknown = await this.ensureStored()
    const {budget, provider, store} = this.options
    const sessionId = this.session.id
    const save = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await work()
      } catch (error) {
        saveError ??= error
        return undefined
      }
    }

    // Without its history a turn would be a different conversation: a failed read is an error.
    const {asked, replacing} = reuse
    const replacedIds = new Set(replacing ? [replacing.question.id, ...(replacing.reply ? [replacing.reply.id] : [])] : [])
    const history = (await store.messages(sessionId)).filter(m => !replacedIds.has(m.id) && !(m.replyTo !== null && replacedIds.has(m.replyTo)))
    const context = buildContext(this.session.systemPrompt, history, turn.prompt, budget)
    // Pending until its reply commits: no other turn (in this process or another) sends it meanwhile.
    const [userMessage] = asked ? [asked] : ((await save(() => store.append(sessionId, [{content: turn.prompt, role: 'user', status: 'pending'}]))) ?? [])
    const replaced: Replaced | undefined = replacing && {
      ...(asked ? {} : {question: replacing.question.id}),
      ...(replacing.reply ? {reply: replacing.reply.id} : {}),
    }
    let committed = false

    const started = performance.now()
    let firstTokenAt: null | number = null
    let reply = ''
    try {
      for await (const event of provider.stream(context.messages, {
        maxTokens: turn.maxTokens,
        model: turn.model,
        signal: turn.signal,
        temperature: turn.temperature,
      })) {
        if (event.type === 'delta') {
          firstTokenAt ??= performance.now()
          reply += event.text
          turn.onDelta?.(event.text)
          continue
        }
        const durationMs = Math.round(performance.now() - started)
        // A reply is stored only beside its question: without it, later requests would carry an
        // answer to nothing.
        if (userMessage)
          committed = Boolean(
            await save(() =>
              store.appendReply(
                sessionId,
                userMessage.id,
                {
                  content: reply,
                  durationMs,
                  finishReason: event.finishReason,
                  inputTokens: event.usage.inputTokens,
                  model: event.model,
                  outputTokens: event.usage.outputTokens,
                  provider: provider.name,
                  role: 'assistant',
                },
                {replaces: replaced},
              ),
            ),
          )
        return this.result({
          replaced: committed ? replaced : undefined,
          durationMs,
          finishReason: event.finishReason,
          firstTokenAt,
          model: event.model,
          omitted: context.omitted,
          reply,
          saveError,
          started,
          status: 'complete',
          usage: event.usage,
        })
      }
      throw new SynapseError('PROVIDER_ERROR', `The ${provider.name} provider ended its reply without finishing it.`, {
        suggestions: ['Try again; if it keeps happening, the server may be cutting long replies short.'],
      })
    } catch (error) {
      const durationMs = Math.round(performance.now() - started)
      // Whatever a provider throws once the caller has aborted is the interruption showing through.
      const interrupted = Boolean(turn.signal?.aborted) || (error instanceof SynapseError && error.code === 'INTERRUPTED')
      const metadata = interrupted
        ? {interrupted: true}
        : {error: error instanceof SynapseError ? {code: error.code, message: error.message} : {message: String(error)}}
      // A retry that fails changes nothing: the question keeps the reply it had.
      if (userMessage && !asked) {
        // What arrived is kept, marked interrupted (Ctrl-C, or a connection lost mid-reply). With
        // nothing to keep, the question is marked failed so the next turn does not resend it; so is
        // an edited question whatever arrived, as its reply would replace the old exchange.
        await save(async () => {
          if (reply === '' || replacing) await store.updateMessage(sessionId, userMessage.id, {metadata, status: 'error'})
          else
            await store.appendReply(sessionId, userMessage.id, {
              content: reply,
              durationMs,
              metadata: interrupted ? {} : metadata,
              model: turn.model,
              provider: provider.name,
              role: 'assistant',
              status: 'interrupted',
            })
        })
      }
      if (!interrupted) throw error
      return this.result({
        replaced: undefined,
        durationMs,
        finishReason: null,
        firstTokenAt,
        model: turn.model,
        omitted: context.omitted,
        reply,
        saveError,
        started,
        status: 'interrupted',
        usage: {inputTokens: null, outputTokens: null},
      })
    }
  }

  /** Continues in a fresh session with the same provider, model and system prompt, stored at its first turn. */
  async startNew(): Promise<Session> {
    const {model, provider, systemPrompt} = this.session
    this.session = newSessionRecord({model, provider, systemPrompt}, new Date())
    this.stored = false
    return this.session
  }

  /** Switches the model (and provider) that later turns use, and remembers it on the session. */
  async use(provider: Provider, model: string): Promise<void> {
    this.options.provider = provider
    if (this.options.persistent && this.stored) this.session = await this.options.store.update(this.session.id, {model, provider: provider.name})
    else this.session = {...this.session, model, provider: provider.name}
  }

  get provider(): Provider {
    return this.options.provider
  }

  /**
   * Creates the session in the store, with the id it has had from the start, if it is not there
   * yet. A store that cannot be written moves the conversation into memory, as startConversation
   * does for one that cannot be opened: the turns keep their context, and the failure is returned
   * for the first turn to report as not saved.
   */
  private async ensureStored(): Promise<unknown> {
    if (this.stored) return undefined
    const {id, metadata, model, provider, systemPrompt, title} = this.session
    const fields = {id, metadata, model, provider, systemPrompt, title}
    try {
      this.session = await this.options.store.create(fields)
      this.stored = true
      return undefined
    } catch (error) {
      if (!isStorageFailure(error)) throw error
      const memory = new MemorySessionStore()
      this.session = await memory.create(fields)
      Object.assign(this.options, {persistent: false, store: memory})
      this.stored = true
      return error
    }
  }

  private result(parts: {
    replaced: Replaced | undefined
    durationMs: number
    finishReason: null | string
    firstTokenAt: null | number
    model: string
    omitted: number
    reply: string
    saveError: unknown
    started: number
    status: 'complete' | 'interrupted'
    usage: Usage
  }): TurnResult {
    return {
      durationMs: parts.durationMs,
      finishReason: parts.finishReason,
      model: parts.model,
      omitted: parts.omitted,
      provider: this.options.provider.name,
      reply: parts.reply,
      ...(parts.replaced === undefined ? {} : {replaced: parts.replaced}),
      saved: this.options.persistent && parts.saveError === undefined,
      ...(parts.saveError === undefined ? {} : {saveError: parts.saveError}),
      sessionId: this.session.id,
      status: parts.status,
      timeToFirstTokenMs: parts.firstTokenAt === null ? null : Math.round(parts.firstTokenAt - parts.started),
      usage: parts.usage,
    }
  }
}
