/**
 * What bin/main.js decides before oclif runs anything: whether the words on the command line are a
 * command or a prompt for `chat`, and what to say when they are neither quite. Kept apart from the
 * launcher so the rules are tested as plain functions (test/cli/routing.test.ts).
 *
 * The rule for a near miss: a prompt of at most MAX_TYPO_WORDS words whose first word is within
 * typoDistance() edits of a command or topic (case-insensitively, a swap of neighbouring letters
 * being one edit) is not sent. A real question is rarely that short and that close to "sessions" or
 * "models"; a mistyped command costs a paid request.
 * `chat` itself is no candidate (a near miss of it is a prompt, or meant to be one), and
 * `synapse chat "sesions list"` always sends, as everything after `chat` is a prompt.
 */
import {editDistance} from '../config/values.js'
import {SynapseError} from '../core/errors.js'
import {printReport} from './base-command.js'

/** Longer prompts are sent as they are: a question, not a command. */
export const MAX_TYPO_WORDS = 3

/**
 * The most edits `word` may be from `name` to count as a typo of it: none for a word under 3 letters,
 * 1 when the shorter of the two has at most 5 letters (so "hello" is no typo of "help"), else 2.
 */
export function typoDistance(word: string, name: string): number {
  if (word.length < 3) return 0
  return Math.min(word.length, name.length) <= 5 ? 1 : 2
}

/** Never offered as a correction: a near miss of `chat` is a prompt. */
const NOT_SUGGESTED = new Set(['chat'])

/** The names routing needs from oclif's Config: command ids (aliases included) and topic names, `:`-separated. */
export interface CommandNames {
  /** Commands that take no arguments at all (strict, no args): a word after one of them is an error. */
  argless?: string[]
  commands: string[]
  topics: string[]
}

/** A correction: the words to run instead, and how to show them (`synapse sessions list`). */
export interface Suggestion {
  argv: string[]
  shown: string
}

/**
 * The command `words` most likely meant, when its first word is a near miss of a command or topic
 * and the prompt is short; undefined when the words should go to the model as a prompt.
 * `words` are the arguments that are not flags; `rest` (flags included) is kept after the correction.
 */
export function suggestCommand(argv: string[], names: CommandNames, bin: string): Suggestion | undefined {
  const positional = argv.filter(word => !word.startsWith('-'))
  const words = positional.join(' ').split(/\s+/).filter(Boolean)
  if (words.length === 0 || words.length > MAX_TYPO_WORDS || positional[0] !== argv[0]) return undefined
  // A first argument of several words ("sesions list" quoted) is split the way the user meant it.
  const [first, ...after] = [...words, ...argv.slice(1).filter(word => word.startsWith('-'))]
  const roots = [...new Set([...names.topics, ...names.commands].map(id => id.split(':')[0]))].filter(root => !NOT_SUGGESTED.has(root))
  const root = nearest(first, roots)
  if (root === undefined) return undefined

  const second = after[0]
  const subcommands = names.commands.filter(id => id.startsWith(`${root}:`)).map(id => id.slice(root.length + 1))
  let corrected: string[]
  if (second !== undefined && !second.startsWith('-') && subcommands.length > 0) {
    const sub = subcommands.includes(second) ? second : nearest(second, subcommands)
    corrected = sub === undefined ? [root] : [root, sub, ...after.slice(1)]
  } else {
    corrected = [root, ...after]
  }

  return {argv: corrected, shown: [bin, ...corrected].join(' ')}
}

/**
 * `synapse sessions lst`: the first word is a topic, the second no command of it. Returns the error to
 * print (exit 2), with the closest subcommand when there is one; undefined when the words are fine.
 */
export function unknownSubcommand(argv: string[], names: CommandNames, bin: string): SynapseError | undefined {
  const [topic, sub] = argv
  if (sub === undefined || sub.startsWith('-') || !names.topics.includes(topic) || names.commands.includes(`${topic}:${sub}`)) return undefined
  // A topic that is also a command (`plugins`) takes arguments of its own.
  if (names.commands.includes(topic)) return undefined
  const subcommands = names.commands.filter(id => id.startsWith(`${topic}:`)).map(id => id.slice(topic.length + 1).split(':')[0])
  const guess = nearest(sub, subcommands)
  const suggestions = guess === undefined ? [] : [`Did you mean "${[bin, topic, guess, ...argv.slice(2)].join(' ')}"?`]
  suggestions.push(`See "${bin} ${topic} --help" for its commands.`)
  return new SynapseError('INVALID_INPUT', `"${bin} ${topic} ${sub}" is not a command.`, {exitCode: 2, suggestions})
}

