import {expect} from 'chai'

import {type CommandNames, MAX_TYPO_WORDS, suggestCommand, typoDistance, unexpectedArgument, unknownSubcommand} from '../../src/cli/routing.js'

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

    it('counts two neighbouring letters swapped as one slip, even in a short name', () => {
      expect(suggestCommand(['kyes', 'set'], names, 'synapse')?.shown).to.equal('synapse keys set')
      expect(suggestCommand(['kyes'], names, 'synapse')?.shown).to.equal('synapse keys')
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
