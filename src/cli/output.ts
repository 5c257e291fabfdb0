/**
 * Terminal-aware output. Colour only on a terminal, never with NO_COLOR (https://no-color.org) or
 * TERM=dumb; FORCE_COLOR turns it on for pipes (FORCE_COLOR=0 off). Tables align on a terminal and become tab-separated
 * lines, one record each, in a pipe, so `cut` and `awk` work on them.
 */
import {terminalSafe} from '../core/terminal-text.js'
import {cutToWidth, displayWidth, padToWidth} from './width.js'

export interface OutputStyle {
  color: boolean
  terminal: boolean
}

export function detectStyle(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): OutputStyle {
  const terminal = Boolean(stream.isTTY)
  let color = terminal && env.TERM !== 'dumb'
  if (env.FORCE_COLOR !== undefined) color = env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') color = false
  return {color, terminal}
}

const CODES = {
  blue: [34, 39],
  bold: [1, 22],
  cyan: [36, 39],
  dim: [2, 22],
  gray: [90, 39],
  green: [32, 39],
  italic: [3, 23],
  magenta: [35, 39],
  red: [31, 39],
  strike: [9, 29],
  underline: [4, 24],
  yellow: [33, 39],
} as const
export type Tint = keyof typeof CODES

export function paint(style: OutputStyle, tint: Tint, text: string): string {
  if (!style.color || text === '') return text
  const [open, close] = CODES[tint]
  return `\u001B[${open}m${text}\u001B[${close}m`
}

export interface TableColumn<T> {
  header: string
  /** Only on a terminal: a longer value is cut to fit and ends in "…". */
  maxWidth?: number
  /**
   * Only on a terminal narrower than the table: the column gives up width down to this many columns,
   * the first such column first. Without it the column keeps its width.
   */
  minWidth?: number
  /** Only on a terminal too narrow even then: the column is left out, the rightmost optional one first. */
  optional?: boolean
  tint?: (row: T) => Tint | undefined
  value(row: T): string
  /**
   * For the last column, whose text must be read whole (a note, a remedy): on a terminal narrower than
   * the table it goes on over the next lines, under its column, broken between words and never
   * inside a quoted part ("synapse keys set openai"), rather than being cut. With less room than its
   * longest such part, it goes under its row instead, across the width, and has no header.
   */
  wrap?: boolean
}

/**
 * The width to fit a table to on `stream`: its terminal's columns. None in a pipe, nor when the
 * terminal reports no size (0, as a pseudo-terminal nobody sized does): then nothing is cut.
 */
export function terminalWidth(style: OutputStyle, stream: NodeJS.WriteStream): number | undefined {
  return style.terminal && stream.columns > 0 ? stream.columns : undefined
}

export interface TableOptions {
  /** The terminal's width in columns: no line is longer. Undefined: no limit. */
  width?: number
}

const GAP = 2
/** How far a wrapped last column's text is indented when it goes under its row. */
const UNDER_INDENT = 2

/** Cells are stored text: shown on one line, control characters escaped (see printable), in a pipe as on a terminal. */
export function table<T>(rows: T[], columns: TableColumn<T>[], style: OutputStyle, options: TableOptions = {}): string[] {
  if (!style.terminal) return rows.map(row => columns.map(c => printable(c.value(row))).join('\t'))
  const texts = rows.map(row => columns.map(c => printable(c.value(row))))
  const natural = columns.map((c, i) => Math.max(displayWidth(c.header), ...texts.map(r => Math.min(displayWidth(r[i]), c.maxWidth ?? Infinity))))
  const last = columns.length - 1
  const wrapping = columns[last]?.wrap === true
  const unbroken = wrapping ? Math.min(natural[last], Math.max(displayWidth(columns[last].header), ...texts.map(r => longestUnit(r[last])))) : 0
  let {shown, widths} = fitColumns(wrapping ? columns.with(last, {...columns[last], minWidth: unbroken}) : columns, natural, options.width)
  // Too narrow for the wrapped column's quoted parts even so: its text goes under each row, across
  // the whole width, and the other columns are fitted without it.
  const under = wrapping && options.width !== undefined && shown.includes(last) && widths[last] < unbroken
  if (under) ({shown, widths} = fitColumns(columns.slice(0, last), natural.slice(0, last), options.width))
  // Padding goes outside the colour codes, so that trimEnd() can take it off the last cell: padded
  // inside them, a line as wide as the table wrapped on a terminal just as wide, leaving a blank line.
  const cell = (text: string, width: number, tint: Tint | undefined) => {
    const kept = cutToWidth(text, width)
    return padToWidth(tint ? paint(style, tint, kept) : kept, width)
  }
  // A word wider than its room is shown whole, past it, rather than cut.
  const piece = (text: string, width: number, tint: Tint | undefined) => cell(text, Math.max(width, displayWidth(text)), tint)
  const line = (cells: string[]) =>
    shown
      .map(i => cells[i])
      .join(' '.repeat(GAP))
      .trimEnd()
  const lines = [line(columns.map((c, i) => cell(c.header, widths[i], 'bold')))]
  rows.forEach((row, r) => {
    const cells = columns.map((c, i) => cell(texts[r][i], widths[i], c.tint?.(row)))
    const tint = columns[last].tint?.(row)
    if (!wrapping || !shown.includes(last)) {
      lines.push(line(cells))
      if (under && texts[r][last] !== '')
        for (const text of wrapWords(texts[r][last], options.width! - UNDER_INDENT)) lines.push(' '.repeat(UNDER_INDENT) + piece(text, 0, tint))
      return
    }
    wrapWords(texts[r][last], widths[last]).forEach((text, n) => {
      const others = n === 0 ? cells : widths.map(width => ' '.repeat(width))
      lines.push(line(others.with(last, piece(text, widths[last], tint))))
    })
  })
  return lines
}

