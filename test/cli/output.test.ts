import {expect} from 'chai'

import {detectStyle, paint, relativeTime, table, type TableColumn} from '../../src/cli/output.js'

const tty = {isTTY: true} as NodeJS.WriteStream
const pipe = {isTTY: false} as NodeJS.WriteStream

describe('terminal output', function () {
  it('colours a terminal, not a pipe; NO_COLOR wins over everything, FORCE_COLOR colours a pipe', function () {
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

  it('paints only when colour is on', function () {
    expect(paint({color: true, terminal: true}, 'red', 'x')).to.equal('\u001B[31mx\u001B[39m')
    expect(paint({color: false, terminal: true}, 'red', 'x')).to.equal('x')
  })

  it('aligns columns on a terminal, ignoring colour codes, and writes tab-separated lines to a pipe', function () {
    type Row = {a: string; b: string}
    const rows: Row[] = [
      {a: 'one', b: 'first\tvalue'},
      {a: 'three', b: 'x'},
    ]
    const columns: TableColumn<Row>[] = [
      {header: 'A', tint: () => 'cyan', value: (r) => r.a},
      {header: 'B', maxWidth: 8, value: (r) => r.b},
    ]
    expect(table(rows, columns, {color: false, terminal: true})).to.deep.equal(['A      B', 'one    first v…', 'three  x'])
    expect(table(rows, columns, {color: true, terminal: true})[2]).to.equal('\u001B[36mthree\u001B[39m  x')
    expect(table(rows, columns, {color: false, terminal: false})).to.deep.equal(['one\tfirst value', 'three\tx'])
  })

  it('says how long ago in words, then the date', function () {
    const now = new Date('2026-06-15T12:00:00.000Z')
    expect(relativeTime(new Date('2026-06-15T11:59:30.000Z'), now)).to.equal('just now')
    expect(relativeTime(new Date('2026-06-15T11:55:00.000Z'), now)).to.equal('5 min ago')
    expect(relativeTime(new Date('2026-06-15T09:00:00.000Z'), now)).to.equal('3 h ago')
    expect(relativeTime(new Date('2026-06-13T12:00:00.000Z'), now)).to.equal('2 d ago')
    expect(relativeTime(new Date('2026-01-02T12:00:00.000Z'), now)).to.equal('2026-01-02')
  })
})