/**
 * `synapse models foo`: a word after a command that takes no arguments. oclif would read the words
 * as one longer command id and fail with its own "command models:foo not found"; this says what is
 * wrong in synapse's words (exit 2), as oclif's parser does for a command that takes some.
 */
export function unexpectedArgument(argv: string[], names: CommandNames, bin: string): SynapseError | undefined {
  const used = namedWords(argv, names)
  const id = argv.slice(0, used).join(':')
  const extra = argv[used]
  if (extra === undefined || extra.startsWith('-') || !names.argless?.includes(id)) return undefined
  return new SynapseError('INVALID_INPUT', `Unexpected argument: ${extra}.`, {exitCode: 2, suggestions: [`See "${[bin, ...id.split(':')].join(' ')} --help".`]})
}

/** How many of the leading words, before any flag, spell a command or topic id together ("sessions list" is two). */
function namedWords(words: string[], names: CommandNames): number {
  const known = new Set([...names.commands, ...names.topics])
  let named = 0
  while (named < words.length && !words[named].startsWith('-') && known.has(words.slice(0, named + 1).join(':'))) named++
  return named
}

/**
 * `synapse help me write a poem`: help for something that is no command or topic. oclif would say
 * "Command me:write:a:poem not found" in its own format; this is synapse's (exit 2), with the
 * closest topic when there is one, and how to send the words as the prompt they may well be.
 */
export function unknownHelpSubject(argv: string[], names: CommandNames, bin: string): SynapseError | undefined {
  const words = argv.slice(1).filter(word => !word.startsWith('-'))
  if (argv[0] !== 'help' || words.length === 0) return undefined
  const named = namedWords(words, names)
  if (named === words.length) return undefined
  if (named > 0) {
    const id = words.slice(0, named).join(':')
    if (!names.commands.includes(id)) return unknownSubcommand(words.slice(0, named + 1), names, bin)
    return new SynapseError('INVALID_INPUT', `Unexpected argument: ${words[named]}.`, {
      exitCode: 2,
      suggestions: [`See "${[bin, 'help', ...words.slice(0, named)].join(' ')}".`],
    })
  }

  const roots = [...new Set([...names.commands, ...names.topics].map(id => id.split(':')[0]))]
  const guess = nearest(words[0], roots)
  const prompt = argv.filter(word => !word.startsWith('-')).join(' ')
  return new SynapseError('INVALID_INPUT', `"${words[0]}" is no ${bin} command or topic, so there is no help for it.`, {
    exitCode: 2,
    suggestions: [
      ...(guess === undefined ? [] : [`Did you mean "${[bin, 'help', guess, ...words.slice(1)].join(' ')}"?`]),
      `See "${bin} --help" for the commands.`,
      `To send it as a prompt: ${bin} chat ${shellQuote(prompt)}`,
    ],
  })
}

/**
 * `synapse help --json`, `synapse sessions list --help --json`: help is text for a person, and a
 * JSON form of it would be a second help to keep up. --json there is refused (exit 2), in JSON under
 * --json as every refusal is, so that a script still gets one JSON value. Words after `--` are a
 * prompt's, not flags.
 */
export function helpAsJson(argv: string[], bin: string): SynapseError | undefined {
  const end = argv.indexOf('--')
  const flagged = end === -1 ? argv : argv.slice(0, end)
  if (!flagged.includes('--json')) return undefined
  if (flagged[0] !== 'help' && !flagged.some(word => word === '--help' || word === '-h')) return undefined
  const without = argv.filter((word, i) => word !== '--json' || (end !== -1 && i > end))
  return new SynapseError('INVALID_INPUT', 'Help has no JSON form: it is text only.', {
    exitCode: 2,
    suggestions: [`Leave out --json: ${[bin, ...without.map(word => shellQuote(word))].join(' ')}`],
  })
}

/** Why a near miss was not sent, for a pipe (or a terminal whose user said no). */
export function typoRefusal(argv: string[], suggestion: Suggestion, bin: string): SynapseError {
  const prompt = argv.filter(word => !word.startsWith('-')).join(' ')
  return new SynapseError('INVALID_INPUT', `"${prompt}" looks like a mistyped command, so it was not sent to the model.`, {
    exitCode: 2,
    suggestions: [`Did you mean "${suggestion.shown}"?`, `To send it as a prompt: ${bin} chat ${shellQuote(prompt)}`],
  })
}

