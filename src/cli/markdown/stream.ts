import {terminalSafe} from '../../core/terminal-text.js'
import {type OutputStyle, paint} from '../output.js'
import {highlightLine, type HighlightState} from './highlight.js'
import {parseInline, renderInline} from './inline.js'
import {displayWidth} from '../width.js'
import {LineWrapper, wrapLines} from './wrap.js'

export interface MarkdownOptions {
  style: OutputStyle
  /**
   * Terminal columns: text is wrapped to them, tables fitted, rules drawn. Read once, when the
   * reply starts (a terminal resized while it streams keeps the earlier width). Default 80.
   */
  width?: number
}

type LineKind =
  | {contentStart: number; indent: number; kind: 'paragraph'}
  | {contentStart: number; kind: 'heading'; level: number}
  | {contentStart: number; kind: 'item'; indent: number; marker: string}
  | {contentStart: number; depth: number; kind: 'quote'}
  | {kind: 'blank'}
  | {kind: 'rule'}
  | {kind: 'table'}
  | {kind: 'fence'; language: string; marker: string}

/** A line whose text is being written as it arrives. */
type StreamedKind = Extract<LineKind, {contentStart: number}>

const BULLETS = ['•', '◦', '▪']
const DELIMITER_ROW = /^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/

/**
 * Markdown to styled terminal text, as it streams: `push` takes each piece of a reply and returns
 * what can be written now; nothing written is ever taken back or written again.
 *
 * - Headings, list items, quotes and paragraphs are written word by word as they arrive, once the
 *   start of the line has said which one it is (`#`, `-`, `1.`, `>`); inline constructs are written
 *   when they close (an opener with no closer yet holds the rest of that line back, at most to its end).
 * - List items, quotes and paragraphs are word-wrapped at the width (see wrap.ts): a word is
 *   written once it has ended, since its end decides the line it goes on; a continuation line keeps
 *   the item's hanging indent or the quote's bars. Headings are not wrapped.
 * - A code block line is written, highlighted, when the line ends, never wrapped: code keeps its lines.
 * - A table is held until it ends (its column widths depend on every row), then written aligned;
 *   one wider than the width has its widest columns narrowed and their cells wrapped, and one that
 *   cannot have a column each is written as "header: value" lines, a block per row.
 * - Setext headings (a line of `===` under text) and indented code blocks are not recognised: by
 *   the time the underline arrives, the text is on the screen.
 *
 * Everything from the model passes through terminalSafe before it is styled, code and link targets
 * included: the only escape sequences written are this renderer's colours. Without colour (NO_COLOR,
 * TERM=dumb) the output is the same text with no escape sequences at all.
 */
export class MarkdownStream {
  private current: undefined | {emitted: number; kind: StreamedKind; shownWidth: number; wrapper?: LineWrapper}
  private fence: undefined | {language: string; marker: string; state: HighlightState}
  private line = ''
  private listIndents: number[] = []
  private readonly style: OutputStyle
  private table: string[] = []
  private readonly width: number

  constructor(options: MarkdownOptions) {
    this.style = options.style
    this.width = options.width !== undefined && options.width > 0 ? options.width : 80
  }

  /** Everything still held (a line without its newline, a table), written out; ends with a newline when anything was written at all. */
  end(): string {
    let out = ''
    if (this.line !== '' || this.current) out += this.completeLine(this.line)
    this.line = ''
    out += this.flushTable()
    return out
  }

  push(delta: string): string {
    this.line += delta
    let out = ''
    for (let newline = this.line.indexOf('\n'); newline !== -1; newline = this.line.indexOf('\n')) {
      const raw = this.line.slice(0, newline)
      this.line = this.line.slice(newline + 1)
      out += this.completeLine(raw)
    }

    return out + this.partialLine()
  }

