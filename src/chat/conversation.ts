import {type ErrorCode, SynapseError} from '../core/errors.js'
import {NO_COST, type ReplyCost, replyCost} from '../providers/cost.js'
import type {ModelFacts} from '../providers/model-facts.js'
import type {ChatMessage, Provider, StreamEvent, Usage} from '../providers/provider.js'
import {PER_MESSAGE, tokenCeiling, tokenCounter} from '../providers/token-count.js'
import type {Exchange, LoadOptions, Message, Replaced, Session, SessionStore, TokenSource} from '../store/session-store.js'
import {MemorySessionStore} from '../store/memory-store.js'
import {newSessionRecord} from '../store/store-helpers.js'
import {buildContext, type Context, type ContextBudget, SUMMARY_KEY, type SummaryRange, summaryRangeOf} from './context.js'

export interface TurnOptions {
  maxTokens?: number
  model: string
  /** Called with each piece of the reply as it arrives, before anything is written. */
  onDelta?: (text: string) => void
  /**
   * Called once the turn's question is in the store, before the request goes out: the new question,
   * or the stored one a retry asks again. Not called when it could not be stored.
   */
  onQuestion?: (question: Message) => void
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
  /** Earlier messages left out of the request to fit the context budget (not those a summary stood for). */
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
  /**
   * The summary sent in place of earlier turns: the positions it covers, how many usable messages
   * those are, and whether this turn made it (`context_strategy = "summarize"`).
   */
  summary?: {covered: number; created: boolean; range: SummaryRange}
  /** Why a summary this turn asked for could not be had; the turn went on with the oldest turns left out. */
  summaryError?: string
  saved: boolean
  sessionId: string
  status: 'complete' | 'interrupted'
  /** From sending the request to the first piece of the reply; null if none came. */
  timeToFirstTokenMs: null | number
  usage: TurnUsage
}

function nothingTo(action: 'edit' | 'fork' | 'retry' | 'undo'): SynapseError {
  return new SynapseError('INVALID_INPUT', `There is nothing to ${action}: this conversation has no question in it yet.`, {
    exitCode: 1,
    suggestions: ['Ask something first, or continue another session with -s <id> ("synapse sessions list" shows them).'],
  })
}

const STORAGE_FAILURES = new Set<ErrorCode>(['STORAGE_BUSY', 'STORAGE_UNAVAILABLE'])

/** A store that cannot be written now (locked past the timeout, read-only, full): a reason to go on unsaved, not to fail. */
export function isStorageFailure(error: unknown): boolean {
  return error instanceof SynapseError && STORAGE_FAILURES.has(error.code)
}

/** What happens to the oldest turns when the conversation no longer fits: left out, or summarised by the model. */
export type ContextStrategy = 'summarize' | 'truncate'

/** The most tokens a summary of earlier turns may take. */
export const SUMMARY_MAX_TOKENS = 1024
/** The most tokens kept free for the reply when the context window sets the budget and the turn sets no cap. */
export const MAX_REPLY_RESERVE = 8192

const SUMMARY_INSTRUCTION =
  'You summarise conversations so that they can go on without their earlier turns. Write a concise summary of the conversation you are given that keeps every fact, decision, name, number, piece of code and open question a continuation would need. Write only the summary.'

export interface ConversationOptions {
  /**
   * Earlier messages and tokens sent at most. A maxTokens of 0 takes the budget from the model's
   * context window (`facts`) less a reserve for the reply (`maxTokens` of the turn, else a quarter of
   * the window up to MAX_REPLY_RESERVE) and the prompt; with no window known, no limit.
   */
  budget: ContextBudget
  /** Default 'truncate'. */
  contextStrategy?: ContextStrategy
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

