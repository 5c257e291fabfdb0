import {expect} from 'chai'

import {hasControlCharacters, terminalSafe, terminalSafeJson} from '../../src/core/terminal-text.js'

describe('terminalSafe', () => {
  const cases: Array<[string, string, string]> = [
    ['OSC 0 (retitles the terminal)', '\u001B]0;pwned\u0007', String.raw`\x1b]0;pwned\x07`],
    ['CSI clear screen', 'a\u001B[2Jb', String.raw`a\x1b[2Jb`],
    ['C1 CSI', 'a\u009B2Jb', String.raw`a\x9b2Jb`],
    ['every other C1', '\u0080\u0085\u008D\u0090\u009D\u009F', String.raw`\x80\x85\x8d\x90\x9d\x9f`],
    ['a lone carriage return', 'safe\rFAKE', String.raw`safe\rFAKE`],
    ['DEL and NUL', 'a\u007Fb\u0000c', String.raw`a\x7fb\x00c`],
    ['backspace, form feed, vertical tab', 'a\bb\fc\vd', String.raw`a\bb\fc\vd`],
    ['OSC 52 (writes the clipboard)', '\u001B]52;c;cHduZWQ=\u001B\\', '\\x1b]52;c;cHduZWQ=\\x1b\\'],
    [
      'bidi embeddings, overrides and isolates (Trojan Source)',
      'a\u202Ab\u202Bc\u202Cd\u202De\u202Ef\u2066g\u2067h\u2068i\u2069',
      String.raw`a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069`,
    ],
  ]

  for (const [what, text, shown] of cases) {
    it(`shows ${what} as visible escapes, on one line and in a body`, () => {
      expect(terminalSafe(text)).to.equal(shown)
      expect(terminalSafe(text, {multiline: true})).to.equal(shown)
    })
  }

  it('escapes newline and tab on one line, keeps them (and CRLF) in a body', () => {
    expect(terminalSafe('a\nb\tc\r\nd')).to.equal(String.raw`a\nb\tc\r\nd`)
    expect(terminalSafe('a\nb\tc\r\nd', {multiline: true})).to.equal('a\nb\tc\r\nd')
  })

  it('leaves printable text alone, unicode, backslashes and right-to-left marks included', () => {
    const text = `${String.raw`Grüße 👋 — \x1b is how one writes ESC; U+2028 here: `}\u2028 ok, שלום\u200F (RLM) عربي\u200E`
    expect(terminalSafe(text)).to.equal(text)
    expect(terminalSafe(text, {multiline: true})).to.equal(text)
  })

  it('leaves no character a terminal interprets', () => {
    let every = ''
    for (let code = 0; code < 0x100; code++) every += String.fromCodePoint(code)
    expect(terminalSafe(every)).not.to.match(/[\u0000-\u001F\u007F-\u009F]/)
    expect(terminalSafe(every, {multiline: true}).replaceAll(/[\n\t]/g, '')).not.to.match(/[\u0000-\u001F\u007F-\u009F]/)
  })

  it('is idempotent, so a value escaped twice reads the same', () => {
    const once = terminalSafe('\u001B]0;x\u0007\n')
    expect(terminalSafe(once)).to.equal(once)
  })

  it('tells which values hold control characters', () => {
    expect(hasControlCharacters('gpt-$(touch${IFS}pwned)')).to.equal(false)
    expect(hasControlCharacters('a\nb')).to.equal(true)
    expect(hasControlCharacters('a\u001Bb')).to.equal(true)
    expect(hasControlCharacters('a\u009Bb')).to.equal(true)
    expect(hasControlCharacters('a\u202Eb')).to.equal(true)
    expect(hasControlCharacters('שלום\u200F')).to.equal(false)
  })
})

describe('terminalSafeJson', () => {
  it('writes the controls JSON.stringify leaves raw as \\u escapes: the same value, nothing a terminal acts on', () => {
    const value = {nested: ['DEL\u007F', 'C1 CSI\u009B2J', 'bidi\u202Eevil\u2066x\u2069'], text: 'ESC\u001B[2J, RLM\u200F kept, é 中 😀'}
    const json = JSON.stringify(value, null, 2)
    const shown = terminalSafeJson(json)
    expect(shown).not.to.match(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/)
    expect(shown).to.include(String.raw`DEL\u007f`)
    expect(shown).to.include('RLM\u200F kept, é 中 😀')
    expect(JSON.parse(shown)).to.deep.equal(value)
  })
})
