import type {MarkdownStream} from '../cli/markdown/index.js'
import {localTimestamp, type OutputStyle, paint, printable, plural, truncate} from '../cli/output.js'
import type {LoadedConfig} from '../config/index.js'
import {closest} from '../config/values.js'
import {SynapseError} from '../core/errors.js'
import {applyRetention, cleanupNotice} from '../core/retention.js'
import {terminalSafe} from '../core/terminal-text.js'
import type {Message} from '../store/session-store.js'
import type {Conversation, TurnOptions, TurnResult} from './conversation.js'
import {editText} from './editor.js'
import {earlierStays, interruptedNotice, type TurnKind} from './notices.js'
import type {ReplHistory} from './repl-history.js'
import {ReplInput} from './repl-input.js'

export interface ReplOptions {
  /** How often retention runs during a long session (auto_cleanup). Default 10 minutes. */
  cleanupIntervalMs?: number
  config: LoadedConfig
  conversation: Conversation
  /** Where /edit finds $VISUAL and $EDITOR; process.env by default. */
  env?: NodeJS.ProcessEnv
  errors?: NodeJS.WritableStream
  /** What the up arrow offers, and where new entries go; this run's only by default. */
  history?: ReplHistory
  input?: NodeJS.ReadableStream & {isTTY?: boolean}
  maxTokens?: number
  model: string
  output?: NodeJS.WritableStream & {columns?: number}
  /** Render replies' Markdown (at a terminal, without --raw); otherwise they are printed as they are. */
  render?: boolean
  /** Show the last exchanges first: the session was resumed with -c or -s. */
  resumed: boolean
  style: OutputStyle
  temperature?: number
}

export interface ReplOutcome {
  /**
   * 0 after /exit or end of input; 130 after Ctrl-C at the prompt or twice during a reply. On a
   * pipe, 1 instead of 0 when anything failed on the way (a request, a command, a save), as a
   * script's caller needs to know; a person at a terminal has seen each error already.
   */
  exitCode: number
  turns: number
}

const HELP = [
  ['/help', 'this list'],
  ['/exit', 'leave (also Ctrl-D, or Ctrl-C at the prompt)'],
  ['/new', 'start a fresh session'],
  ['/clear', 'delete this session’s messages, keep the session'],
  ['/count', 'how many messages the session holds'],
  ['/history', 'print the whole conversation'],
  ['/retry', 'ask the last question again; the new reply replaces the old one'],
  ['/edit', 'rewrite the last question in $VISUAL or $EDITOR and send it in its place'],
  ['/undo', 'take the last question and its reply out of the conversation'],
  ['/fork TITLE', 'continue in a copy of this session (TITLE optional); the original stays as it is'],
  ['/session', 'id, title and model of this session'],
  ['/model NAME', 'use another model from now on'],
] as const

const RESUME_MESSAGES = 6

/** What TAB completes: every command HELP lists, and the alias. */
const COMMAND_NAMES = [...HELP.map(([usage]) => usage.split(' ')[0]), '/quit']

/**
 * The interactive loop. Messages are prompts, or slash commands; a message is a line, a paste, a
 * `"""` block or lines continued with a trailing backslash (see ReplInput). Ctrl-C during a reply
 * stops it and keeps what arrived (saved as interrupted); the loop goes on. Ctrl-C at the prompt
 * drops what was typed; on an empty prompt, or a second time during the same reply, it leaves.
 * Works the same on a terminal and on a pipe (how tests drive it), but prints prompts, asks before
 * /clear and keeps a history only on a terminal.
 */
