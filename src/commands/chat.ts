import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../cli/base-command.js'
import {paint, printable, truncate, writeOutput} from '../cli/output.js'
import {replyUsageLine} from '../cli/views/usage.js'
import {runtime} from '../cli/runtime.js'
import {Spinner} from '../cli/spinner.js'
import type {Conversation, TurnOptions, TurnResult, TurnUsage} from '../chat/conversation.js'
import {editText} from '../chat/editor.js'
import {composePrompt, readPipedStdin} from '../chat/input.js'
import {interruptedNotice} from '../chat/notices.js'
import {findSession, startConversation} from '../chat/start.js'
import {messageJson, type MessageJson} from '../cli/views/sessions.js'
import {describeWithRemedy, InvalidInputError} from '../core/errors.js'
import {terminalSafe} from '../core/terminal-text.js'
import {formatWarning, loadProviderRegistry} from '../plugins/extensions.js'

export interface ChatResult {
  /** What the reply cost in US dollars and where that came from ('provider', 'config', or the shipped prices with their date); null when unknown. */
  cost: {costSource: null | string; costUsd: null | number}
  durationMs: number
  finishReason: null | string
  model: string
  provider: string
  reply: string
  saved: boolean
  sessionId: string
  /** With --retry or --edit, once the new reply is stored: the ids of the old question (--edit) and reply it replaced. */
  replaced?: {question?: string; reply?: string}
  status: 'complete' | 'interrupted'
  /** The provider's counts, or synapse's own where it reported none (tokenSource 'tokenizer' or 'estimate'). */
  usage: TurnUsage
}

/** `synapse -c --undo --json`: the messages taken out of the conversation, as they are stored now. */
export interface ChatUndoResult {
  sessionId: string
  undone: MessageJson[]
}

/**
 * What `synapse --json` prints beside `error` when a one-shot turn fails once its session is stored
 * (a dropped connection, a server error after the retries): the session to continue with -s, and
 * the question when it was stored (marked "error", or answered by the partial reply, marked "interrupted").
 */
export interface ChatErrorContext {
  questionId?: string
  sessionId?: string
}

/** The one-shot ways to reuse the last exchange; each needs -c or -s. */
const REUSE_FLAGS = ['retry', 'edit', 'undo'] as const

const floatFlag = Flags.custom<number>({
  async parse(input) {
    const value = Number(input)
    if (input.trim() === '' || !Number.isFinite(value)) throw new InvalidInputError(`Expected a number, not "${input}".`)
    return value
  },
})