  private completeLine(raw: string): string {
    const text = safe(raw.endsWith('\r') ? raw.slice(0, -1) : raw)
    if (this.current) {
      const out = this.continueLine(text, true) + this.finishLine()
      this.current = undefined
      return out
    }

    if (this.fence) {
      const close = text.trim()
      if (close.startsWith(this.fence.marker) && close.replaceAll(this.fence.marker[0], '') === '') {
        this.fence = undefined
        return ''
      }

      return `  ${highlightLine(text, this.fence.language, this.fence.state, this.style)}\n`
    }

    const kind = classify(text, true)!
    if (kind.kind === 'table') {
      this.table.push(text)
      return ''
    }

    let out = this.flushTable()
    switch (kind.kind) {
      case 'blank': {
        return `${out}\n`
      }

      case 'fence': {
        this.fence = {language: kind.language, marker: kind.marker, state: {inBlockComment: false}}
        this.listIndents = []
        return kind.language === '' ? out : `${out}${paint(this.style, 'dim', `  ${kind.language}`)}\n`
      }

      case 'rule': {
        this.listIndents = []
        return `${out}${paint(this.style, 'dim', '─'.repeat(Math.max(3, Math.min(this.width, 60))))}\n`
      }

      default: {
        out += this.startLine(kind)
        out += this.continueLine(text, true) + this.finishLine()
        this.current = undefined
        return out
      }
    }
  }

  /** The next part of a line of text (`text` is all of it so far) that can be written now. */
  private continueLine(text: string, complete: boolean): string {
    const current = this.current!
    const {nodes, stable} = parseInline(text, {complete, from: current.emitted})
    current.emitted = stable
    const rendered = renderInline(nodes, this.style)
    if (current.kind.kind !== 'heading') return current.wrapper!.push(rendered, complete)
    current.shownWidth += displayWidth(rendered)
    return paint(this.style, 'bold', current.kind.level <= 2 ? paint(this.style, 'cyan', rendered) : rendered)
  }

  /** The end of a streamed line: a newline, and under a first- or second-level heading, a rule as wide as it. */
  private finishLine(): string {
    const current = this.current!
    if (current.kind.kind === 'heading' && current.kind.level <= 2) {
      return `\n${paint(this.style, 'cyan', (current.kind.level === 1 ? '═' : '─').repeat(Math.max(1, current.shownWidth)))}\n`
    }

    return '\n'
  }

  private flushTable(): string {
    const rows = this.table
    this.table = []
    if (rows.length === 0) return ''
    if (rows.length < 2 || !DELIMITER_ROW.test(rows[1])) {
      // Lines that start with "|" but are no table: text like any other.
      return rows
        .map(row => {
          const out = this.startLine({contentStart: 0, indent: 0, kind: 'paragraph'}) + this.continueLine(row, true) + this.finishLine()
          this.current = undefined
          return out
        })
        .join('')
    }

    const alignments = cells(rows[1]).map(cell => (cell.endsWith(':') ? (cell.startsWith(':') ? 'center' : 'right') : 'left'))
    const body = [rows[0], ...rows.slice(2)].map(row => cells(row).map(cell => renderInline(parseInline(cell).nodes, this.style)))
    const columns = Math.max(...body.map(row => row.length))
    const natural = Array.from({length: columns}, (_, c) => Math.max(1, ...body.map(row => displayWidth(row[c] ?? ''))))
    const widths = fitColumns(natural, this.width - CELL_GAP * (columns - 1))
    if (!widths) return this.tableAsRecords(body, columns)
    const bar = paint(this.style, 'dim', '│')
    const lines = (row: string[], header: boolean) => {
      const wrapped = widths.map((width, c) => wrapLines(row[c] ?? '', width))
      return Array.from({length: Math.max(...wrapped.map(cell => cell.length))}, (_, n) =>
        widths
          .map((width, c) => {
            const text = align(wrapped[c][n] ?? '', width, alignments[c] ?? 'left')
            return header ? paint(this.style, 'bold', text) : text
          })
          .join(` ${bar} `)
          .trimEnd(),
      )
    }

    const separator = paint(this.style, 'dim', widths.map(width => '─'.repeat(width)).join('─┼─'))
    const bodyLines = body.slice(1).map(row => lines(row, false))
    // Rows of more than one line are told apart by a rule between them.
    const tall = bodyLines.some(row => row.length > 1)
    return [...lines(body[0], true), separator, ...bodyLines.flatMap((row, r) => (tall && r > 0 ? [separator, ...row] : row))].map(text => `${text}\n`).join('')
  }