export async function runRepl(options: ReplOptions): Promise<ReplOutcome> {
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stdout
  const errors = options.errors ?? process.stderr
  const {conversation, style} = options
  const terminal = Boolean(input.isTTY)
  const say = (text = '') => output.write(`${text}\n`)
  const warn = (text: string) => errors.write(`${text}\n`)
  // Loaded with the first message rendered, not with the REPL.
  const markdown = options.render ? await import('../cli/markdown/index.js') : undefined
  const show = (message: Message) =>
    formatMessage(message, style, markdown && ((text: string) => markdown.renderMarkdown(text, {style, width: output.columns})))
  let model = options.model
  let exitCode = 0
  // Something went wrong on the way; the loop went on with the next message all the same.
  let failed = false
  const fail = (error: unknown) => {
    failed = true
    reportError(error, warn, style)
  }
  // The sessions this REPL has worked in: its own periodic cleanup never deletes them.
  const ownSessions = new Set([conversation.session.id])
  let leaving = false
  let turns = 0
  let current: AbortController | undefined
  let interruptsThisTurn = 0
  // While a pager shows /history or an editor runs for /edit, Ctrl-C is theirs.
  let handedOver = false
  let lastCleanup = Date.now()
  const cleanupInterval = options.cleanupIntervalMs ?? 10 * 60_000

  const reader = new ReplInput({
    commands: COMMAND_NAMES,
    continuationPrompt: paint(style, 'green', '… '),
    history: options.history,
    input,
    output,
    prompt: paint(style, 'green', '> '),
    terminal,
  })
  // Leaving from the prompt (Ctrl-D, Ctrl-C) leaves the cursor after it: the shell's prompt needs a line of its own.
  let endLineOnLeaving = false
  const leave = (code: number) => {
    exitCode = code
    leaving = true
    reader.close()
  }
  const onInterrupt = () => {
    if (handedOver) return
    if (!current) {
      if (reader.discard()) return
      endLineOnLeaving = true
      return leave(130)
    }
    interruptsThisTurn++
    if (interruptsThisTurn === 1) current.abort()
    else leave(130)
  }
  reader.onInterrupt(onInterrupt)
  process.on('SIGINT', onInterrupt)

  const describe = () => terminalSafe(`session ${conversation.session.id} · ${conversation.provider.name}/${model}`)
  say(paint(style, 'dim', `synapse · ${describe()} · /help for commands, /exit or Ctrl-D to leave`))
  if (options.resumed) {
    const recent = await conversation.messages({current: true, last: RESUME_MESSAGES})
    for (const message of recent) say(show(message))
  }

  const commands: Record<string, (argument: string) => Promise<void> | void> = {
    async clear() {
      // A script that pipes /clear in means it; a person at a terminal may have mistyped.
      if (terminal) {
        const count = (await conversation.messages()).length
        if (count > 0) {
          const answer = await reader.ask(`Delete the ${plural(count, 'message')} of this session? [y/N] `)
          if (!/^y(es)?$/i.test(answer?.trim() ?? '')) return void say('Nothing deleted.')
        }
      }

      const cleared = await conversation.clear()
      say(`Cleared ${plural(cleared, 'message')}.`)
    },
    async count() {
      const messages = await conversation.messages()
      const current = (await conversation.messages({current: true})).length
      const out = messages.length - current
      say(`${plural(messages.length, 'message')} in this session${out > 0 ? `, ${out} of them taken out of the conversation` : ''}.`)
    },
    async edit() {
      const last = await conversation.lastExchange()
      if (!last) {
        failed = true
        return void warn('There is nothing to edit: this conversation has no question in it yet.')
      }
      const original = last.question.content
      const edited = await handOver(() => editText(original, {env: options.env}))
      if (edited.trim() === '') return void say('The edited prompt is empty; nothing was sent.')
      if (edited === original) return void say('The prompt is unchanged; nothing was sent.')
      say(`${paint(style, 'bold', paint(style, 'green', 'you'))} ${paint(style, 'dim', '(edited)')}: ${terminalSafe(edited, {multiline: true})}`)
      await turn(run => conversation.edit({...run, prompt: edited}), 'edit')
    },
    exit: () => leave(0),
    async fork(argument) {
      const parent = conversation.session.id
      const fork = await conversation.fork(argument.trim() === '' ? undefined : argument.trim())
      ownSessions.add(fork.id)
      say(terminalSafe(`Forked session ${parent} into ${fork.id}${fork.title ? ` "${fork.title}"` : ''}; continuing in the fork.`))
    },
    help() {
      for (const [name, what] of HELP) say(`${name.padEnd(12)} ${what}`)
    },
    async history() {
      const messages = await conversation.messages({current: true})
      if (messages.length === 0) return void say('No messages yet.')
      const lines = messages.map(message => show(message))
      if (terminal && markdown) {
        // Taller than the screen, it goes through the pager, as sessions show does.
        const {page} = await import('../cli/pager.js')
        if (await handOver(() => page(lines.join('\n').split('\n'), {output: output as NodeJS.WriteStream}))) return
      }

      for (const line of lines) say(line)
    },
    async model(argument) {
      if (!argument) return void say(terminalSafe(`Model: ${conversation.provider.name}/${model}`))
      await conversation.use(conversation.provider, argument)
      model = argument
      say(terminalSafe(`Using ${conversation.provider.name}/${model} from now on.`))
    },
    async new() {
      const session = await conversation.startNew()
      ownSessions.add(session.id)
      say(`New session ${session.id}.`)
    },
    quit: () => leave(0),
    async retry() {
      await turn(run => conversation.retry(run), 'retry')
    },
    async undo() {
      const undone = await conversation.undo()
      const count = undone.reply ? 2 : 1
      say(
        `Took ${count === 2 ? 'the last question and its reply' : 'the last question'} out of the conversation: "${truncate(printable(undone.question.content), 60)}".`,
      )
      say(paint(style, 'dim', `Still stored; "synapse sessions show ${conversation.session.id} --all" shows ${count === 2 ? 'them' : 'it'}.`))
    },
    async session() {
      // Read again: the title may have been set since, with `synapse sessions rename` in another shell.
      const session = await conversation.refresh()
      const count = (await conversation.messages()).length
      say(
        terminalSafe(
          `Session ${session.id}${session.title ? ` "${session.title}"` : ''} · ${conversation.provider.name}/${model} · ${plural(count, 'message')}`,
        ),
      )
    },
  }

  try {
    for (;;) {
      const message = await reader.next()
      if (message === undefined) {
        if (leaving) break
        endLineOnLeaving = true
        if (reader.unfinished) {
          failed = true
          warn(paint(style, 'yellow', 'The unfinished message was not sent.'))
        }
        break
      }

      const {text} = message
      if (text.startsWith('/') && !message.literal) {
        const [name, ...rest] = text.slice(1).split(/\s+/)
        const command = commands[name.toLowerCase()]
        try {
          if (command) await command(rest.join(' '))
          else {
            failed = true
            const guess = closest(name, Object.keys(commands))
            warn(terminalSafe(`Unknown command /${name}; ${guess ? `did you mean /${guess}?` : '/help lists them.'}`))
          }
        } catch (error) {
          fail(error)
        }
      } else if (text !== '') {
        await turn(run => conversation.send({...run, prompt: text}), 'send')
      }

      // Lines already read from a pipe stay queued after the input closes; only leaving stops them.
      if (leaving) break
    }
  } finally {
    process.off('SIGINT', onInterrupt)
    reader.close()
    if (terminal && endLineOnLeaving) output.write('\n')
  }

  return {exitCode: exitCode === 0 && failed && !terminal ? 1 : exitCode, turns}

  /** Runs `task` with the terminal handed over (a pager, an editor), its Ctrl-C included. */
  async function handOver<T>(task: () => Promise<T>): Promise<T> {
    handedOver = true
    try {
      return await reader.handOver(task)
    } finally {
      handedOver = false
    }
  }

  /** One request: a new prompt, a retry or an edit (`ask` says which), its reply streamed as it arrives. */
  async function turn(ask: (run: Omit<TurnOptions, 'prompt'>) => Promise<TurnResult>, kind: TurnKind): Promise<void> {
    current = new AbortController()
    interruptsThisTurn = 0
    let endsWithNewline = true
    const rendering: MarkdownStream | undefined = markdown && new markdown.MarkdownStream({style, width: output.columns})
    const endReply = () => {
      if (rendering) output.write(rendering.end())
      else if (!endsWithNewline) output.write('\n')
    }

    try {
      const result = await ask({
        maxTokens: options.maxTokens,
        model,
        onDelta: text => {
          if (text === '') return
          if (rendering) return void output.write(rendering.push(text))
          output.write(terminalSafe(text, {multiline: true}))
          endsWithNewline = text.endsWith('\n')
        },
        signal: current.signal,
        temperature: options.temperature,
      })
      endReply()
      turns++
      if (result.status === 'interrupted') warn(paint(style, 'yellow', interruptedNotice(kind, result.saveError === undefined, result.reply)))
      else if (result.replaced)
        say(paint(style, 'dim', `This replaces the ${kind === 'retry' ? 'earlier reply' : 'earlier question and reply'}, still stored (sessions show --all).`))
      if (result.saveError !== undefined) {
        failed = true
        warn(`${paint(style, 'yellow', 'Warning:')} not saved: ${messageOf(result.saveError)}`)
      }
      await cleanupIfDue()
    } catch (error) {
      endReply()
      fail(error)
      // Refused before any request (nothing to retry), nothing could have been replaced either.
      const refused = error instanceof SynapseError && error.code === 'INVALID_INPUT'
      if (kind !== 'send' && !refused) warn(paint(style, 'dim', `Nothing was replaced: ${earlierStays(kind)}.`))
    } finally {
      current = undefined
    }
  }

  async function cleanupIfDue(): Promise<void> {
    const settings = options.config.settings.session
    if (!settings.autoCleanup || Date.now() - lastCleanup < cleanupInterval) return
    lastCleanup = Date.now()
    try {
      const notice = cleanupNotice(await applyRetention(conversation.store, settings, {protect: [...ownSessions, conversation.session.id]}), settings)
      if (notice) warn(notice)
    } catch (error) {
      warn(`${paint(style, 'yellow', 'Warning:')} retention cleanup failed: ${messageOf(error)}`)
    }
  }
}

/** `you: text`; rendered, a header with the local time and the reply's Markdown rendered under it. */
function formatMessage(message: Message, style: OutputStyle, render?: (markdown: string) => string): string {
  const who = message.role === 'user' ? paint(style, 'green', 'you') : paint(style, 'cyan', message.role)
  const mark = message.status === 'complete' ? '' : paint(style, 'yellow', ` (${message.status})`)
  if (!render) return `${paint(style, 'bold', who)}${mark}: ${terminalSafe(message.content, {multiline: true})}`
  const body = message.role === 'assistant' ? render(message.content).replace(/\n$/, '') : terminalSafe(message.content, {multiline: true})
  return `${paint(style, 'bold', who)}${mark} ${paint(style, 'dim', localTimestamp(message.createdAt))}\n${body}`
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function reportError(error: unknown, warn: (text: string) => void, style: OutputStyle): void {
  warn(`${paint(style, 'red', 'Error:')} ${terminalSafe(messageOf(error), {multiline: true})}`)
  if (error instanceof SynapseError) for (const hint of error.suggestions) warn(`  ${paint(style, 'dim', '→')} ${terminalSafe(hint, {multiline: true})}`)
}