export default class Chat extends StoreCommand {
  static args = {
    // oclif would otherwise read a missing argument from stdin, taking the piped text and the REPL's input.
    prompt: Args.string({description: 'What to ask. Quotes are optional: all words are joined.', ignoreStdin: true}),
  }
  static description =
    `A bare prompt runs this command: \`synapse "Hello"\` is \`synapse chat "Hello"\`. The reply streams as it arrives and both messages are saved in a new session, or in the one named with -s, or the latest with -c. Text piped in is added after the prompt, or is the prompt. Ctrl-C stops a reply and keeps what arrived, marked interrupted (exit 130).`
  static examples = [
    '<%= config.bin %> "Explain WAL mode in SQLite"',
    '<%= config.bin %> -c "And how does it compare to a rollback journal?"',
    '<%= config.bin %> -s 01JX4Q2B "Go on"',
    '<%= config.bin %> -s "Release notes" "Add the new flags"   # a session by its exact title',
    'git diff | <%= config.bin %> "Write a commit message for this"',
    '<%= config.bin %> -m gpt-4o --system "Answer in French." "Hello"',
    '<%= config.bin %> --json "2+2?" | jq -r .reply',
    'OPENAI_BASE_URL=http://127.0.0.1:11434/v1 <%= config.bin %> -m llama3.2 "Hi"   # a local Ollama',
    '<%= config.bin %> -r     # an interactive session; /help lists its commands',
    '<%= config.bin %> -c --retry              # ask the last question again; the new reply replaces the old',
    '<%= config.bin %> -c --edit               # rewrite the last question in $VISUAL/$EDITOR and send it instead',
    '<%= config.bin %> -s 01JX4Q2B --edit "Shorter, please"',
    '<%= config.bin %> -c --undo               # take the last question and reply out of the conversation',
  ]
  static flags = {
    continue: Flags.boolean({char: 'c', description: 'Continue the most recently updated session.', exclusive: ['session']}),
    edit: Flags.boolean({
      description:
        'With -c or -s: send a new version of the last question in its place (the prompt given, else the last one opened in $VISUAL or $EDITOR); the old question and reply stay stored, out of the conversation.',
      exclusive: ['retry', 'undo', 'repl'],
    }),
    'max-tokens': Flags.integer({description: 'Longest reply, in tokens.', min: 1}),
    model: Flags.string({char: 'm', description: 'Model to use (default: the session’s, then the config’s, then the provider’s).'}),
    provider: Flags.string({char: 'p', description: 'Provider to use (default: the session’s, then [provider] default).'}),
    raw: Flags.boolean({description: 'At a terminal too, print replies as the model wrote them (Markdown), not rendered.'}),
    repl: Flags.boolean({char: 'r', description: 'Talk interactively; with -c or -s, resume that session.'}),
    retry: Flags.boolean({
      description: 'With -c or -s: ask the last question again; the new reply replaces the old one, which stays stored. Takes no prompt.',
      exclusive: ['edit', 'undo', 'repl'],
    }),
    save: Flags.boolean({allowNo: true, default: true, description: 'Save the exchange (--no-save: nothing is written).'}),
    session: Flags.string({char: 's', description: 'Continue this session (its id, a unique prefix of it, or its exact title).'}),
    system: Flags.string({description: 'System prompt, stored on the session.'}),
    temperature: floatFlag({description: 'Sampling temperature, e.g. 0.2.'}),
    title: Flags.string({char: 't', description: 'Title of the session.'}),
    undo: Flags.boolean({
      description: 'With -c or -s: take the last question and its reply out of the conversation (they stay stored). Sends nothing.',
      exclusive: ['edit', 'retry', 'repl'],
    }),
    verbose: Flags.boolean({char: 'v', description: 'Report the reply’s tokens and cost, context trimming and timing on stderr.'}),
  }
  static strict = false
  static summary = 'Ask a model; the conversation is saved as a session.'

  /** The one-shot conversation and the question its turn stored, for the --json error output. */
  private asked?: {conversation: Conversation; questionId?: string}

