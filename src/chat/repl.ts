import {createInterface} from 'node:readline'

import {type OutputStyle, paint, plural} from '../cli/output.js'
import type {LoadedConfig} from '../config/index.js'
import {isSynapseError} from '../core/errors.js'
import {applyRetention, cleanupNotice} from '../core/retention.js'
import type {Message} from '../store/session-store.js'
import type {Conversation} from './conversation.js'

export interface ReplOptions {
  /** How often retention runs during a long session (auto_cleanup). Default 10 minutes. */
  cleanupIntervalMs?: number
  config: LoadedConfig
  conversation: Conversation
  errors?: NodeJS.WritableStream
  input?: NodeJS.ReadableStream & {isTTY?: boolean}
  maxTokens?: number
  model: string
  output?: NodeJS.WritableStream
  /** Show the last exchanges first: the session was resumed with -c or -s. */
  resumed: boolean
  style: OutputStyle
  temperature?: number
}

export interface ReplOutcome {
  /** 0 after /exit or end of input; 130 after Ctrl-C at the prompt or twice during a reply. */
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
  ['/session', 'id, title and model of this session'],
  ['/model NAME', 'use another model from now on'],
] as const

const RESUME_MESSAGES = 6

/**
 * The interactive loop. Lines are prompts, or slash commands. Ctrl-C during a reply stops it and
 * keeps what arrived (saved as interrupted); the loop goes on. Ctrl-C at the prompt, or a second one
 * during the same reply, leaves. Works the same on a terminal and on a pipe (how tests drive it),
 * but prints prompts only on a terminal.
 */
export async function runRepl(options: ReplOptions): Promise<ReplOutcome> {
  const input = options.input ?? process.stdin
  const output = options.output ?? process.stdout
  const errors = options.errors ?? process.stderr
  const {conversation, style} = options
  const terminal = Boolean(input.isTTY)
  const say = (text = '') => output.write(`${text}\n`)
  const warn = (text: string) => errors.write(`${text}\n`)
  let model = options.model
  let exitCode = 0
  // The sessions this REPL has worked in: its own periodic cleanup never deletes them.
  const ownSessions = new Set([conversation.session.id])
  let leaving = false
  let turns = 0
  let current: AbortController | undefined
  let interruptsThisTurn = 0
  let lastCleanup = Date.now()
  const cleanupInterval = options.cleanupIntervalMs ?? 10 * 60_000

  const rl = createInterface({input, output: terminal ? output : undefined, prompt: paint(style, 'green', '> '), terminal})
  // Taken before the first await: readline drops lines that arrive before anyone iterates, and a
  // pipe delivers them at once.
  const lines = rl[Symbol.asyncIterator]()
  const leave = (code: number) => {
    exitCode = code
    leaving = true
    rl.close()
  }
  const onInterrupt = () => {
    if (!current) return leave(130)
    interruptsThisTurn++
    if (interruptsThisTurn === 1) current.abort()
    else leave(130)
  }
  rl.on('SIGINT', onInterrupt)
  process.on('SIGINT', onInterrupt)

  const describe = () => `session ${conversation.session.id} · ${conversation.provider.name}/${model}`
  say(paint(style, 'dim', `synapse · ${describe()} · /help for commands, /exit or Ctrl-D to leave`))
  if (options.resumed) {
    const recent = await conversation.store.messages(conversation.session.id, {last: RESUME_MESSAGES})
    for (const message of recent) say(formatMessage(message, style))
  }

  const commands: Record<string, (argument: string) => Promise<void> | void> = {
    async clear() {
      const cleared = await conversation.store.clear(conversation.session.id)
      say(`Cleared ${plural(cleared, 'message')}.`)
    },
    async count() {
      const messages = await conversation.store.messages(conversation.session.id)
      say(`${plural(messages.length, 'message')} in this session.`)
    },
    exit: () => leave(0),
    help() {
      for (const [name, what] of HELP) say(`${name.padEnd(12)} ${what}`)
    },
    async history() {
      const messages = await conversation.store.messages(conversation.session.id)
      if (messages.length === 0) say('No messages yet.')
      for (const message of messages) say(formatMessage(message, style))
    },
    async model(argument) {
      if (!argument) return void say(`Model: ${conversation.provider.name}/${model}`)
      await conversation.use(conversation.provider, argument)
      model = argument
      say(`Using ${conversation.provider.name}/${model} from now on.`)
    },
    async new() {
      const session = await conversation.startNew()
      ownSessions.add(session.id)
      say(`New session ${session.id}.`)
    },
    quit: () => leave(0),
    async session() {
      const {session} = conversation
      const count = (await conversation.store.messages(session.id)).length
      say(`Session ${session.id}${session.title ? ` "${session.title}"` : ''} · ${conversation.provider.name}/${model} · ${plural(count, 'message')}`)
    },
  }

  try {
    if (terminal) rl.prompt()
    for await (const line of {[Symbol.asyncIterator]: () => lines}) {
      const text = line.trim()
      if (text.startsWith('/')) {
        const [name, ...rest] = text.slice(1).split(/\s+/)
        const command = commands[name.toLowerCase()]
        try {
          if (command) await command(rest.join(' '))
          else warn(`Unknown command /${name}; /help lists them.`)
        } catch (error) {
          reportError(error, warn, style)
        }
      } else if (text !== '') {
        await turn(text)
      }
      // Lines already read from a pipe stay queued after the input closes; only leaving stops them.
      if (leaving) break
      if (terminal) rl.prompt()
    }
  } finally {
    rl.off('SIGINT', onInterrupt)
    process.off('SIGINT', onInterrupt)
    rl.close()
  }
  return {exitCode, turns}

  async function turn(prompt: string): Promise<void> {
    current = new AbortController()
    interruptsThisTurn = 0
    let endsWithNewline = true
    try {
      const result = await conversation.send({
        maxTokens: options.maxTokens,
        model,
        onDelta: (text) => {
          if (text === '') return
          output.write(text)
          endsWithNewline = text.endsWith('\n')
        },
        prompt,
        signal: current.signal,
        temperature: options.temperature,
      })
      if (!endsWithNewline) output.write('\n')
      turns++
      if (result.status === 'interrupted') warn(paint(style, 'yellow', 'Interrupted; the reply so far is kept.'))
      if (result.saveError !== undefined) warn(`${paint(style, 'yellow', 'Warning:')} not saved: ${messageOf(result.saveError)}`)
      await cleanupIfDue()
    } catch (error) {
      if (!endsWithNewline) output.write('\n')
      reportError(error, warn, style)
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

function formatMessage(message: Message, style: OutputStyle): string {
  const who = message.role === 'user' ? paint(style, 'green', 'you') : paint(style, 'cyan', message.role)
  const mark = message.status === 'complete' ? '' : paint(style, 'yellow', ` (${message.status})`)
  return `${paint(style, 'bold', who)}${mark}: ${message.content}`
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function reportError(error: unknown, warn: (text: string) => void, style: OutputStyle): void {
  warn(`${paint(style, 'red', 'Error:')} ${messageOf(error)}`)
  if (isSynapseError(error)) for (const hint of error.suggestions) warn(`  ${paint(style, 'dim', '→')} ${hint}`)
}