  /** A table too wide for even a column each: every row as "header: value" lines, rows a blank line apart. */
  private tableAsRecords(body: string[][], columns: number): string {
    const [header, ...rows] = body
    const field = (name: string, value: string) => {
      const label = name === '' ? '' : `${paint(this.style, 'bold', name)}:`
      const wrapper = new LineWrapper({continuation: '  ', start: displayWidth(label), width: this.width})
      // The space after the label is one the value may break at: no line ends in it.
      return `${label}${wrapper.push(label === '' || value === '' ? value : ` ${value}`, true)}\n`
    }

    if (rows.length === 0) return header.map(name => field(name, '')).join('')
    return rows.map(row => Array.from({length: columns}, (_, c) => field(header[c] ?? '', row[c] ?? '')).join('')).join('\n')
  }

  /** Writes what can be written of the line still arriving. */
  private partialLine(): string {
    if (this.fence || this.line === '') return ''
    const text = safe(this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line)
    let out = ''
    if (!this.current) {
      const kind = classify(text, false)
      if (!kind || !('contentStart' in kind)) return ''
      out += this.flushTable() + this.startLine(kind)
    }

    return out + this.continueLine(text, false)
  }

  /** The prefix of a line of text: a bullet, a number, a quote bar, an indentation. */
  private startLine(kind: StreamedKind): string {
    this.current = {emitted: kind.contentStart, kind, shownWidth: 0}
    const prefix = this.prefix(kind)
    if (kind.kind !== 'heading') {
      // A continuation keeps the quote's bars, or goes on under the item's or the paragraph's text.
      const continuation = kind.kind === 'quote' ? prefix : ' '.repeat(displayWidth(prefix))
      this.current.wrapper = new LineWrapper({continuation, start: displayWidth(prefix), width: this.width})
    }

    return prefix
  }

  private prefix(kind: StreamedKind): string {
    switch (kind.kind) {
      case 'heading': {
        return ''
      }

      case 'item': {
        while (this.listIndents.length > 0 && this.listIndents.at(-1)! > kind.indent) this.listIndents.pop()
        if (this.listIndents.length === 0 || this.listIndents.at(-1)! < kind.indent) this.listIndents.push(kind.indent)
        const level = this.listIndents.length - 1
        const marker = /^\d/.test(kind.marker) ? kind.marker : kind.marker === '[ ]' ? '☐' : kind.marker === '[x]' ? '☑' : BULLETS[level % BULLETS.length]
        return `${'  '.repeat(level)}${paint(this.style, 'cyan', marker)} `
      }

      case 'paragraph': {
        if (kind.indent === 0) this.listIndents = []
        // A line indented under a list item goes on with the item's text.
        return this.listIndents.length > 0 ? '  '.repeat(this.listIndents.length) : ' '.repeat(kind.indent)
      }

      case 'quote': {
        return paint(this.style, 'dim', '│ '.repeat(kind.depth))
      }
    }
  }
}

/** Renders a whole Markdown text (a stored reply) at once. */
export function renderMarkdown(text: string, options: MarkdownOptions): string {
  const stream = new MarkdownStream(options)
  return stream.push(text) + stream.end()
}

/**
 * Which kind of line `text` starts; undefined while too little of it has arrived to tell (`#` may
 * become a heading or a hashtag, `1` a list number or a year, a backtick a fence or code).
 */
