/**
 * synapse's help (package.json `oclif.helpClass`). The root help leads with what most runs are, a
 * prompt (`synapse [PROMPT]`, chat's flags and examples), then each topic and command once: an
 * alias is named on its command's line rather than listed again, and a topic that is also a command
 * (`plugins`) is listed as the topic. Every example reads as a shell line, with its `$`.
 */
import {type Command, CommandHelp, Help} from '@oclif/core'
import {format} from 'node:util'

import {writeOutput} from './output.js'

type Example = string | {command: string; description: string}

class SynapseCommandHelp extends CommandHelp {
  /** chat's flags as the root help lists them, in the order a command's own help does. */
  flagRows(): Array<[string, string | undefined]> {
    const flags = Object.entries(this.command.flags ?? {})
      .filter(([, flag]) => !flag.hidden)
      .map(([name, flag]) => ({...flag, name}))
      .sort((a, b) => Number(!a.char) - Number(!b.char) || (a.char ?? '').localeCompare(b.char ?? '') || a.name.localeCompare(b.name))
    return this.flags(flags as Command.Flag.Any[]) ?? []
  }

  /** One example a line: the root help lists them as a block of shell lines. */
  exampleLines(): string | undefined {
    const examples = (this.command.examples ?? []) as Example[]
    return examples.length === 0 ? undefined : examples.map(example => this.examples([example])).join('\n')
  }

  // oclif marks with `$` only the examples that start with the command's name; `git diff | synapse`
  // and `OPENAI_BASE_URL=… synapse` are shell lines as much.
  protected examples(examples: Example[] | string | undefined): string | undefined {
    const list = examples === undefined ? undefined : Array.isArray(examples) ? examples : [examples]
    const bin = '<%= config.bin %>'
    const dollar = (example: Example) =>
      typeof example === 'string' && !example.includes('\n') && !example.startsWith(bin) && !example.startsWith(this.config.bin) && !example.startsWith('$')
        ? `$ ${example}`
        : example
    return super.examples(list?.map(dollar))
  }
}

export default class SynapseHelp extends Help {
  CommandHelpClass = SynapseCommandHelp

  /** Through process.stdout, as the commands' output (writeOutput says why). */
  protected log(...args: string[]): void {
    if (this.opts.sendToStderr) process.stderr.write(`${format(...args)}\n`)
    else writeOutput(`${format(...args)}\n`)
  }

  /** Without the entries oclif adds for aliases; summary() names them. */
  protected get sortedCommands(): Command.Loadable[] {
    return super.sortedCommands.filter(command => !command.aliases?.includes(command.id))
  }

  protected summary(command: Command.Loadable): string | undefined {
    const summary = super.summary(command)
    // An alias in the command's own topic is its last word (`ls`); one elsewhere is spelled out (`synapse logs`).
    const wordsOf = (id: string) => id.split(/[ :]/)
    const topic = wordsOf(command.id).slice(0, -1).join(' ')
    const aliases = (command.aliases ?? []).map(alias => {
      const words = wordsOf(alias)
      return words.slice(0, -1).join(' ') === topic ? words.at(-1) : `"${this.config.bin} ${words.join(' ')}"`
    })
    return aliases.length === 0 || summary === undefined
      ? summary
      : `${summary.replace(/\.$/, '')} (${aliases.length === 1 ? 'alias' : 'aliases'}: ${aliases.join(', ')}).`
  }

  async showRootHelp(): Promise<void> {
    const {bin} = this.config
    const chat = this.config.findCommand('chat')
    const topics = this.sortedTopics.filter(topic => !topic.name.includes(':'))
    const topicNames = new Set(topics.map(topic => topic.name))
    const commands = this.sortedCommands.filter(command => command.id && !command.id.includes(':') && !topicNames.has(command.id))
    const description = (this.config.pjson.oclif.description || this.config.pjson.description || '').split('\n', 1)[0]

    const sections = [
      description,
      this.section('VERSION', this.config.userAgent),
      this.section('USAGE', [`$ ${bin} [PROMPT] [FLAGS]     ask a model; the same as "${bin} chat [PROMPT]"`, `$ ${bin} COMMAND`].join('\n')),
    ]
    if (chat) {
      const help = new SynapseCommandHelp(chat, this.config, this.opts)
      sections.push(this.section('CHAT FLAGS', help.flagRows()))
      const examples = help.exampleLines()
      if (examples) sections.push(this.section('EXAMPLES', examples))
    }

    this.log(`${sections.join('\n\n')}\n`)
    if (topics.length > 0) this.log(`${this.formatTopics(topics)}\n`)
    if (commands.length > 0) this.log(`${this.formatCommands(commands)}\n`)
  }
}
