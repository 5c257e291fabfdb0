import {expect} from 'chai'

import {MarkdownStream, renderMarkdown} from '../../src/cli/markdown/index.js'
import {parseInline} from '../../src/cli/markdown/inline.js'
import {displayWidth} from '../../src/cli/width.js'

const COLOR = {color: true, terminal: true}
const PLAIN = {color: false, terminal: true}
const ESC = '\u001B'
const sgr = (...codes: number[]) => `${ESC}[${codes.join(';')}m`

/** Colour codes written as <1>…<22>, so that expected output reads. */
function codes(text: string): string {
  return text.replaceAll(/\u001B\[(\d+)m/g, '<$1>')
}

function render(text: string, style = COLOR, width = 40): string {
  return renderMarkdown(text, {style, width})
}

/** Streams `text` in the given pieces; returns what each push wrote. */
function stream(pieces: string[], style = PLAIN): string[] {
  const renderer = new MarkdownStream({style, width: 40})
  const written = pieces.map(piece => renderer.push(piece))
  written.push(renderer.end())
  return written
}

const SAMPLE = [
  '# Release notes',
  '',
  'Some *emphasis*, **strong**, `code`, ~~gone~~ and a [link](https://example.com/a).',
  '',
  '- one',
  '  - nested',
  '1. first',
  '- [x] done',
  '> quoted',
  '',
  '```python',
  'def f(x):  # doubles',
  '    return x * 2',
  '```',
  '',
  '| Name | n |',
  '|:-----|--:|',
  '| 日本 | 22 |',
  '| a | 1 |',
  '',
  '***',
  'after',
].join('\n')

describe('the Markdown renderer', () => {
  describe('each construct, in colour', () => {
    it('headings: the text without #, bold; levels 1 and 2 in cyan with a rule as wide as the text', () => {
      expect(codes(render('# Title\n## Sub\n### Third\n'))).to.equal('<1><36>Title<39><22>\n<36>═════<39>\n<1><36>Sub<39><22>\n<36>───<39>\n<1>Third<22>\n')
    })

    it('emphasis, strong, strike, code spans and links, the target printed after the text', () => {
      expect(codes(render('a *b* **c** ~~d~~ `e` [f](https://x.example/y) <https://z.example>\n', COLOR, 100))).to.equal(
        'a <3>b<23> <1>c<22> <9>d<29> <33>e<39> <4>f<24> <2>(https://x.example/y)<22> <4>https://z.example<24>\n',
      )
    })

    it('underscores inside words, a lone star and unclosed openers stay as written', () => {
      expect(render('snake_case_name, 5 * 3, *open, `tick, [x] and \\*escaped\\*\n', COLOR, 100)).to.equal(
        'snake_case_name, 5 * 3, *open, `tick, [x] and *escaped*\n',
      )
    })

    it('lists: bullets by depth, numbers kept, task boxes', () => {
      expect(codes(render('- a\n  - b\n    - c\n- d\n1. e\n2) f\n- [ ] g\n- [x] h\n'))).to.equal(
        '<36>•<39> a\n  <36>◦<39> b\n    <36>▪<39> c\n<36>•<39> d\n<36>1.<39> e\n<36>2)<39> f\n<36>☐<39> g\n<36>☑<39> h\n',
      )
    })

    it('a line indented under a list item goes on at the item’s text', () => {
      expect(render('- item\n  more of it\nback\n', PLAIN)).to.equal('• item\n  more of it\nback\n')
    })

    it('quotes and rules', () => {
      expect(codes(render('> said\n\n---\n'))).to.equal(`<2>│ <22>said\n\n<2>${'─'.repeat(40)}<22>\n`)
    })

    it('code blocks: fences gone, the language as a label, lines indented and highlighted', () => {
      expect(codes(render('```js\nconst s = "x" // why\nlet n = 42 /* a\nb */ x\n```\n'))).to.equal(
        '<2>  js<22>\n  <35>const<39> s = <32>"x"<39> <90>// why<39>\n  <35>let<39> n = <34>42<39> <90>/*<39><90> a<39>\n  <90>b */<39> x\n',
      )
    })

    it('a code block of an unknown language is plain, Markdown inside it untouched', () => {
      expect(render('```\n# not a heading *x*\n```\n')).to.equal('  # not a heading *x*\n')
    })

    it('tables: aligned by display width (CJK is two columns), header bold, alignment from the delimiter row', () => {
      expect(codes(render('| Name | n |\n|:-----|--:|\n| 日本 | 22 |\n| a | 1 |\n'))).to.equal(
        ['<1>Name<22> <2>│<22> <1> n<22>', '<2>─────┼───<22>', '日本 <2>│<22> 22', 'a    <2>│<22>  1', ''].join('\n'),
      )
    })

    it('lines starting with | that are no table are text', () => {
      expect(render('| just a bar\n| another\n', PLAIN)).to.equal('| just a bar\n| another\n')
    })
  })

  describe('without colour (NO_COLOR)', () => {
    it('keeps the structure and writes no escape sequence at all', () => {
      const plain = render(SAMPLE, PLAIN)
      expect(plain).not.to.include(ESC)
      expect(plain).to.equal(
        [
          'Release notes',
          '═════════════',
          '',
          'Some emphasis, strong, code, gone and a',
          'link (https://example.com/a).',
          '',
          '• one',
          '  ◦ nested',
          '1. first',
          '☑ done',
          '│ quoted',
          '',
          '  python',
          '  def f(x):  # doubles',
          '      return x * 2',
          '',
          'Name │  n',
          '─────┼───',
          '日本 │ 22',
          'a    │  1',
          '',
          '────────────────────────────────────────',
          'after',
          '',
        ].join('\n'),
      )
    })

    it('is the coloured output with its colour codes taken out', () => {
      expect(render(SAMPLE, COLOR).replaceAll(/\u001B\[\d+m/g, '')).to.equal(render(SAMPLE, PLAIN))
    })
  })

  describe('streaming', () => {
    it('writes the same text whatever the pieces, one character at a time included', () => {
      const uncoloured = (text: string) => text.replaceAll(/\u001B\[\d+m/g, '')
      const whole = render(SAMPLE, PLAIN)
      for (const size of [1, 2, 3, 5, 7, 13]) {
        const pieces = SAMPLE.match(new RegExp(`[^]{1,${size}}`, 'g'))!
        expect(stream(pieces, PLAIN).join(''), `pieces of ${size}`).to.equal(whole)
        // In colour each piece of a styled line carries its own codes: the same text on the screen.
        expect(uncoloured(stream(pieces, COLOR).join('')), `pieces of ${size}, in colour`).to.equal(whole)
      }
    })

    it('writes a paragraph word by word as it arrives, before its line ends: a word once it has ended', () => {
      expect(stream(['Hello ', 'wor', 'ld, how', ' are you?\n'])).to.deep.equal(['Hello', '', ' world,', ' how are you?\n', ''])
    })

    it('holds an opener until its closer comes, then writes the styled text once', () => {
      expect(stream(['Say **bo', 'ld', '** now', '\n'], COLOR).map(codes)).to.deep.equal(['Say', '', ' <1>bold<22>', ' now\n', ''])
    })

    it('waits for the start of a line to tell what it is: # and 1 and ` may start a heading, a list, a fence', () => {
      expect(stream(['#', '# Sub', 'title\n'])).to.deep.equal(['', 'Sub', 'title\n────────\n', ''])
      expect(stream(['1', '. item\n'])).to.deep.equal(['', '1. item\n', ''])
      expect(stream(['19', '99 was a year\n'])).to.deep.equal(['', '1999 was a year\n', ''])
      expect(stream(['`', '``sh\nls', ' -l\n', '```\n'])).to.deep.equal(['', '  sh\n', '  ls -l\n', '', ''])
    })

    it('writes a code line when it ends and holds a table until the line after it', () => {
      expect(stream(['```\ncode', ' line\n', '```\n| a | b |\n|---|---|\n', '| 1 | 2 |\n', 'next\n'])).to.deep.equal([
        '',
        '  code line\n',
        '',
        '',
        'a │ b\n──┼──\n1 │ 2\nnext\n',
        '',
      ])
    })

    it('end() writes what was held, with the missing newline: an interrupted reply', () => {
      expect(stream(['Part *one'])).to.deep.equal(['Part', ' *one\n'])
      expect(stream(['| a | b |\n'])).to.deep.equal(['', '| a | b |\n'])
      expect(stream([''])).to.deep.equal(['', ''])
    })

    it('a CRLF reply renders as an LF one', () => {
      expect(stream(['# T\r', '\nx\r\n'])).to.deep.equal(['T', '\n═\nx\n', ''])
    })
  })

  describe('word wrapping at the width', () => {
    /** The lines written at `width` columns, colour codes as <n>. */
    const lines = (text: string, width: number, style = PLAIN) => codes(renderMarkdown(text, {style, width})).split('\n')
    const widest = (text: string, width: number, style = COLOR) =>
      Math.max(
        ...renderMarkdown(text, {style, width})
          .split('\n')
          .map(line => displayWidth(line)),
      )

    it('a paragraph breaks at spaces, the spaces at a break dropped: no line is wider, none ends in a space', () => {
      expect(lines('The quick brown fox jumps over the lazy dog.\n', 16)).to.deep.equal(['The quick brown', 'fox jumps over', 'the lazy dog.', ''])
      expect(lines('two  spaces stay   between words\n', 14)).to.deep.equal(['two  spaces', 'stay   between', 'words', ''])
    })

    it('list items keep their hanging indent: nested, numbered and task items', () => {
      expect(
        lines(
          '- one two three four five six seven\n  - nested item with words that wrap\n10. numbered item long enough\n- [ ] task box with text to wrap\n  under the item\n',
          20,
        ),
      ).to.deep.equal([
        '• one two three four',
        '  five six seven',
        '  ◦ nested item with',
        '    words that wrap',
        '10. numbered item',
        '    long enough',
        '☐ task box with text',
        '  to wrap',
        '  under the item',
        '',
      ])
    })

    it('quotes keep their bar on every line, nested quotes all their bars', () => {
      expect(lines('> a quote that is long enough to wrap\n> > nested quote that wraps too\n', 18)).to.deep.equal([
        '│ a quote that is',
        '│ long enough to',
        '│ wrap',
        '│ │ nested quote',
        '│ │ that wraps too',
        '',
      ])
      expect(lines('> > nested quote wraps\n', 12, COLOR)).to.deep.equal(['<2>│ │ <22>nested', '<2>│ │ <22>quote', '<2>│ │ <22>wraps', ''])
    })

    it('a word wider than the line is broken by columns where it stands', () => {
      expect(lines('a supercalifragilistic word\n', 10)).to.deep.equal(['a supercal', 'ifragilist', 'ic word', ''])
      expect(lines('- https://example.com/a/long/path\n', 12)).to.deep.equal(['• https://ex', '  ample.com/', '  a/long/pat', '  h', ''])
    })

    it('wide characters count two columns, and no grapheme cluster is split: combining marks, joined emoji', () => {
      expect(lines('日本語のテキストは続きます\n', 11)).to.deep.equal(['日本語のテ', 'キストは続', 'きます', ''])
      expect(lines('x e\u0301e\u0301e\u0301e\u0301e\u0301 👩‍👧👩‍👧👩‍👧\n', 4)).to.deep.equal([
        'x e\u0301e\u0301',
        'e\u0301e\u0301e\u0301',
        '👩‍👧👩‍👧',
        '👩‍👧',
        '',
      ])
    })

    it('styles survive a wrap: closed at the end of a line, opened again after the next line’s prefix', () => {
      expect(lines('some **bold text** and `a code span` ok\n', 12, COLOR)).to.deep.equal([
        'some <1>bold<22>',
        '<1>text<22> and <33>a<39>',
        '<33>code span<39> ok',
        '',
      ])
      expect(lines('> quoted **bold words here**\n', 12, COLOR)).to.deep.equal(['<2>│ <22>quoted', '<2>│ <22><1>bold words<22>', '<2>│ <22><1>here<22>', ''])
      expect(lines('**abcdefghij**\n', 4, COLOR)).to.deep.equal(['<1>abcd<22>', '<1>efgh<22>', '<1>ij<22>', ''])
      // A link's target (dim) broken by columns, never inside a colour code.
      expect(lines('see [docs](https://x.example/y)\n', 10, COLOR)).to.deep.equal(['see <4>docs<24> <2>(<22>', '<2>https://x.<22>', '<2>example/y)<22>', ''])
    })

    it('in colour, the same lines as without it, none wider than the width', () => {
      const text = '- some **bold text** and `a code span` ok, [a link](https://x.example/aaaaaaaaaaaa)\n> > quoted *words* go on\n'
      for (const width of [6, 9, 13, 21]) {
        expect(renderMarkdown(text, {style: COLOR, width}).replaceAll(/\u001B\[\d+m/g, '')).to.equal(renderMarkdown(text, {style: PLAIN, width}))
        expect(widest(text, width), `at ${width}`).to.equal(width)
      }
    })

    it('code blocks keep their lines and headings are not wrapped, where the text around them is', () => {
      expect(lines('```\nconst aVeryLongLineOfCode = 1 + 2 + 3\n```\n# A heading longer than the width\ntext longer than the width\n', 12)).to.deep.equal([
        '  const aVeryLongLineOfCode = 1 + 2 + 3',
        'A heading longer than the width',
        '═══════════════════════════════',
        'text longer',
        'than the',
        'width',
        '',
      ])
    })

    const TABLE = '| Tool | What it does | n |\n|---|---|--:|\n| tmux | multiplexes terminals | 1 |\n| less | pages | 22 |\n'

    it('a table wider than the width: the widest column narrowed, its cells wrapped inside it, rows apart', () => {
      expect(lines(TABLE, 24)).to.deep.equal([
        'Tool │ What it does │  n',
        '─────┼──────────────┼───',
        'tmux │ multiplexes  │  1',
        '     │ terminals    │',
        '─────┼──────────────┼───',
        'less │ pages        │ 22',
        '',
      ])
      expect(lines(TABLE, 24, COLOR).slice(0, 4)).to.deep.equal([
        '<1>Tool<22> <2>│<22> <1>What it does<22> <2>│<22> <1> n<22>',
        '<2>─────┼──────────────┼───<22>',
        'tmux <2>│<22> multiplexes  <2>│<22>  1',
        '     <2>│<22> terminals    <2>│<22>',
      ])
      expect(widest(TABLE, 24)).to.equal(24)
      // With room, as it always was.
      expect(lines(TABLE, 80)).to.deep.equal([
        'Tool │ What it does          │  n',
        '─────┼───────────────────────┼───',
        'tmux │ multiplexes terminals │  1',
        'less │ pages                 │ 22',
        '',
      ])
    })

    it('a table narrowed below its longest words breaks them by columns, the grid still aligned (the widest columns give way in turn)', () => {
      expect(lines('| a | b |\n|---|---|\n| 日本語 | xyzzyxyzzy |\n', 9)).to.deep.equal([
        'a   │ b',
        '────┼────',
        '日  │ xyz',
        '本  │ zyx',
        '語  │ yzz',
        '    │ y',
        '',
      ])
    })

    it('a table without room for a column each: every row as "header: value" lines, rows a blank line apart', () => {
      expect(lines(TABLE, 8)).to.deep.equal([
        'Tool:',
        '  tmux',
        'What it does:',
        '  multip',
        '  lexes',
        '  termin',
        '  als',
        'n: 1',
        '',
        'Tool:',
        '  less',
        'What it does:',
        '  pages',
        'n: 22',
        '',
      ])
      expect(lines('| a | b | c | d | e |\n|---|---|---|---|---|\n| 1 | 2 | 3 | 4 | 5 |\n', 16, COLOR)).to.deep.equal([
        '<1>a<22>: 1',
        '<1>b<22>: 2',
        '<1>c<22>: 3',
        '<1>d<22>: 4',
        '<1>e<22>: 5',
        '',
      ])
    })

    describe('as it streams', () => {
      const narrow = (pieces: string[], width: number) => {
        const renderer = new MarkdownStream({style: PLAIN, width})
        return [...pieces.map(piece => renderer.push(piece)), renderer.end()]
      }

      it('a word is written once it has ended, on the line its width decides', () => {
        expect(narrow(['- one two', ' three\n'], 10)).to.deep.equal(['• one', ' two\n  three\n', ''])
      })

      it('a word wider than the line is written as it arrives, its last character held', () => {
        expect(narrow(['x abcdefghijklmn', 'opq\n'], 6)).to.deep.equal(['x abcd\nefghij\nklm', 'nop\nq\n', ''])
      })

      it('a nested quote waits for text after its markers', () => {
        expect(narrow(['> ', '> x\n'], 10)).to.deep.equal(['', '│ │ x\n', ''])
      })

      it('the same lines whatever the pieces, none wider than the width', () => {
        const wrapped = `- a list item with *emphasis* long enough to wrap\n> > quoted 日本語のテキスト and https://example.com/long/path\n${TABLE}`
        // The sample's code and headings are not wrapped.
        const text = `${SAMPLE}\n${wrapped}`
        for (const width of [9, 17, 26]) {
          expect(widest(wrapped, width, PLAIN), `at ${width}`).to.be.at.most(width)
          const whole = renderMarkdown(text, {style: PLAIN, width})
          for (const size of [1, 3, 7]) {
            const pieces = text.match(new RegExp(`[^]{1,${size}}`, 'gu'))!
            expect(narrow(pieces, width).join(''), `width ${width}, pieces of ${size}`).to.equal(whole)
          }
        }
      })
    })
  })

  describe('text is data', () => {
    const HOSTILE = 'x\u001B]0;pwned\u0007y\u001B[2Jz\u009B1mw\rFAKE'
    const SHOWN = String.raw`x\x1b]0;pwned\x07y\x1b[2Jz\x9b1mw\rFAKE`

    it('escapes control characters in text, code spans, code blocks, table cells and link targets', () => {
      const input = [
        `p ${HOSTILE}`,
        `\`c ${HOSTILE}\``,
        '```js',
        `k ${HOSTILE}`,
        '```',
        `| h |`,
        `|---|`,
        `| ${HOSTILE} |`,
        `[l](https://e.example/${HOSTILE.replaceAll(' ', '')})`,
        '',
      ].join('\n')
      const out = render(input, COLOR, 200)
      const withoutOurColours = out.replaceAll(/\u001B\[\d+m/g, '')
      expect(withoutOurColours).not.to.match(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/)
      expect(withoutOurColours)
        .to.include(`p ${SHOWN}`)
        .and.to.include(`c ${SHOWN}`)
        .and.to.include(`k ${SHOWN}`)
        .and.to.include(SHOWN.split(String.raw`\r`)[0])
      expect(out).to.include(`${sgr(2)}(https://e.example/x${String.raw`\x1b`}]0;pwned`)
    })
  })

  describe('pieces', () => {
    it('parseInline stops at the first opener whose closer may still come', () => {
      expect(parseInline('plain *start', {complete: false}).stable).to.equal(6)
      expect(parseInline('plain *start', {complete: true}).stable).to.equal(12)
      expect(parseInline('a `b` c\\', {complete: false}).stable).to.equal(7)
      expect(parseInline('see <https://x', {complete: false}).stable).to.equal(4)
      expect(parseInline('snake_ca', {complete: false}).stable).to.equal(8)
    })

    it('displayWidth counts CJK and emoji as two columns, combining marks as none, colour codes not at all', () => {
      expect(displayWidth('日本語')).to.equal(6)
      expect(displayWidth('🙂 ok')).to.equal(5)
      expect(displayWidth('e\u0301')).to.equal(1)
      expect(displayWidth(`${sgr(1)}bold${sgr(22)}`)).to.equal(4)
    })
  })
})