  /** The session is in a store that keeps it (not --no-save, not memory after a failed write): another run can continue it. */
  get kept(): boolean {
    return this.stored && this.options.persistent
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

  /**
   * Continues in a fork of this session (SessionStore.fork: all its messages, the parent recorded),
   * with the same provider and model; the original is left as it is. Throws INVALID_INPUT before the
   * session holds anything to fork.
   */
  async fork(title?: string): Promise<Session> {
    if (!this.stored) throw nothingTo('fork')
    this.session = await this.options.store.fork(this.session.id, title === undefined ? {} : {title})
    return this.session
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

    // Asked for now, so that the data loads while the request is under way.
    const askedFacts = this.factsOf(turn.model, turn.model)
    // Without its history a turn would be a different conversation: a failed read is an error.
    const {asked, replacing} = reuse
    const replacedIds = new Set(replacing ? [replacing.question.id, ...(replacing.reply ? [replacing.reply.id] : [])] : [])
    const history = (await store.messages(sessionId)).filter(m => !replacedIds.has(m.id) && !(m.replyTo !== null && replacedIds.has(m.replyTo)))
    const plan = await this.plan(history, turn, askedFacts)
    let {context} = plan
    let summaryError: string | undefined
    let created = false
    if (this.options.contextStrategy === 'summarize' && context.left.length > 0 && plan.historyBudget !== undefined) {
      const made = await this.summarize(history, turn, plan.count, plan.historyBudget, save)
      if (typeof made === 'string') summaryError = made
      else {
        context = buildContext(this.session.systemPrompt, [...history, made], turn.prompt, {...budget, maxTokens: plan.historyBudget}, plan.count)
        created = true
      }
    }
    const summary = context.summary ? {covered: context.summary.covered, created, range: context.summary.range} : undefined
    // Pending until its reply commits: no other turn (in this process or another) sends it meanwhile.
    const [userMessage] = asked ? [asked] : ((await save(() => store.append(sessionId, [{content: turn.prompt, role: 'user', status: 'pending'}]))) ?? [])
    const replaced: Replaced | undefined = replacing && {
      ...(asked ? {} : {question: replacing.question.id}),
      ...(replacing.reply ? {reply: replacing.reply.id} : {}),
    }
    if (userMessage) turn.onQuestion?.(userMessage)
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
        const usage = await countedUsage(event.usage, context.messages, reply, turn.model)
        const cost = replyCost(usage, await this.factsOf(event.model, turn.model, askedFacts), event.usage.costUsd)
        // A reply is stored only beside its question: without it, later requests would carry an
        // answer to nothing.
        if (userMessage)
          committed = Boolean(
            await save(() =>
              store.appendReply(
                sessionId,
                userMessage.id,
                {
                  ...usage,
                  ...cost,
                  content: reply,
                  durationMs,
                  finishReason: event.finishReason,
                  model: event.model,
                  provider: provider.name,
                  role: 'assistant',
                },
                {replaces: replaced},
              ),
            ),
          )
        return this.result({
          cost,
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
          summary,
          summaryError,
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
      // A retry that fails changes nothing: the question keeps the reply it had.
      if (userMessage && !asked) {
        // What arrived is kept, marked interrupted (Ctrl-C, or a connection lost mid-reply). With
        // nothing to keep, the question is marked failed so the next turn does not resend it; so is
        // an edited question whatever arrived, as its reply would replace the old exchange.
        await save(async () => {
          if (reply === '' || replacing) await store.updateMessage(sessionId, userMessage.id, {metadata, status: 'error'})
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
        summary,
        summaryError,
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
   * The context of this turn and how it was counted. The budget is the configured one, else the
   * model's context window less the reserve and the prompt. A conversation that fits even at one
   * token a byte (no tokenizer makes more) is sent whole without counting; otherwise it is counted
   * as item 2 counts a reply: the model family's tokenizer, or the estimate.
   */
  private async plan(
    history: Message[],
    turn: TurnOptions,
    askedFacts: Promise<ModelFacts | null>,
  ): Promise<{context: Context; count?: (text: string) => number; historyBudget?: number}> {
    const {budget} = this.options
    const system = this.session.systemPrompt
    const whole = buildContext(system, history, turn.prompt, {...budget, maxTokens: 0})
    const window = budget.maxTokens > 0 ? 0 : ((await askedFacts)?.contextWindow ?? 0)
    if (budget.maxTokens === 0 && window === 0) return {context: whole}
    const reserve = turn.maxTokens ?? Math.min(MAX_REPLY_RESERVE, Math.floor(window / 4))
    const fixed: ChatMessage[] = [...(system ? [{content: system, role: 'system' as const}] : []), {content: turn.prompt, role: 'user'}]
    const ceiling = budget.maxTokens > 0 ? tokenCeiling(whole.messages) - tokenCeiling(fixed) : tokenCeiling(whole.messages) + reserve
    if (ceiling <= (budget.maxTokens > 0 ? budget.maxTokens : window)) return {context: whole}
    const counter = await tokenCounter(turn.model)
    const count = (text: string) => counter.countText(text) + PER_MESSAGE
    const historyBudget = budget.maxTokens > 0 ? budget.maxTokens : Math.max(1, window - reserve - counter.countMessages(fixed))
    return {context: buildContext(system, history, turn.prompt, {...budget, maxTokens: historyBudget}, count), count, historyBudget}
  }

  /**
   * Asks the model for a summary of the turns the budget leaves out (with the summary before it, if
   * any) and stores it as a system message covering their positions, before the turn's question. The
   * budget first keeps room for the summary. Returns the summary message (kept in memory when it
   * cannot be stored), or why there is none: a failed or empty request costs nothing but the summary.
   */
  private async summarize(
    history: Message[],
    turn: TurnOptions,
    count: ((text: string) => number) | undefined,
    historyBudget: number,
    save: <T>(work: () => Promise<T>) => Promise<T | undefined>,
  ): Promise<Message | string> {
    const {provider, store} = this.options
    const allowance = Math.max(1, Math.min(SUMMARY_MAX_TOKENS, Math.floor(historyBudget / 4)))
    const roomy = buildContext(this.session.systemPrompt, history, turn.prompt, {...this.options.budget, maxTokens: historyBudget - allowance}, count)
    const {left} = roomy
    if (left.length === 0) return 'nothing to summarise'
    const previous = roomy.summary?.message
    const from = roomy.summary?.range.from ?? Math.min(...left.map(m => m.position))
    const questions = left.filter(m => m.role !== 'assistant')
    const to = Math.max(...(questions.length > 0 ? questions : left).map(m => m.position))
    // The newest turns first, as many as one request holds; older ones the summary before covers.
    const measure = count ?? ((text: string) => Math.ceil(text.length / 4))
    const lines: string[] = []
    let room = historyBudget
    for (const m of [...left].reverse()) {
      const line = `${m.role}: ${m.content}`
      room -= measure(line)
      if (room < 0 && lines.length > 0) break
      lines.unshift(line)
    }
    const request: ChatMessage[] = [
      {content: SUMMARY_INSTRUCTION, role: 'system'},
      {content: `${previous ? `An earlier summary of the conversation:\n${previous.content}\n\n` : ''}The conversation:\n${lines.join('\n\n')}`, role: 'user'},
    ]
    let text = ''
    let done: Extract<StreamEvent, {type: 'done'}> | undefined
    try {
      for await (const event of provider.stream(request, {maxTokens: allowance, model: turn.model, signal: turn.signal})) {
        if (event.type === 'delta') text += event.text
        else done = event
      }
    } catch (error) {
      return `the summary request failed (${error instanceof Error ? error.message : String(error)})`
    }
    if (!done || text.trim() === '') return 'the model returned an empty summary'
    const usage = await countedUsage(done.usage, request, text, turn.model)
    const cost = replyCost(usage, await this.factsOf(done.model, turn.model), done.usage.costUsd)
    const record = {
      ...usage,
      ...cost,
      content: text.trim(),
      metadata: {[SUMMARY_KEY]: {from, to}},
      model: done.model,
      provider: provider.name,
      role: 'system' as const,
    }
    const [stored] = (await save(() => store.append(this.session.id, [record]))) ?? []
    if (stored && summaryRangeOf(stored)) return stored
    // Not stored: still sent this turn, standing where it would have been stored.
    return {
      ...record,
      createdAt: new Date(),
      durationMs: null,
      finishReason: done.finishReason,
      hiddenAt: null,
      id: '',
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      position: Math.max(-1, ...history.map(m => m.position)) + 1,
      replyTo: null,
      sessionId: this.session.id,
      status: 'complete',
      supersededBy: null,
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
    replaced?: Replaced
    durationMs: number
    finishReason: null | string
    firstTokenAt: null | number
    model: string
    omitted: number
    reply: string
    saveError: unknown
    started: number
    status: 'complete' | 'interrupted'
    summary?: TurnResult['summary']
    summaryError?: string
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
      ...(parts.replaced === undefined ? {} : {replaced: parts.replaced}),
      saved: this.options.persistent && parts.saveError === undefined,
      ...(parts.saveError === undefined ? {} : {saveError: parts.saveError}),
      sessionId: this.session.id,
      status: parts.status,
      ...(parts.summary ? {summary: parts.summary} : {}),
      ...(parts.summaryError === undefined ? {} : {summaryError: parts.summaryError}),
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