  async run(): Promise<ChatResult | ChatUndoResult | undefined> {
    const {argv, flags} = await this.parse(Chat)
    if (!runtime.config) throw runtime.openError
    const words = (argv as string[]).join(' ')
    // The REPL is a conversation on the terminal: it has no one JSON value to print.
    if (flags.repl && this.jsonEnabled())
      throw new InvalidInputError('--json and -r/--repl cannot be used together.', {suggestions: ['See "synapse chat --help".']})
    const reuse = REUSE_FLAGS.find(flag => flags[flag])
    if (reuse) {
      if (!flags.continue && !flags.session)
        throw new InvalidInputError(`--${reuse} works on a session: add -c (the most recent) or -s <id>.`, {
          suggestions: [`Example: synapse -c --${reuse}`],
        })
      if (reuse !== 'edit' && words.trim() !== '')
        throw new InvalidInputError(`--${reuse} takes no prompt.`, {suggestions: ['To send a new version of the last question, use --edit "…".']})
    }
    if (flags.undo) return this.undo({continueLatest: flags.continue, sessionId: flags.session})
    // --retry asks a stored question; --edit reads a prompt from the arguments or a pipe when given one, else opens the editor.
    const piped = flags.repl || flags.retry ? undefined : await readPipedStdin()
    const given = flags.edit && words.trim() === '' && (piped ?? '').trim() === '' ? undefined : words
    const prompt = flags.repl || flags.retry || given === undefined ? '' : composePrompt(words, piped)

    const {registry, warnings} = await loadProviderRegistry(this.config)
    for (const warning of warnings) process.stderr.write(`${formatWarning(warning)}\n`)
    const started = await startConversation(
      {
        config: runtime.config,
        openError: runtime.openError,
        openReadOnly: runtime.openReadOnly,
        registry,
        store: runtime.openError ? undefined : runtime.store,
      },
      {
        continueLatest: flags.continue,
        createLazily: flags.repl,
        model: flags.model,
        provider: flags.provider,
        save: flags.save,
        sessionId: flags.session,
        system: flags.system,
        title: flags.title,
      },
    )
    if (started.notSavedBecause !== undefined) this.warnNotSaved(started.notSavedBecause)

    if (flags.repl) {
      const {runRepl} = await import('../chat/repl.js')
      const {ReplHistory, replHistoryPath} = await import('../chat/repl-history.js')
      // Only what a person types is worth recalling; --no-save writes nothing, not even this.
      const history = process.stdin.isTTY ? ReplHistory.load(replHistoryPath(), {onError: error => this.warnHistory(error), persist: flags.save}) : undefined
      const outcome = await runRepl({
        config: runtime.config,
        conversation: started.conversation,
        history,
        maxTokens: flags['max-tokens'],
        model: started.model,
        render: this.style.terminal && !flags.raw,
        resumed: Boolean(flags.continue || flags.session),
        style: this.style,
        temperature: flags.temperature,
      })
      // On a pipe, turns that could not be saved are a failure for the script to notice, as in one shot.
      const unsaved = started.notSavedBecause !== undefined && outcome.turns > 0 && !process.stdin.isTTY
      const exitCode = outcome.exitCode === 0 && unsaved ? 1 : outcome.exitCode
      if (exitCode !== 0) this.exit(exitCode)
      return
    }

    const {conversation} = started
    this.asked = {conversation}
    let ask: (turn: TurnOptions) => Promise<TurnResult> = turn => conversation.send(turn)
    if (flags.retry) ask = ({prompt: _, ...turn}) => conversation.retry(turn)
    if (flags.edit) {
      const last = await conversation.lastExchange()
      const edited = given === undefined && last ? await editText(last.question.content) : prompt
      const unsent = {exitCode: 1, suggestions: ['Change the prompt, or ask it again as it is with --retry.']}
      if (last && edited.trim() === '') throw new InvalidInputError('The edited prompt is empty; nothing was sent.', unsent)
      if (last && edited === last.question.content) throw new InvalidInputError('The prompt is unchanged; nothing was sent.', unsent)
      ask = turn => conversation.edit({...turn, prompt: edited})
    }
    const result = await this.oneShot(ask, prompt, started.model, flags)
    if (result.saveError !== undefined) this.warnNotSaved(result.saveError)
    if (flags.verbose) this.report(result)
    const json: ChatResult = {
      cost: result.cost,
      durationMs: result.durationMs,
      finishReason: result.finishReason,
      model: result.model,
      provider: result.provider,
      reply: result.reply,
      saved: result.saved,
      sessionId: result.sessionId,
      status: result.status,
      usage: result.usage,
      ...(result.replaced ? {replaced: result.replaced} : {}),
    }
    if (result.status === 'interrupted') {
      if (this.jsonEnabled()) this.logJson(json)
      const kind = flags.retry ? 'retry' : flags.edit ? 'edit' : 'send'
      process.stderr.write(`${paint(this.errorStyle, 'yellow', interruptedNotice(kind, result.saved, result.reply))}\n`)
      this.exit(130)
    }
    if (started.notSavedBecause !== undefined || result.saveError !== undefined) process.exitCode = 1
    return json
  }

  protected errorContext(): ChatErrorContext {
    if (!this.asked?.conversation.kept) return {}
    const {conversation, questionId} = this.asked
    return {...(questionId === undefined ? {} : {questionId}), sessionId: conversation.session.id}
  }

