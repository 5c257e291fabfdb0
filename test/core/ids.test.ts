import {expect} from 'chai'

import {ID_LENGTH, idFactory, newId, normalizeIdPrefix} from '../../src/core/ids.js'

const AT = Date.UTC(2026, 11, 1, 10, 0, 0)

describe('ids', () => {
  it('are 26 characters of Crockford base32, and increase within one millisecond', () => {
    const ids = Array.from({length: 1000}, () => newId(AT))
    for (const id of ids) {
      expect(id).to.have.lengthOf(ID_LENGTH)
      expect(normalizeIdPrefix(id)).to.equal(id)
    }
    expect([...ids].sort()).to.deep.equal(ids)
    expect(new Set(ids).size).to.equal(ids.length)
  })

  it('never go back when the clock does', () => {
    const make = idFactory()
    const first = make(AT)
    const second = make(AT - 5000)
    expect(second > first).to.equal(true)
    expect(second.slice(0, 10)).to.equal(first.slice(0, 10))
  })

  it('move on to the next millisecond when the random part would overflow, never wrapping to a smaller id', () => {
    // Every random digit the largest (31, "Z"): the first id of the millisecond is the last one it has.
    const make = idFactory(size => new Uint8Array(size).fill(0xff))
    const top = make(AT)
    expect(top.slice(10)).to.equal('Z'.repeat(16))
    const next = make(AT)
    const after = make(AT)
    expect(next > top, `${next} after ${top}`).to.equal(true)
    expect(after > next, `${after} after ${next}`).to.equal(true)
    // Each overflow takes the next millisecond's time part (this source overflows on every increment).
    const timeOf = (ms: number) => idFactory()(ms).slice(0, 10)
    expect([top, next, after].map(id => id.slice(0, 10))).to.deep.equal([timeOf(AT), timeOf(AT + 1), timeOf(AT + 2)])
  })
})
