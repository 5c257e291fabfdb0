import {type ErrorCode, SynapseError} from '../core/errors.js'
import {NO_COST, type ReplyCost, replyCost} from '../providers/cost.js'
import type {ModelFacts} from '../providers/model-facts.js'
import type {ChatMessage, Provider, Usage} from '../providers/provider.js'
import {tokenCounter} from '../providers/token-count.js'
import type {LoadOptions, Message, Session, SessionStore, TokenSource} from '../store/session-store.js'
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

/** A turn's token counts as stored with its reply: reported by the provider, or counted by synapse where it reported none. */
export interface TurnUsage {
  cachedInputTokens: null | number
  inputTokens: null | number
  outputTokens: null | number
  /** Null only when there was no reply to count. */
  tokenSource: null | TokenSource
}

export interface TurnResult {
  /** What the reply cost in US dollars and where that came from; both null when unknown (a model without a price). */
  cost: ReplyCost
  durationMs: number
  finishReason: null | string
  model: string
  /** Earlier messages left out of the request to fit the context budget. */
  omitted: number
  provider: string
  reply: string
  /** The first error that kept the turn from being saved; the reply was still delivered. */
  saveError?: unknown
  saved: boolean
  sessionId: string
  status: 'complete' | 'interrupted'
  /** From sending the request to the first piece of the reply; null if none came. */
  timeToFirstTokenMs: null | number
  usage: TurnUsage
}

const STORAGE_FAILURES = new Set<ErrorCode>(['STORAGE_BUSY', 'STORAGE_UNAVAILABLE'])

/** A store that cannot be written now (locked past the timeout, read-only, full): a reason to go on unsaved, not to fail. */
export function isStorageFailure(error: unknown): boolean {
  return error instanceof SynapseError && STORAGE_FAILURES.has(error.code)
}

export interface ConversationOptions {
  budget: ContextBudget
  /**
   * The context window and prices of a model as a provider serves it (`modelFacts` over the config),
   * in force at `at`; absent or null: nothing known, so replies have no cost.
   */
  facts?: (model: string, provider: string, at: Date) => Promise<ModelFacts | null>
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

  async send(turn: TurnOptions): Promise<TurnResult> {
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

    // Asked for now, so that the data loads while the request is under way.
    const askedFacts = this.factsOf(turn.model, turn.model)
    // Without its history a turn would be a different conversation: a failed read is an error.
    const history = await store.messages(sessionId)
    const context = buildContext(this.session.systemPrompt, history, turn.prompt, budget)
    // Pending until its reply commits: no other turn (in this process or another) sends it meanwhile.
    const [userMessage] = (await save(() => store.append(sessionId, [{content: turn.prompt, role: 'user', status: 'pending'}]))) ?? []

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
        const usage = await countedUsage(event.usage, context.messages, reply, turn.model)
        const cost = replyCost(usage, await this.factsOf(event.model, turn.model, askedFacts), event.usage.costUsd)
        // A reply is stored only beside its question: without it, later requests would carry an
        // answer to nothing.
        if (userMessage)
          await save(() =>
            store.appendReply(sessionId, userMessage.id, {
              ...usage,
              ...cost,
              content: reply,
              durationMs,
              finishReason: event.finishReason,
              model: event.model,
              provider: provider.name,
              role: 'assistant',
            }),
          )
        return this.result({
          cost,
          durationMs,
          finishReason: event.finishReason,
          firstTokenAt,
          model: event.model,
          omitted: context.omitted,
          reply,
          saveError,
          started,
          status: 'complete',
          usage,
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
      // A reply cut short was still paid for: counted as synapse counts one reported by nobody.
      const usage = reply === '' ? NO_USAGE : await countedUsage({inputTokens: null, outputTokens: null}, context.messages, reply, turn.model)
      const cost = reply === '' ? NO_COST : replyCost(usage, await this.factsOf(turn.model, turn.model, askedFacts))
      if (userMessage) {
        // What arrived is kept, marked interrupted (Ctrl-C, or a connection lost mid-reply). With
        // nothing to keep, the question is marked failed so the next turn does not resend it.
        await save(async () => {
          if (reply === '') await store.updateMessage(sessionId, userMessage.id, {metadata, status: 'error'})
          else
            await store.appendReply(sessionId, userMessage.id, {
              ...usage,
              ...cost,
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
        cost,
        durationMs,
        finishReason: null,
        firstTokenAt,
        model: turn.model,
        omitted: context.omitted,
        reply,
        saveError,
        started,
        status: 'interrupted',
        usage,
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

  /**
   * The facts of the model that answered, else of the one asked for (a server may answer an alias
   * with a dated name the data does not know). Never throws: facts that cannot be had make no cost.
   */
  private async factsOf(answered: string, asked: string, askedFacts?: Promise<ModelFacts | null>): Promise<ModelFacts | null> {
    const {facts, provider} = this.options
    if (!facts) return null
    const lookUp = (model: string) => facts(model, provider.name, new Date()).catch(() => null)
    const first = answered === asked && askedFacts ? await askedFacts : await lookUp(answered)
    if (first || answered === asked) return first
    return askedFacts ? askedFacts : lookUp(asked)
  }

  private result(parts: {
    cost: ReplyCost
    durationMs: number
    finishReason: null | string
    firstTokenAt: null | number
    model: string
    omitted: number
    reply: string
    saveError: unknown
    started: number
    status: 'complete' | 'interrupted'
    usage: TurnUsage
  }): TurnResult {
    return {
      cost: parts.cost,
      durationMs: parts.durationMs,
      finishReason: parts.finishReason,
      model: parts.model,
      omitted: parts.omitted,
      provider: this.options.provider.name,
      reply: parts.reply,
      saved: this.options.persistent && parts.saveError === undefined,
      ...(parts.saveError === undefined ? {} : {saveError: parts.saveError}),
      sessionId: this.session.id,
      status: parts.status,
      timeToFirstTokenMs: parts.firstTokenAt === null ? null : Math.round(parts.firstTokenAt - parts.started),
      usage: parts.usage,
    }
  }
}

const NO_USAGE: TurnUsage = Object.freeze({cachedInputTokens: null, inputTokens: null, outputTokens: null, tokenSource: null})

/**
 * The counts to store with a reply: the provider's where it reported them, synapse's own where it
 * did not (the model family's tokenizer, loaded only then, or the estimate), marked as such.
 */
async function countedUsage(reported: Usage, request: readonly ChatMessage[], reply: string, model: string): Promise<TurnUsage> {
  const cachedInputTokens = reported.cachedInputTokens ?? null
  if (reported.inputTokens !== null && reported.outputTokens !== null) {
    return {cachedInputTokens, inputTokens: reported.inputTokens, outputTokens: reported.outputTokens, tokenSource: 'provider'}
  }
  const counter = await tokenCounter(model)
  return {
    cachedInputTokens,
    inputTokens: reported.inputTokens ?? counter.countMessages(request),
    outputTokens: reported.outputTokens ?? counter.countText(reply),
    tokenSource: counter.source,
  }
}