  private async oneShot(
    ask: (turn: TurnOptions) => Promise<TurnResult>,
    prompt: string,
    model: string,
    flags: {json?: boolean; 'max-tokens'?: number; raw?: boolean; temperature?: number},
  ): Promise<TurnResult> {
    const streaming = !this.jsonEnabled()
    // Rendered only for a person: a pipe, --json and --raw get the model's Markdown as it is.
    const markdown =
      streaming && process.stdout.isTTY && !flags.raw
        ? new (await import('../cli/markdown/index.js')).MarkdownStream({style: this.style, width: process.stdout.columns})
        : undefined
    const controller = new AbortController()
    let interrupts = 0
    // The first Ctrl-C stops the reply and lets it be saved; a second one leaves at once.
    const onInterrupt = () => {
      interrupts++
      if (interrupts === 1) controller.abort()
      else process.exit(130)
    }
    process.on('SIGINT', onInterrupt)
    const spinner = streaming && process.stdout.isTTY ? new Spinner(process.stderr, 'Thinking…').start() : undefined
    let endsWithNewline = true
    try {
      const result = await ask({
        maxTokens: flags['max-tokens'],
        model,
        onDelta: text => {
          spinner?.stop()
          if (!streaming || text === '') return
          if (markdown) return void writeOutput(markdown.push(text))
          // A reply piped to a file is the user's data, byte for byte; a terminal must not run it.
          writeOutput(process.stdout.isTTY ? terminalSafe(text, {multiline: true}) : text)
          endsWithNewline = text.endsWith('\n')
        },
        onQuestion: question => {
          if (this.asked) this.asked.questionId = question.id
        },
        prompt,
        signal: controller.signal,
        temperature: flags.temperature,
      })
      return result
    } finally {
      spinner?.stop()
      // What the renderer still holds (a line without its newline, a table) is written, interrupted or not.
      if (markdown) writeOutput(markdown.end())
      else if (streaming && !endsWithNewline) writeOutput('\n')
      process.off('SIGINT', onInterrupt)
    }
  }

  /** --undo: no request, so no provider and no key are needed; only the store. */
  private async undo(options: {continueLatest?: boolean; sessionId?: string}): Promise<ChatUndoResult> {
    const session = await findSession(this.store, options)
    const {question, reply} = await this.store.undo(session.id)
    const undone = reply ? [question, reply] : [question]
    this.log(
      terminalSafe(
        `Took ${reply ? 'the last question and its reply' : 'the last question'} out of session ${session.id}: "${truncate(printable(question.content), 60)}".`,
      ),
    )
    this.log(paint(this.style, 'dim', `Still stored; "synapse sessions show ${session.id} --all" shows ${reply ? 'them' : 'it'}.`))
    return {sessionId: session.id, undone: undone.map(m => messageJson(m))}
  }

  private report(result: TurnResult): void {
    const parts = [`${result.provider}/${result.model}`, `${result.durationMs} ms`]
    if (result.timeToFirstTokenMs !== null) parts.push(`first token ${result.timeToFirstTokenMs} ms`)
    const usage = replyUsageLine({...result.usage, costUsd: result.cost.costUsd})
    if (usage) parts.push(usage)
    if (result.summary) {
      const {covered, created, range} = result.summary
      parts.push(
        `${covered} earlier ${covered === 1 ? 'message' : 'messages'} (positions ${range.from}–${range.to}) sent as a summary${created ? ' made for this turn' : ''}`,
      )
    }
    if (result.summaryError) parts.push(`no summary: ${result.summaryError}`)
    parts.push(`${result.omitted} earlier ${result.omitted === 1 ? 'message' : 'messages'} left out of the context`)
    process.stderr.write(`${paint(this.errorStyle, 'dim', terminalSafe(parts.join(' · ')))}\n`)
  }

  private warnHistory(error: unknown): void {
    const why = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${paint(this.errorStyle, 'yellow', 'Warning:')} the REPL history is not kept: ${why}\n`)
  }

  private warnNotSaved(reason: unknown): void {
    process.stderr.write(
      `${paint(this.errorStyle, 'yellow', 'Warning:')} this conversation was not saved: ${terminalSafe(describeWithRemedy(reason), {multiline: true})}\n`,
    )
  }
}
