import {expect} from 'chai'

import {
  type CommandNames,
  MAX_TYPO_WORDS,
  suggestCommand,
  helpAsJson,
  typoDistance,
  unexpectedArgument,
  unknownHelpSubject,
  unknownSubcommand,
} from '../../src/cli/routing.js'

const names: CommandNames = {
  argless: ['config:show', 'models', 'plugins', 'sessions:list', 'sessions:ls'],
  commands: [
    'chat',
    'config:show',
    'db:backup',
    'help',
    'keys:set',
    'models',
    'plugins',
    'plugins:install',
    'sessions:delete',
    'sessions:list',
    'sessions:ls',
    'sessions:show',
  ],
  topics: ['config', 'db', 'keys', 'plugins', 'sessions'],
}

describe('routing a command line', () => {
  describe('suggestCommand', () => {
    it('corrects a mistyped topic and its subcommand, keeping the flags', () => {
      expect(suggestCommand(['sesions', 'list'], names, 'synapse')).to.deep.equal({argv: ['sessions', 'list'], shown: 'synapse sessions list'})
      expect(suggestCommand(['sesion', 'lst', '--json'], names, 'synapse')).to.deep.equal({
        argv: ['sessions', 'list', '--json'],
        shown: 'synapse sessions list --json',
      })
      expect(suggestCommand(['sesions list'], names, 'synapse')).to.deep.equal({argv: ['sessions', 'list'], shown: 'synapse sessions list'})
    })

    it('corrects a mistyped command, and suggests the topic alone when the subcommand is no near miss', () => {
      expect(suggestCommand(['model'], names, 'synapse')?.shown).to.equal('synapse models')
      expect(suggestCommand(['Models'], names, 'synapse')?.shown).to.equal('synapse models')
      expect(suggestCommand(['sesions', 'everything'], names, 'synapse')?.shown).to.equal('synapse sessions')
    })

    it('counts two neighbouring letters swapped as one slip: a short name mistyped so is caught too', () => {
      expect(suggestCommand(['kyes', 'set', 'openai'], names, 'synapse')?.shown).to.equal('synapse keys set openai')
      expect(suggestCommand(['hlep'], names, 'synapse')?.shown).to.equal('synapse help')
      expect(suggestCommand(['sesisons', 'lsit'], names, 'synapse')?.shown).to.equal('synapse sessions list')
      // Two swaps in a short word are two edits: no longer a near miss.
      expect(suggestCommand(['ekys'], names, 'synapse')?.shown).to.equal('synapse keys')
      expect(suggestCommand(['eksy'], names, 'synapse')).to.equal(undefined)
      expect(unknownSubcommand(['keys', 'ste'], names, 'synapse')?.suggestions[0]).to.equal('Did you mean "synapse keys set"?')
      expect(unknownSubcommand(['sessions', 'lsit'], names, 'synapse')?.suggestions[0]).to.equal('Did you mean "synapse sessions list"?')
    })

    it('leaves prompts alone: ordinary words, longer prompts, near misses of chat, flags first', () => {
      for (const argv of [
        ['hello'],
        ['Hi'],
        ['logs'],
        ['sesions', 'list', 'and', 'more'],
        ['caht', 'with', 'me'],
        ['-m', 'x', 'sesions'],
        ['why', 'sesions'],
      ]) {
        expect(suggestCommand(argv, names, 'synapse'), argv.join(' ')).to.equal(undefined)
      }
    })

    it('counts words, not arguments, against the limit', () => {
      expect(MAX_TYPO_WORDS).to.equal(3)
      expect(suggestCommand(['sesions list all'], names, 'synapse')).not.to.equal(undefined)
      expect(suggestCommand(['sesions list all now'], names, 'synapse')).to.equal(undefined)
    })
  })

  it('typoDistance: nothing under 3 letters, 1 edit for short names, 2 for long ones', () => {
    expect([typoDistance('db', 'db'), typoDistance('hello', 'help'), typoDistance('model', 'models'), typoDistance('sesion', 'sessions')]).to.deep.equal([
      0, 1, 1, 2,
    ])
  })

  describe('unknownHelpSubject', () => {
    it("help for no command or topic: synapse's format, exit 2, the closest topic and how to send the words as a prompt", () => {
      expect(unknownHelpSubject(['help', 'me', 'write', 'a', 'poem'], names, 'synapse')?.toJSON()).to.deep.equal({
        code: 'INVALID_INPUT',
        exitCode: 2,
        message: '"me" is no synapse command or topic, so there is no help for it.',
        suggestions: ['See "synapse --help" for the commands.', "To send it as a prompt: synapse chat 'help me write a poem'"],
      })
      expect(unknownHelpSubject(['help', 'sesions', '--json'], names, 'synapse')?.suggestions[0]).to.equal('Did you mean "synapse help sessions"?')
    })

    it('a wrong word after a topic or a command is named as those are without help', () => {
      expect(unknownHelpSubject(['help', 'sessions', 'lst'], names, 'synapse')?.message).to.equal('"synapse sessions lst" is not a command.')
      expect(unknownHelpSubject(['help', 'sessions', 'list', 'extra'], names, 'synapse')?.toJSON()).to.deep.include({
        exitCode: 2,
        message: 'Unexpected argument: extra.',
        suggestions: ['See "synapse help sessions list".'],
      })
    })

    it('leaves help for real commands and topics, and help alone, to oclif', () => {
      for (const argv of [
        ['help'],
        ['help', '--json'],
        ['help', 'sessions'],
        ['help', 'sessions', 'list'],
        ['help', 'plugins', 'install'],
        ['sessions', 'me'],
      ]) {
        expect(unknownHelpSubject(argv, names, 'synapse'), argv.join(' ')).to.equal(undefined)
      }
    })
  })

  describe('helpAsJson', () => {
    it('refuses help in any spelling with --json (exit 2), naming the command line without it', () => {
      expect(helpAsJson(['help', '--json'], 'synapse')?.toJSON()).to.deep.equal({
        code: 'INVALID_INPUT',
        exitCode: 2,
        message: 'Help has no JSON form: it is text only.',
        suggestions: ['Leave out --json: synapse help'],
      })
      expect(helpAsJson(['--json', 'sessions', 'list', '--help'], 'synapse')?.suggestions).to.deep.equal(['Leave out --json: synapse sessions list --help'])
      expect(helpAsJson(['-h', '--json'], 'synapse')?.suggestions).to.deep.equal(['Leave out --json: synapse -h'])
    })

    it('leaves help without --json, --json without help, and words after -- alone', () => {
      for (const argv of [
        ['help'],
        ['help', 'sessions'],
        ['sessions', 'list', '--json'],
        ['--json', 'what does help mean'],
        ['--json', '--', '--help'],
        ['--help', '--', '--json'],
      ]) {
        expect(helpAsJson(argv, 'synapse'), argv.join(' ')).to.equal(undefined)
      }
    })
  })

  describe('unknownSubcommand', () => {
    it("names the closest subcommand in synapse's format, exit 2", () => {
      const error = unknownSubcommand(['sessions', 'lst', '--all'], names, 'synapse')
      expect(error?.toJSON()).to.deep.equal({
        code: 'INVALID_INPUT',
        exitCode: 2,
        message: '"synapse sessions lst" is not a command.',
        suggestions: ['Did you mean "synapse sessions list --all"?', 'See "synapse sessions --help" for its commands.'],
      })
      expect(unknownSubcommand(['sessions', 'frobnicate'], names, 'synapse')?.suggestions).to.deep.equal(['See "synapse sessions --help" for its commands.'])
    })

    it('accepts real subcommands, aliases, flags, and topics that are commands too', () => {
      for (const argv of [['sessions', 'list'], ['sessions', 'ls'], ['sessions', '--help'], ['sessions'], ['plugins', 'whatever']]) {
        expect(unknownSubcommand(argv, names, 'synapse'), argv.join(' ')).to.equal(undefined)
      }
    })
  })

  describe('unexpectedArgument', () => {
    it("names the word after a command that takes none, with that command's help, exit 2", () => {
      expect(unexpectedArgument(['models', 'foo'], names, 'synapse')?.toJSON()).to.deep.equal({
        code: 'INVALID_INPUT',
        exitCode: 2,
        message: 'Unexpected argument: foo.',
        suggestions: ['See "synapse models --help".'],
      })
      expect(unexpectedArgument(['sessions', 'ls', 'x', 'y'], names, 'synapse')?.toJSON().suggestions).to.deep.equal(['See "synapse sessions ls --help".'])
      expect(unexpectedArgument(['config', 'show', 'extra', '--json'], names, 'synapse')?.message).to.equal('Unexpected argument: extra.')
    })

    it('leaves commands with arguments, flags, subcommands and topics alone', () => {
      for (const argv of [['models'], ['models', '--json'], ['sessions', 'show', 'x'], ['plugins', 'install', 'x'], ['sessions'], ['keys', 'set', 'openai']]) {
        expect(unexpectedArgument(argv, names, 'synapse'), argv.join(' ')).to.equal(undefined)
      }
    })
  })
})
