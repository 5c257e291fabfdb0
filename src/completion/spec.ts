import type {Command, Interfaces} from '@oclif/core'

import {completionCacheFile} from './cache.js'
import type {ValueKind} from './candidates.js'

/** Option flags whose values complete, by flag name, on every command that has one (plugins' too). */
export const FLAG_VALUES: Readonly<Record<string, ValueKind>> = {model: 'models', provider: 'providers', session: 'sessions'}

/** Arguments that take values synapse knows (session ids, provider names), by command id and argument name. */
export const ARGUMENT_VALUES: Readonly<Record<string, Readonly<Record<string, ValueKind>>>> = {
  'keys:remove': {provider: 'providers'},
  'keys:set': {provider: 'providers'},
  'sessions:delete': {ids: 'sessions'},
  'sessions:export': {ids: 'sessions'},
  'sessions:fork': {session: 'sessions'},
  'sessions:keep': {ids: 'sessions'},
  'sessions:rename': {id: 'sessions'},
  'sessions:show': {id: 'sessions'},
}

/** The command bin/run.js runs for a line that names none (a prompt, or flags first). */
export const DEFAULT_COMMAND = 'chat'
/** First arguments bin/run.js never routes to the default command. */
const ROOT_FLAGS = ['--help', '-h', '--version']

/** Where one command takes values that the completion scripts ask synapse for. */
export interface CommandValues {
  /** What each positional argument completes as, in order; undefined: nothing of ours. */
  args: Array<undefined | ValueKind>
  /** Flags whose value completes, every spelling ('-s', '--session'). */
  flags: Array<{kind: ValueKind; spellings: string[]}>
  id: string
  /** Every spelling of every flag that takes a value, so that its value is not counted as an argument. */
  optionFlags: string[]
  /** The last argument repeats (a command with `strict = false`). */
  variadic: boolean
}

export interface CompletionSpec {
  bin: string
  /** The completion cache the scripts read before they ask synapse (cache.ts); none: they always ask. */
  cacheFile?: string
  /** Only the commands that take such values, by id. */
  commands: CommandValues[]
  /** The command a prompt runs, when the CLI has it and it takes values. */
  defaultCommand?: string
  /** First words that name a command or a topic, and the root flags: a line that starts otherwise is a prompt. */
  rootWords: string[]
}

/** Where values complete, read from the commands as installed (plugins included). */
export function completionSpec(config: Pick<Interfaces.Config, 'bin' | 'commands' | 'topics'> & Partial<Pick<Interfaces.Config, 'cacheDir'>>): CompletionSpec {
  const commands = config.commands
    .map(command => commandValues(command))
    .filter((values): values is CommandValues => values !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id))
  const rootWords = new Set([...config.commands.map(c => c.id), ...config.topics.map(t => t.name)].map(id => id.split(':')[0]))
  return {
    bin: config.bin,
    cacheFile: config.cacheDir ? completionCacheFile(config.cacheDir) : undefined,
    commands,
    defaultCommand: commands.some(c => c.id === DEFAULT_COMMAND) ? DEFAULT_COMMAND : undefined,
    rootWords: [...[...rootWords].sort(), ...ROOT_FLAGS],
  }
}

function commandValues(command: Command.Cached): CommandValues | undefined {
  const options = Object.values(command.flags).filter(flag => flag.type === 'option')
  const spellings = (flag: Command.Flag.Cached) => [...(flag.char ? [`-${flag.char}`] : []), `--${flag.name}`]
  const flags = options.filter(flag => FLAG_VALUES[flag.name]).map(flag => ({kind: FLAG_VALUES[flag.name], spellings: spellings(flag)}))
  const named = ARGUMENT_VALUES[command.id] ?? {}
  const args = Object.keys(command.args).map(name => named[name])
  if (flags.length === 0 && !args.some(Boolean)) return undefined
  return {args, flags, id: command.id, optionFlags: options.flatMap(flag => spellings(flag)), variadic: command.strict === false && args.length > 0}
}