/** The parts a wrapped cell is never broken inside: a quoted phrase, or a word. */
function units(text: string): string[] {
  return text.match(/"[^"]*"\S*|\S+/g) ?? []
}

function longestUnit(text: string): number {
  return Math.max(0, ...units(text).map(unit => displayWidth(unit)))
}

/** `text` in lines of at most `width` columns, broken between units; a unit wider than that between its words, a word wider still on a line of its own. */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = []
  let current = ''
  const add = (piece: string) => {
    if (current !== '' && displayWidth(current) + 1 + displayWidth(piece) > width) {
      lines.push(current)
      current = piece
    } else {
      current = current === '' ? piece : `${current} ${piece}`
    }
  }
  for (const unit of units(text)) {
    if (displayWidth(unit) <= width) add(unit)
    else for (const word of unit.split(' ')) add(word)
  }
  lines.push(current)
  return lines
}

/**
 * Column widths that fit `available`: shrink the shrinkable columns, in order, towards their
 * minimum; when that is not enough, leave out the rightmost optional column and try again from the
 * natural widths (a column left out gives its room back); with none left to leave out, shrink them
 * further, down to their headers. Only a terminal narrower than the narrowest table then wraps.
 */
function fitColumns<T>(columns: TableColumn<T>[], natural: number[], available: number | undefined): {shown: number[]; widths: number[]} {
  const shrink = (start: number[], shown: number[], floorOf: (c: TableColumn<T>) => number | undefined) => {
    const widths = [...start]
    let over = shown.reduce((sum, i) => sum + widths[i], 0) + GAP * (shown.length - 1) - (available ?? Infinity)
    for (const i of shown) {
      const floor = floorOf(columns[i])
      if (over <= 0 || floor === undefined) continue
      const give = Math.min(over, Math.max(0, widths[i] - floor))
      widths[i] -= give
      over -= give
    }
    return {over, widths}
  }
  let shown = columns.map((_, i) => i)
  for (;;) {
    const fitted = shrink(natural, shown, c => c.minWidth)
    const optional = shown.findLast(i => columns[i].optional)
    if (fitted.over <= 0 || optional === undefined) {
      if (fitted.over <= 0) return {shown, widths: fitted.widths}
      const header = (c: TableColumn<T>) => (c.minWidth === undefined ? undefined : Math.min(c.minWidth, displayWidth(c.header)))
      return {shown, widths: shrink(fitted.widths, shown, header).widths}
    }
    shown = shown.filter(i => i !== optional)
  }
}

/**
 * A value as one line of text a terminal only shows: white space collapsed (tabs too, so a pipe's
 * columns stay apart), control characters (terminal escapes and bidirectional overrides included)
 * as visible escapes (terminalSafe). A title or a message is data and must not drive the terminal.
 */
export function printable(text: string): string {
  return terminalSafe(oneLine(text))
}

export function oneLine(text: string): string {
  return text.replaceAll(/\s+/g, ' ').trim()
}

/** Cuts text to at most `max` terminal columns, ending in "…" when cut. */
export function truncate(text: string, max: number | undefined): string {
  return max === undefined ? text : cutToWidth(text, max)
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", then the date. */
export function relativeTime(date: Date, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000)
  if (seconds < 45) return 'just now'
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  const days = Math.round(hours / 24)
  if (days < 30) return `${days} d ago`
  return date.toISOString().slice(0, 10)
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`
}

/** A date as a person reads it, in the local time zone: `2026-12-01 10:22`. */
export function localTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}`
}

/** A write to stdout that failed (`> /dev/full`, a reader gone): an errno error that names no file. */
export function isOutputFailure(error: unknown): error is NodeJS.ErrnoException {
  const {code, path} = (error ?? {}) as NodeJS.ErrnoException
  return (code === 'ENOSPC' || code === 'EPIPE') && path === undefined
}

/**
 * What `this.log` and `this.logJson` print, through process.stdout as every other write of synapse's
 * (oclif's go through console.log). On Node the two are one stream; Deno's console writes to the
 * descriptor itself and drops a write to a closed pipe without a word, so `synapse sessions list |
 * head -1` ran to its end there and exited 0 instead of stopping with 141.
 */
export function writeOutput(text: string): void {
  try {
    process.stdout.write(text)
  } catch (error) {
    // Thrown by the write itself, so about stdout whatever its code: a reader gone is EPIPE for a
    // pipe and can be ECONNRESET for a socket.
    if (typeof (error as NodeJS.ErrnoException | undefined)?.code !== 'string') throw error
    reportOutputFailure(error as NodeJS.ErrnoException)
  }
}

/**
 * Node's stdout emits a failed write as an 'error' event, which bin/run.js reports (exit 141 for a
 * closed pipe, one line and exit 1 for a full disk); Deno's throws it from the write. Thrown, it is
 * handed to that same listener, so both runtimes report it in the same words.
 */
export function reportOutputFailure(error: NodeJS.ErrnoException): void {
  if (process.stdout.listenerCount('error') === 0) throw error
  process.stdout.emit('error', error)
}
