import {expect} from 'chai'

import {detectStyle, paint, relativeTime, table, type TableColumn, terminalWidth} from '../../src/cli/output.js'
import {cutToWidth, displayWidth} from '../../src/cli/width.js'

const tty = {isTTY: true} as NodeJS.WriteStream
const pipe = {isTTY: false} as NodeJS.WriteStream

describe('terminal output', () => {
  it('colours a terminal, not a pipe; NO_COLOR wins over everything, FORCE_COLOR colours a pipe', () => {
    expect(detectStyle(tty, {})).to.deep.equal({color: true, terminal: true})
    expect(detectStyle(pipe, {})).to.deep.equal({color: false, terminal: false})
    expect(detectStyle(tty, {NO_COLOR: '1'})).to.deep.equal({color: false, terminal: true})
    expect(detectStyle(tty, {TERM: 'dumb'})).to.deep.equal({color: false, terminal: true})
    expect(detectStyle(pipe, {FORCE_COLOR: '1'})).to.deep.equal({color: true, terminal: false})
    expect(detectStyle(pipe, {FORCE_COLOR: '1', NO_COLOR: '1'})).to.deep.equal({color: false, terminal: false})
    expect(detectStyle(tty, {FORCE_COLOR: '0'})).to.deep.equal({color: false, terminal: true})
    // An empty NO_COLOR does not count (no-color.org).
    expect(detectStyle(tty, {NO_COLOR: ''})).to.deep.equal({color: true, terminal: true})
  })

  it('paints only when colour is on', () => {
    expect(paint({color: true, terminal: true}, 'red', 'x')).to.equal('\u001B[31mx\u001B[39m')
    expect(paint({color: false, terminal: true}, 'red', 'x')).to.equal('x')
  })

  it('aligns columns on a terminal, ignoring colour codes, and writes tab-separated lines to a pipe', () => {
    type Row = {a: string; b: string}
    const rows: Row[] = [
      {a: 'one', b: 'first\tvalue'},
      {a: 'three', b: 'x'},
    ]
    const columns: TableColumn<Row>[] = [
      {header: 'A', tint: () => 'cyan', value: r => r.a},
      {header: 'B', maxWidth: 8, value: r => r.b},
    ]
    expect(table(rows, columns, {color: false, terminal: true})).to.deep.equal(['A      B', 'one    first v…', 'three  x'])
    expect(table(rows, columns, {color: true, terminal: true})[2]).to.equal('\u001B[36mthree\u001B[39m  x')
    expect(table(rows, columns, {color: false, terminal: false})).to.deep.equal(['one\tfirst value', 'three\tx'])
  })

  it('counts terminal columns, not code points: wide CJK and emoji, zero-width marks and joiners', () => {
    expect(
      ['abc', '日本語', '한국어', 'ｶﾀｶﾅ', '👍', '👨‍👩‍👧', '🇫🇷', '❤️', 'e\u0301', '\u200B', '\u001B[31mred\u001B[39m'].map(t => displayWidth(t)),
    ).to.deep.equal([3, 6, 6, 4, 2, 2, 2, 2, 1, 0, 3])
    expect(cutToWidth('日本語のタイトル', 7)).to.equal('日本語…')
    expect(cutToWidth('a👨‍👩‍👧b', 3)).to.equal('a…')
    expect(cutToWidth('a👨‍👩‍👧b', 4)).to.equal('a👨‍👩‍👧b')
    expect(cutToWidth('short', 5)).to.equal('short')
    // Plain ASCII is cut on its own path, as the grapheme path would: spaces before the "…" go.
    expect(['a title that is long', 'ab', 'abc'].map((t, i) => cutToWidth(t, [9, 1, 0][i]))).to.deep.equal(['a title…', '…', ''])
    expect(cutToWidth('a title\u0301 that is long', 9)).to.equal('a title\u0301…')
  })

  it('fits a terminal width: shrinks columns to their minimum, leaves out optional ones, then shrinks to the headers', () => {
    type Row = {a: string; b: string; c: string; d: string}
    const rows: Row[] = [{a: 'id', b: '中文 title that is rather long', c: 'model-name-long', d: 'when'}]
    const columns: TableColumn<Row>[] = [
      {header: 'ID', value: r => r.a},
      {header: 'TITLE', minWidth: 10, value: r => r.b},
      {header: 'MODEL', minWidth: 6, value: r => r.c},
      {header: 'WHEN', optional: true, value: r => r.d},
    ]
    const plain = {color: false, terminal: true}
    expect(table(rows, columns, plain)).to.deep.equal([
      'ID  TITLE                           MODEL            WHEN',
      'id  中文 title that is rather long  model-name-long  when',
    ])
    expect(table(rows, columns, plain, {width: 40})).to.deep.equal(['ID  TITLE          MODEL            WHEN', 'id  中文 title t…  model-name-long  when'])
    expect(table(rows, columns, plain, {width: 26})).to.deep.equal(['ID  TITLE       MODEL', 'id  中文 titl…  model-nam…'])
    expect(table(rows, columns, plain, {width: 18})).to.deep.equal(['ID  TITLE   MODEL', 'id  中文…   model…'])
    // In a pipe the width does not matter.
    expect(table(rows, columns, {color: false, terminal: false}, {width: 18})).to.deep.equal(['id\t中文 title that is rather long\tmodel-name-long\twhen'])
  })

  it('pads outside the colour codes, so no line ends in spaces: a line as wide as the terminal would wrap', () => {
    const rows = [
      {a: 'one', b: 'x'},
      {a: 'two', b: 'a longer note'},
    ]
    const columns: TableColumn<{a: string; b: string}>[] = [
      {header: 'A', value: r => r.a},
      {header: 'NOTE', tint: () => 'dim', value: r => r.b},
    ]
    const lines = table(rows, columns, {color: true, terminal: true})
    expect(lines).to.deep.equal(['\u001B[1mA\u001B[22m    \u001B[1mNOTE\u001B[22m', 'one  \u001B[2mx\u001B[22m', 'two  \u001B[2ma longer note\u001B[22m'])
  })

  describe('a wrapped last column', () => {
    type Row = {name: string; note: string}
    const rows: Row[] = [
      {name: 'anthropic', note: 'set ANTHROPIC_API_KEY or run "synapse keys set anthropic"'},
      {name: 'openai', note: ''},
    ]
    const columns: TableColumn<Row>[] = [
      {header: 'PROVIDER', value: r => r.name},
      {header: 'NOTE', value: r => r.note, wrap: true},
    ]
    const plain = {color: false, terminal: true}

    it('stays on one line when it fits, and in a pipe', () => {
      expect(table(rows, columns, plain, {width: 80})).to.deep.equal([
        'PROVIDER   NOTE',
        'anthropic  set ANTHROPIC_API_KEY or run "synapse keys set anthropic"',
        'openai',
      ])
      expect(table(rows, columns, {color: false, terminal: false}, {width: 20})[0]).to.equal(
        'anthropic\tset ANTHROPIC_API_KEY or run "synapse keys set anthropic"',
      )
    })

    it('goes on under its column, broken between words, a quoted part kept whole', () => {
      expect(table(rows, columns, plain, {width: 45})).to.deep.equal([
        'PROVIDER   NOTE',
        'anthropic  set ANTHROPIC_API_KEY or run',
        '           "synapse keys set anthropic"',
        'openai',
      ])
    })

    it('goes under the row, across the width, when its column is too narrow for a quoted part', () => {
      expect(table(rows, columns, plain, {width: 36})).to.deep.equal([
        'PROVIDER',
        'anthropic',
        '  set ANTHROPIC_API_KEY or run',
        '  "synapse keys set anthropic"',
        'openai',
      ])
    })
  })

  it('fits tables to a terminal that reports its size, and to nothing in a pipe or on an unsized terminal', () => {
    const onTerminal = {color: false, terminal: true}
    expect(terminalWidth(onTerminal, {columns: 80} as NodeJS.WriteStream)).to.equal(80)
    expect(terminalWidth(onTerminal, {columns: 0} as NodeJS.WriteStream)).to.equal(undefined)
    expect(terminalWidth({color: false, terminal: false}, {columns: 80} as NodeJS.WriteStream)).to.equal(undefined)
  })

  it('keeps control characters and terminal escapes from data out of every cell', () => {
    const rows = [{v: 'evil\u001B]0;owned\u0007 title\u001B[2J \u202Eright-to-left'}]
    const columns: TableColumn<{v: string}>[] = [{header: 'V', value: r => r.v}]
    // Controls, a bidirectional override among them, are shown as visible escapes (terminalSafe).
    expect(table(rows, columns, {color: false, terminal: true})[1]).to.equal(String.raw`evil\x1b]0;owned\x07 title\x1b[2J \u202eright-to-left`)
    expect(table(rows, columns, {color: false, terminal: false})[0]).to.equal(String.raw`evil\x1b]0;owned\x07 title\x1b[2J \u202eright-to-left`)
  })

  it('says how long ago in words, then the date', () => {
    const now = new Date('2026-06-15T12:00:00.000Z')
    expect(relativeTime(new Date('2026-06-15T11:59:30.000Z'), now)).to.equal('just now')
    expect(relativeTime(new Date('2026-06-15T11:55:00.000Z'), now)).to.equal('5 min ago')
    expect(relativeTime(new Date('2026-06-15T09:00:00.000Z'), now)).to.equal('3 h ago')
    expect(relativeTime(new Date('2026-06-13T12:00:00.000Z'), now)).to.equal('2 d ago')
    expect(relativeTime(new Date('2026-01-02T12:00:00.000Z'), now)).to.equal('2026-01-02')
  })
})
