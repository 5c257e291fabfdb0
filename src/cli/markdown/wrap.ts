import {displayWidth, graphemeCells} from '../width.js'

/**
 * Word wrapping of styled text (this renderer's colour codes and text that terminalSafe made
 * printable) at a terminal's width, as it streams.
 *
 * Lines break at spaces; the spaces at a break are dropped, so no line ends in them. A word wider
 * than a whole line is broken by columns where it stands, between grapheme clusters (never inside
 * one, nor inside a colour code). Colour and style are closed at the end of each line and opened
 * again after the next line's prefix (a hanging indent, quote bars), so nothing bleeds into the
 * margin or colours the prefix.
 */

const SGR = /\u001B\[[0-9;]*m/g

type Token = {kind: 'char' | 'space'; text: string; width: number} | {kind: 'code'; text: string}

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  const plain = (part: string) => {
    for (const cell of graphemeCells(part)) {
      // A tab in running text is a space: where a tab stop falls depends on the column, which wrapping moves.
      if (cell.text === ' ' || cell.text === '\t') tokens.push({kind: 'space', text: ' ', width: 1})
      else tokens.push({kind: 'char', text: cell.text, width: cell.width})
    }
  }

  let last = 0
  for (const match of text.matchAll(SGR)) {
    plain(text.slice(last, match.index))
    tokens.push({kind: 'code', text: match[0]})
    last = match.index + match[0].length
  }

  plain(text.slice(last))
  return tokens
}

function textOf(tokens: Token[]): string {
  return tokens.map(token => token.text).join('')
}

const ATTRIBUTE: Record<number, string> = {1: 'bold', 2: 'dim', 3: 'italic', 4: 'underline', 9: 'strike'}
const RESETS: Record<number, string[]> = {22: ['bold', 'dim'], 23: ['italic'], 24: ['underline'], 29: ['strike'], 39: ['fg'], 49: ['bg']}
const CLOSE: Record<string, number> = {bg: 49, bold: 22, dim: 22, fg: 39, italic: 23, strike: 29, underline: 24}

/** What a terminal has switched on at a point of a line, tracked as it reads the codes (22 ends bold and dim both, as it does there). */
class ActiveStyles {
  private readonly on = new Map<string, number>()

  apply(code: string): void {
    for (const param of code.slice(2, -1).split(';')) {
      const n = Number(param === '' ? 0 : param)
      if (n === 0) this.on.clear()
      else if (n in RESETS) for (const attribute of RESETS[n]) this.on.delete(attribute)
      else if (n in ATTRIBUTE) this.on.set(ATTRIBUTE[n], n)
      else if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) this.on.set('fg', n)
      else if ((n >= 40 && n <= 47) || (n >= 100 && n <= 107)) this.on.set('bg', n)
    }
  }

  /** The codes that switch it all off. */
  close(): string {
    return [...new Set([...this.on.keys()].map(attribute => CLOSE[attribute]))].map(n => `\u001B[${n}m`).join('')
  }

  /** The codes that switch it all on again. */
  open(): string {
    return [...this.on.values()].map(n => `\u001B[${n}m`).join('')
  }
}

export interface WrapLayout {
  /** What starts every line after the first: a hanging indent, quote bars. */
  continuation: string
  /** Columns the first line's prefix took (the caller wrote it). */
  start: number
  /** Columns in a line. */
  width: number
}

/**
 * One line of Markdown (a paragraph, an item, a quote) laid out in lines of the terminal's width as
 * its text arrives. `push` returns what can be written now: every word that has ended (a space
 * after it) and fits; a word still arriving is held, since more of it may send it to the next
 * line, unless it is already wider than a line, when it is written as it comes.
 */
export class LineWrapper {
  private column: number
  private readonly continuationWidth: number
  /** The last thing written was part of a word wider than a line, and that word may go on. */
  private inWord = false
  private pending = ''
  private readonly styles = new ActiveStyles()

  constructor(private readonly layout: WrapLayout) {
    this.column = layout.start
    this.continuationWidth = displayWidth(layout.continuation)
  }

  /** `text` follows what was pushed before; `complete`: the line ends with it. */
  push(text: string, complete: boolean): string {
    const tokens = tokenize(this.pending + text)
    this.pending = ''
    const {width} = this.layout
    const room = Math.max(1, width - this.continuationWidth)
    let out = ''
    const emit = (token: Token) => {
      out += token.text
      if (token.kind === 'code') this.styles.apply(token.text)
      else this.column += token.width
    }

    /** A new line: the styles closed, the prefix, the styles opened again; `dropped` are the spaces at the break, whose codes still count. */
    const newline = (dropped: Token[]) => {
      out += `${this.styles.close()}\n${this.layout.continuation}`
      for (const token of dropped) if (token.kind === 'code') this.styles.apply(token.text)
      out += this.styles.open()
      this.column = this.continuationWidth
    }

    /** A new line only helps when this one holds more than the next would start with. */
    const canBreak = () => this.column > this.continuationWidth
    /** The spaces before a word: written when the word goes on this line, a line break otherwise. */
    const before = (spaces: Token[], fits: boolean) => {
      if (fits || !canBreak()) for (const token of spaces) emit(token)
      else newline(spaces)
    }
    const columns = (run: Token[]) => run.reduce((sum, token) => sum + (token.kind === 'code' ? 0 : token.width), 0)

    let i = 0
    while (i < tokens.length) {
      let start = i
      while (start < tokens.length && tokens[start].kind !== 'char') start++
      let end = start
      while (end < tokens.length && tokens[end].kind !== 'space') end++
      const spaces = tokens.slice(i, start)
      const word = tokens.slice(start, end)
      if (word.length === 0) {
        // Spaces at the end of the line are dropped; their codes are not.
        if (complete) {
          for (const token of spaces) if (token.kind === 'code') emit(token)
        } else {
          this.pending = textOf(spaces)
        }

        break
      }

      if (spaces.some(token => token.kind === 'space')) this.inWord = false
      const growing = end === tokens.length && !complete
      const wordWidth = columns(word)
      if (!this.inWord && wordWidth <= room) {
        if (growing) {
          this.pending = textOf(tokens.slice(i))
          break
        }

        before(spaces, this.column + columns(spaces) + wordWidth <= width)
        for (const token of word) emit(token)
        i = end
        continue
      }

      // Wider than a line: broken by columns, from where it stands. While it may still grow, its
      // last cluster waits (a combining mark or a joined emoji may follow in the next piece).
      const firstWidth = (word.find(token => token.kind === 'char') as {width: number}).width
      before(spaces, this.inWord || this.column + columns(spaces) + firstWidth <= width)
      const held = growing ? word.findLastIndex(token => token.kind === 'char') : word.length
      for (const token of word.slice(0, held)) {
        if (token.kind !== 'code' && this.column + token.width > width && canBreak()) newline([])
        emit(token)
      }

      this.inWord = true
      if (growing) {
        this.pending = textOf(word.slice(held))
        break
      }

      i = end
    }

    return out
  }
}

/** Styled text in lines of at most `width` columns, as a table cell shows it. */
export function wrapLines(text: string, width: number): string[] {
  return new LineWrapper({continuation: '', start: 0, width}).push(text, true).split('\n')
}