function classify(text: string, complete: boolean): LineKind | undefined {
  const indent = /^[ \t]*/.exec(text)![0]
  const columns = indent.replaceAll('\t', '    ').length
  const rest = text.slice(indent.length)
  const wait = (pattern: RegExp) => !complete && pattern.test(rest)
  if (rest === '') return complete ? {kind: 'blank'} : undefined

  const fence = /^(`{3,}|~{3,})\s*([^\s`]*)/.exec(rest)
  if (fence) return complete ? {kind: 'fence', language: fence[2], marker: fence[1]} : undefined
  if (wait(/^(`{1,2}|~{1,2})$/)) return undefined
  if (rest.startsWith('|')) return complete ? {kind: 'table'} : undefined
  if (complete && /^([-*_])( *\1){2,} *$/.test(rest)) return {kind: 'rule'}
  if (wait(/^[-*_][-*_ ]*$/)) return undefined

  const heading = /^(#{1,6})([ \t]+|$)/.exec(rest)
  if (heading && (complete || heading[2] !== '')) return {contentStart: indent.length + heading[0].length, kind: 'heading', level: heading[1].length}
  if (wait(/^#{1,6}$/)) return undefined

  const item = /^(\d{1,9}[.)]|[-*+])([ \t]+|$)/.exec(rest)
  if (item && (complete || item[2] !== '')) {
    const content = rest.slice(item[0].length)
    const task = /^\[([ xX])\][ \t]+/.exec(content)
    if (!/^\d/.test(item[1]) && task)
      return {contentStart: indent.length + item[0].length + task[0].length, indent: columns, kind: 'item', marker: task[1] === ' ' ? '[ ]' : '[x]'}
    if (!complete && !/^\d/.test(item[1]) && /^\[([ xX](\][ \t]*)?)?$/.test(content)) return undefined
    return {contentStart: indent.length + item[0].length, indent: columns, kind: 'item', marker: item[1]}
  }

  if (wait(/^(\d{1,9}[.)]?|[-*+])$/)) return undefined

  // Nested quotes: `> > text`. Until text follows the markers, another `>` may still come.
  const quote = /^(?:>[ \t]?)+/.exec(rest)
  if (quote)
    return complete || rest.length > quote[0].length
      ? {contentStart: indent.length + quote[0].length, depth: quote[0].replaceAll(/[ \t]/g, '').length, kind: 'quote'}
      : undefined
  return {contentStart: indent.length, indent: columns, kind: 'paragraph'}
}

/** The cells of a table row; `\|` is a pipe inside a cell. */
function cells(row: string): string[] {
  const inner = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
  // A tab is a space: a cell's width is counted in columns, and a tab has none of its own.
  return inner.split(/(?<!\\)\|/).map(cell => cell.trim().replaceAll('\\|', '|').replaceAll('\t', ' '))
}

/** The columns between two cells: ` │ `. */
const CELL_GAP = 3

/**
 * Column widths within `available` columns: the widest columns give up a column at a time (the
 * rightmost of equals first), so narrow ones keep their text on one line. Undefined when not even
 * one column each fits.
 */
function fitColumns(natural: number[], available: number): number[] | undefined {
  if (available < natural.length) return undefined
  const widths = [...natural]
  for (let over = widths.reduce((sum, width) => sum + width, 0) - available; over > 0; over--) {
    const widest = Math.max(...widths)
    widths[widths.lastIndexOf(widest)]--
  }

  return widths
}

function align(text: string, width: number, alignment: string): string {
  const gap = Math.max(0, width - displayWidth(text))
  if (alignment === 'right') return ' '.repeat(gap) + text
  if (alignment === 'center') return ' '.repeat(Math.floor(gap / 2)) + text + ' '.repeat(gap - Math.floor(gap / 2))
  return text + ' '.repeat(gap)
}

/** A line of the reply with every control character shown as an escape (a tab stays: code is indented with them). */
function safe(text: string): string {
  return terminalSafe(text, {multiline: true})
}
