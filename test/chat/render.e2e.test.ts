import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {requireProgram} from '../helpers/programs.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {shellQuote, synapse} from '../helpers/spawn.js'
import {SHELL_PROMPT, TmuxTerminal} from '../helpers/tmux.js'

// A reply in pieces cut mid-word, mid-emphasis, mid-line and inside a code fence.
const CHUNKS = [
  '# Pla',
  'n\n\nFirst **bo',
  'ld** step, then `np',
  'm ci`.\n- item one\n- it',
  'em two\n\n``',
  '`js\nconst answer',
  ' = 42 // why\n',
  '```\n\n| Tool | Cost |\n|---',
  '|---:|\n| tmux | 0 |\n',
  '\nSee [the docs](https://example.com/d',
  'ocs).\n',
]
const REPLY = CHUNKS.join('')
const RENDERED = [
  'Plan',
  '════',
  '',
  'First bold step, then npm ci.',
  '• item one',
  '• item two',
  '',
  '  js',
  '  const answer = 42 // why',
  '',
  'Tool │ Cost',
  '─────┼─────',
  'tmux │    0',
  '',
  'See the docs (https://example.com/docs).',
]
const SGR = /\u001B\[[0-9;]*m/

function lastLine(screen: string): string {
  return screen.split('\n').at(-1) ?? ''
}

/** The screen's lines after the command line `$ <command>`, up to the next shell prompt. */
function outputOf(screen: string, command: string): string[] {
  const lines = screen.split('\n')
  const start = lines.lastIndexOf(`${SHELL_PROMPT}${command}`)
  expect(start, `the command line "${command}" on the screen:\n${screen}`).to.not.equal(-1)
  const end = lines.findIndex((line, index) => index > start && line.startsWith(SHELL_PROMPT.trimEnd()))
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

describe('rendered replies (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  useOpenAISandbox({apiKey: 'sk-test-1'}, made => ({sandbox, server} = made))

  it('in a pipe, the reply is the model’s bytes exactly', async () => {
    server.reply(CHUNKS)
    const {code, stdout} = await synapse(sandbox, ['Make a plan'])
    expect(code).to.equal(0)
    expect(stdout).to.equal(REPLY)
  })

  describe('at a terminal', () => {
    let terminal: TmuxTerminal

    before(function () {
      requireProgram(this, 'tmux')
    })
    afterEach(async () => terminal?.kill())

    async function runAtTerminal(command: string, env: NodeJS.ProcessEnv = {}, size?: {columns: number; rows: number}): Promise<string[]> {
      terminal = await TmuxTerminal.start(sandbox, env, size)
      await terminal.type(command)
      await terminal.waitFor(screen => screen.split('\n').length > 2 && lastLine(screen) === SHELL_PROMPT.trimEnd(), 'the shell prompt after synapse')
      return outputOf(await terminal.screen(), command)
    }

    it('renders the streamed reply: no # or ``` on the screen, each line once, colours on', async () => {
      server.reply(CHUNKS, {delayMs: 20})
      const lines = await runAtTerminal('synapse "Make a plan"', {NO_COLOR: ''})
      expect(lines).to.deep.equal(RENDERED)
      const raw = terminal.raw()
      expect(raw).to.match(SGR)
      expect(raw, 'no Markdown marker reached the terminal').not.to.include('```').and.not.to.include('# Plan').and.not.to.include('**')
      expect(raw.split('item two').length - 1, 'written once').to.equal(1)
    })

    it('on a narrow terminal, words wrap: an item under its text, a quote behind its bar, a too-wide table narrowed and aligned', async () => {
      // Cut mid-word and mid-bold: a word is placed once it has ended.
      server.reply(
        [
          'Steps:\n\n- install tmux from your **package man',
          'ager**, then open a new terminal\n> a quoted line that is long enou',
          'gh to wrap onto the next line\n\n| Tool | What it does | Cost |\n|---|---|--:|\n',
          '| tmux | multiplexes one terminal into panes and windows | 0 |\n| less | pages | 0 |\n',
        ],
        {delayMs: 20},
      )
      const lines = await runAtTerminal('synapse "Wrap it"', {NO_COLOR: ''}, {columns: 40, rows: 30})
      expect(lines).to.deep.equal([
        'Steps:',
        '',
        '• install tmux from your package',
        '  manager, then open a new terminal',
        '│ a quoted line that is long enough to',
        '│ wrap onto the next line',
        '',
        'Tool │ What it does               │ Cost',
        '─────┼────────────────────────────┼─────',
        'tmux │ multiplexes one terminal   │    0',
        '     │ into panes and windows     │',
        '─────┼────────────────────────────┼─────',
        'less │ pages                      │    0',
      ])
      // The bold is closed before the line ends and opened again after the indent.
      expect(terminal.raw()).to.include('\u001B[1mpackage\u001B[22m\r\n  \u001B[1mmanager\u001B[22m')
    })

    it('NO_COLOR: the same structure, no colour code at all', async () => {
      server.reply(CHUNKS)
      const lines = await runAtTerminal('synapse "Make a plan"', {NO_COLOR: '1'})
      expect(lines).to.deep.equal(RENDERED)
      expect(terminal.raw()).not.to.match(SGR)
    })

    it('a hostile reply cannot drive the terminal: escapes and bidi controls are shown, in text, code and tables', async () => {
      // OSC 0 retitles the window, CSI 2J clears it, U+202E (RIGHT-TO-LEFT OVERRIDE) and U+2066
      // (LEFT-TO-RIGHT ISOLATE) reorder what follows them on a terminal that does bidi.
      server.reply(['Hi \u001B]0;pwned\u0007 a\u202Edrow\n\n```sh\nrm \u2066x\u001B[2J\n```\n\n| a |\n|---|\n| b\u202Ec |\n'])
      const lines = await runAtTerminal('synapse "Say hi"', {NO_COLOR: '1'})
      expect(lines).to.deep.equal([
        String.raw`Hi \x1b]0;pwned\x07 a\u202edrow`,
        '',
        '  sh',
        String.raw`  rm \u2066x\x1b[2J`,
        '',
        'a',
        '─'.repeat(String.raw`b\u202ec`.length),
        String.raw`b\u202ec`,
      ])
      // The raw log is read as latin1: U+202E is the bytes E2 80 AE, U+2066 E2 81 A6.
      expect(terminal.raw()).not.to.include('\u001B]0').and.not.to.include('\u00E2\u0080\u00AE').and.not.to.include('\u00E2\u0081\u00A6')
    })

    it('--raw prints the Markdown as it came', async () => {
      server.reply(CHUNKS)
      const lines = await runAtTerminal('synapse --raw "Make a plan"')
      expect(lines).to.deep.equal(REPLY.trimEnd().split('\n'))
    })

    it('the REPL renders replies as they stream, and /history renders stored ones', async () => {
      server.reply(CHUNKS, {delayMs: 10})
      terminal = await TmuxTerminal.start(sandbox)
      await terminal.type('synapse -r')
      await terminal.waitFor(screen => lastLine(screen) === '>', 'the REPL prompt')
      await terminal.type('Make a plan')
      const screen = await terminal.waitFor(text => text.includes('See the docs') && lastLine(text) === '>', 'the reply and a prompt')
      const lines = screen.split('\n')
      const start = lines.indexOf('> Make a plan')
      expect(lines.slice(start + 1, start + 1 + RENDERED.length)).to.deep.equal(RENDERED)
      await terminal.type('/history')
      const after = await terminal.waitFor(text => text.split('See the docs').length === 3 && lastLine(text) === '>', '/history')
      const history = after.split('\n')
      const shown = history.findLastIndex(line => line.startsWith('assistant '))
      expect(history[shown]).to.match(/^assistant \d{4}-\d\d-\d\d \d\d:\d\d$/)
      expect(history.slice(shown + 1, shown + 1 + RENDERED.length)).to.deep.equal(RENDERED)
    })
  })

  describe('sessions show', () => {
    let id: string

    async function seed(messages: number): Promise<void> {
      const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
      try {
        id = (await store.create({model: 'gpt-4o-mini', provider: 'openai', title: 'Notes'})).id
        await store.append(
          id,
          Array.from({length: messages}, (_, i) =>
            i % 2 === 0
              ? {content: `question ${i} with **stars**`, role: 'user' as const}
              : {content: `## Answer ${i}\n\n- **point**`, role: 'assistant' as const},
          ),
        )
      } finally {
        await store.close()
      }
    }

    it('in a pipe: the text as stored, times local to the minute, no pager', async () => {
      await seed(2)
      const paged = join(sandbox.root, 'paged.txt')
      const {code, stdout} = await synapse(sandbox, ['sessions', 'show', id], {env: {PAGER: `cat > ${shellQuote(paged)}`, TZ: 'Asia/Tokyo'}})
      expect(code).to.equal(0)
      expect(existsSync(paged)).to.equal(false)
      const json = JSON.parse((await synapse(sandbox, ['sessions', 'show', id, '--json'])).stdout)
      const tokyo = (iso: string) => new Date(iso).toLocaleString('sv-SE', {timeZone: 'Asia/Tokyo'}).slice(0, 16)
      expect(stdout.split('\n')[1]).to.equal(`model openai/gpt-4o-mini · created ${tokyo(json.createdAt)} · updated ${tokyo(json.updatedAt)} · 2 messages`)
      expect(stdout).to.include('user · #0\nquestion 0 with **stars**\n\nassistant · #1\n## Answer 1\n\n- **point**\n')
    })

    describe('at a terminal', () => {
      let terminal: TmuxTerminal
      let paged: string
      let lessSetting: string

      before(function () {
        requireProgram(this, 'tmux')
      })
      beforeEach(async () => {
        paged = join(sandbox.root, 'paged.txt')
        lessSetting = join(sandbox.root, 'less.txt')
        // A pager that records what it was given and the LESS it saw.
        terminal = await TmuxTerminal.start(
          sandbox,
          {LESS: undefined, PAGER: `printf %s "$LESS" > ${shellQuote(lessSetting)}; cat > ${shellQuote(paged)}`},
          {columns: 80, rows: 24},
        )
      })
      afterEach(async () => terminal.kill())

      /** The screen once `synapse sessions show` has ended, its exit code checked. */
      async function show(args: string, env = ''): Promise<string> {
        await terminal.type(`clear; ${env} synapse sessions show ${id} ${args}; echo "exit=$?"`)
        const screen = await terminal.waitFor(text => /^exit=\d+$/m.test(text), 'synapse to end')
        expect(/^exit=(\d+)$/m.exec(screen)![1]).to.equal('0')
        return screen
      }

      it('renders replies, not what the user typed, and prints a short session without a pager', async () => {
        await seed(2)
        const screen = await show('')
        expect(existsSync(paged), 'no pager for a session that fits').to.equal(false)
        expect(screen).to.include('user · #0\nquestion 0 with **stars**\n\nassistant · #1\nAnswer 1\n────────\n\n• point')
      })

      it('pages a session taller than the screen through $PAGER, with LESS=FRX, rendered', async () => {
        await seed(30)
        const screen = await show('')
        const text = readFileSync(paged, 'utf8').replaceAll(new RegExp(SGR.source, 'g'), '')
        expect(text.startsWith(`Session ${id}  Notes\n`)).to.equal(true)
        expect(text).to.include('assistant · #29\nAnswer 29\n─────────\n\n• point\n')
        expect(text.split('\n')).to.have.length.greaterThan(24)
        expect(readFileSync(lessSetting, 'utf8')).to.equal('FRX')
        expect(screen, 'the pager had the text, not the screen').not.to.include('Answer 29')
      })

      it('a pager quit early costs no error: exit 0, nothing on stderr', async () => {
        await seed(3000)
        const errors = join(sandbox.root, 'errors.txt')
        const screen = await show(`2>${shellQuote(errors)}`, `PAGER='head -n 1'`)
        expect(screen.split('\n').slice(-3)).to.deep.equal([`Session ${id}  Notes`, 'exit=0', '$'])
        expect(readFileSync(errors, 'utf8')).to.equal('')
      })

      it('without $PAGER, less -R: the first screen, and q leaves it', async function () {
        requireProgram(this, 'less')
        await seed(30)
        await terminal.type(`clear; env -u PAGER synapse sessions show ${id}; echo "exit=$?"`)
        const paging = await terminal.waitFor(text => lastLine(text) === ':', 'less and its prompt')
        expect(paging.split('\n')[0]).to.equal(`Session ${id}  Notes`)
        await terminal.press('q')
        const after = await terminal.waitFor(text => /^exit=\d+$/m.test(text), 'synapse to end')
        expect(/^exit=(\d+)$/m.exec(after)![1]).to.equal('0')
      })

      it('the REPL’s /history goes through the pager too, and the REPL reads keys again after it', async () => {
        await seed(30)
        await terminal.type(`synapse -r -s ${id}`)
        await terminal.waitFor(text => lastLine(text) === '>', 'the REPL prompt')
        await terminal.type('/history')
        await terminal.waitFor(() => existsSync(paged) && readFileSync(paged, 'utf8').includes('Answer 29'), 'the pager to have the history')
        const text = readFileSync(paged, 'utf8').replaceAll(new RegExp(SGR.source, 'g'), '')
        expect(text).to.match(
          /^you \d{4}-\d\d-\d\d \d\d:\d\d\nquestion 0 with \*\*stars\*\*\nassistant \d{4}-\d\d-\d\d \d\d:\d\d\nAnswer 1\n────────\n\n• point\n/,
        )
        await terminal.waitFor(screen => lastLine(screen) === '>', 'the prompt after the pager')
        await terminal.type('/count')
        await terminal.waitFor('30 messages in this session.', '/count after the pager')
        await terminal.press('C-d')
        await terminal.waitFor(screen => lastLine(screen) === SHELL_PROMPT.trimEnd(), 'the shell')
      })

      it('--no-pager prints it all; --raw shows replies as stored', async () => {
        await seed(30)
        const screen = await show('--no-pager --raw')
        expect(existsSync(paged)).to.equal(false)
        expect(screen).to.include('## Answer 29\n\n- **point**')
      })
    })
  })
})
