import {expect} from 'chai'

import {type ComposedMessage, type InputLine, MessageComposer} from '../../src/chat/input.js'

const typed = (text: string): InputLine => ({pasted: false, text})
const pasted = (text: string): InputLine => ({pasted: true, text})

/** Feeds the lines in order; returns every message they completed, and whether something is left open. */
function compose(...lines: InputLine[]): {messages: ComposedMessage[]; pending: boolean} {
  const composer = new MessageComposer()
  const messages: ComposedMessage[] = []
  for (const line of lines) {
    const message = composer.feed(line)
    if (message) messages.push(message)
  }
  return {messages, pending: composer.pending}
}

describe('MessageComposer', () => {
  it('makes each typed line a message, trimmed', () => {
    expect(compose(typed('  hello  '), typed('/help'), typed(''))).to.deep.equal({
      messages: [
        {literal: false, text: 'hello'},
        {literal: false, text: '/help'},
        {literal: false, text: ''},
      ],
      pending: false,
    })
  })

  it('holds pasted lines until the Enter after the paste, which ends the message with what is on the line', () => {
    expect(compose(pasted('line one'), pasted('  line two'))).to.deep.equal({messages: [], pending: true})
    expect(compose(pasted('line one'), pasted('  line two'), typed('line three'))).to.deep.equal({
      messages: [{literal: true, text: 'line one\n  line two\nline three'}],
      pending: false,
    })
  })

  it('keeps the indentation of pasted code and drops the blank lines around it', () => {
    expect(compose(pasted(''), pasted('    indented()'), pasted('\tdone()'), pasted(''), typed('')).messages).to.deep.equal([
      {literal: true, text: '    indented()\n\tdone()'},
    ])
  })

  it('takes pasted text as it is: a """ or a trailing backslash in a paste is only text', () => {
    expect(compose(pasted('"""'), pasted('ends in \\'), typed('')).messages).to.deep.equal([{literal: true, text: '"""\nends in \\'}])
    expect(compose(pasted('/etc/hosts'), typed('')).messages, 'a pasted path is no command').to.deep.equal([{literal: true, text: '/etc/hosts'}])
  })

  it('opens a block with """ on a line of its own and closes it with the next one', () => {
    expect(compose(typed(' """ '), typed('first'), typed(''), typed('  third \\'), typed('/help'))).to.deep.equal({messages: [], pending: true})
    expect(compose(typed('"""'), typed('first'), typed(''), typed('  third \\'), typed('/help'), typed('"""'), typed('next'))).to.deep.equal({
      messages: [
        {literal: false, text: 'first\n\n  third \\\n/help'},
        {literal: false, text: 'next'},
      ],
      pending: false,
    })
  })

  it('a paste of one line without its newline, then Enter: a leading / or """ and a trailing backslash there are text', () => {
    const whole = (text: string): InputLine => ({endsPasted: true, pasted: false, startsPasted: true, text})
    expect(compose(whole('/etc/hosts is what?')).messages, 'a pasted path is no command').to.deep.equal([{literal: true, text: '/etc/hosts is what?'}])
    expect(compose(whole('"""')).messages).to.deep.equal([{literal: true, text: '"""'}])
    expect(compose(whole('ends in \\')).messages).to.deep.equal([{literal: true, text: 'ends in \\'}])
    const afterTyped = {endsPasted: true, pasted: false, startsPasted: false}
    expect(compose({...afterTyped, text: 'run make \\'}).messages, 'typed words, then a paste ending in a backslash').to.deep.equal([
      {literal: false, text: 'run make \\'},
    ])
    expect(compose({...afterTyped, text: '/model gpt-4o'}).messages, 'a typed command with a pasted argument').to.deep.equal([
      {literal: false, text: '/model gpt-4o'},
    ])
    expect(
      compose({endsPasted: false, pasted: false, startsPasted: true, text: 'pasted, then a typed \\'}, typed('more')).messages,
      'a backslash typed after the paste goes on',
    ).to.deep.equal([{literal: true, text: 'pasted, then a typed \nmore'}])
  })

  it('a paste inside a block goes into it, and a pasted """ does not close it', () => {
    expect(compose(typed('"""'), pasted('a'), pasted('"""'), typed('"""')).messages).to.deep.equal([{literal: true, text: 'a\n"""'}])
  })

  it('""" with text around it, or after a pasted line, is text', () => {
    expect(compose(typed('""" not a block')).messages).to.deep.equal([{literal: false, text: '""" not a block'}])
    expect(compose(pasted('before'), typed('"""')).messages).to.deep.equal([{literal: true, text: 'before\n"""'}])
  })

  it('goes on after a typed line that ends in a backslash; the backslash becomes the newline', () => {
    expect(compose(typed('one \\'), typed('two\\'))).to.deep.equal({messages: [], pending: true})
    expect(compose(typed('one \\'), typed('two\\'), typed('three')).messages).to.deep.equal([{literal: false, text: 'one \ntwo\nthree'}])
  })

  it('takes a line holding newlines (an entry recalled from the history) whole and literal', () => {
    expect(compose(typed('/first\nsecond\\')).messages).to.deep.equal([{literal: true, text: '/first\nsecond\\'}])
  })

  it('reset forgets an open block', () => {
    const composer = new MessageComposer()
    composer.feed(typed('"""'))
    composer.feed(typed('dropped'))
    composer.reset()
    expect(composer.pending).to.equal(false)
    expect(composer.feed(typed('fresh'))).to.deep.equal({literal: false, text: 'fresh'})
  })
})