/** The question asked on a terminal; a yes runs the suggestion, anything else (Enter included) cancels. */
export function typoQuestion(suggestion: Suggestion): string {
  return `Did you mean "${suggestion.shown}"? [y/N] `
}

/** `synapse --version --json`: what `--version` says, as a typed object. */
export interface VersionReport {
  arch: string
  name: string
  node: string
  platform: string
  version: string
}

export function versionReport(config: {arch: string; name: string; platform: string; version: string}): VersionReport {
  return {arch: config.arch, name: config.name, node: process.versions.node, platform: config.platform, version: config.version}
}

function nearest(word: string, candidates: string[]): string | undefined {
  const wanted = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    if (candidate === word) return undefined
    const distance = editDistance(wanted, candidate.toLowerCase())
    if (distance <= typoDistance(wanted, candidate) && distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }

  return best
}

function shellQuote(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`
}

/** What route() needs of oclif's Config. */
export interface RoutingConfig {
  arch: string
  bin: string
  commandIDs: string[]
  findCommand(id: string): undefined | {args?: Record<string, unknown>; strict?: boolean}
  findTopic(id: string): unknown
  name: string
  platform: string
  topics: Array<{name: string}>
  version: string
}

export interface RoutingIO {
  /** Asks the typo question; resolves true for yes. */
  ask(question: string): Promise<boolean>
  /** Whether a question can be asked: stdin and stderr are a terminal. */
  interactive: boolean
  /** Prints a refusal in synapse's error format (JSON on stdout under --json). */
  refuse(error: SynapseError, json: boolean): void
  /** stdout. */
  write(text: string): void
}

/**
 * The argv oclif is to run, or undefined when routing has answered itself (process.exitCode set):
 * `--version --json`, an unknown subcommand, a near miss refused or cancelled. A prompt (words that
 * name no command or topic, a first flag other than --help/--version, nothing at all with text piped
 * in) runs `chat`; a near miss of a command first asks, or in a pipe is refused with exit 2.
 */
export async function route(argv: string[], config: RoutingConfig, io: RoutingIO): Promise<string[] | undefined> {
  const json = argv.includes('--json')
  const [first] = argv
  // `--json --version` is the same request as `--version --json` (and not a prompt's flags).
  if (first === '--version' || (json && argv.length === 2 && argv.includes('--version'))) {
    if (!json) return argv
    io.write(`${JSON.stringify(versionReport(config), null, 2)}\n`)
    return undefined
  }

  const names: CommandNames = {
    argless: config.commandIDs.filter(id => {
      const command = config.findCommand(id)
      return command?.strict !== false && Object.keys(command?.args ?? {}).length === 0
    }),
    commands: config.commandIDs,
    topics: config.topics.map(topic => topic.name),
  }
  const refuse = (error: SynapseError) => {
    io.refuse(error, json)
    process.exitCode = error.exitCode
    return undefined
  }

  const named = first !== undefined && !first.startsWith('-') && (Boolean(config.findCommand(first)) || Boolean(config.findTopic(first)) || first === 'help')
  if (named) {
    const wrong =
      unknownHelpSubject(argv, names, config.bin) ??
      unknownSubcommand(argv, names, config.bin) ??
      unexpectedArgument(argv, names, config.bin) ??
      helpAsJson(argv, config.bin)
    return wrong ? refuse(wrong) : argv
  }

  const helpRefused = helpAsJson(argv, config.bin)
  if (helpRefused) return refuse(helpRefused)

  if (!config.findCommand('chat')) return argv
  const suggestion = first === undefined ? undefined : suggestCommand(argv, names, config.bin)
  if (!suggestion) return ['chat', ...argv]
  if (!io.interactive) return refuse(typoRefusal(argv, suggestion, config.bin))
  try {
    if (await io.ask(typoQuestion(suggestion))) return suggestion.argv
  } catch (error) {
    if (error instanceof SynapseError) return refuse(error)
    throw error
  }

  return refuse(
    new SynapseError('INVALID_INPUT', 'Nothing was run and nothing was sent.', {
      exitCode: 2,
      suggestions: typoRefusal(argv, suggestion, config.bin).suggestions.slice(1),
    }),
  )
}

/** The process's terminal, for route(). */
export function routingIO(): RoutingIO {
  return {
    async ask(question) {
      const {askYesNo} = await import('./question.js')
      return askYesNo(question)
    },
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    refuse(error, json) {
      if (json) process.stdout.write(`${JSON.stringify({error: error.toJSON()}, null, 2)}\n`)
      else printReport(error.toJSON())
    },
    write: text => process.stdout.write(text),
  }
}
