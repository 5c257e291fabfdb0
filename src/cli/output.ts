/**
 * Terminal-aware output. Colour only on a terminal, never with NO_COLOR (https://no-color.org) or
 * TERM=dumb; FORCE_COLOR turns it on for pipes (FORCE_COLOR=0 off). Tables align on a terminal and become tab-separated
 * lines, one record each, in a pipe, so `cut` and `awk` work on them.
 */
import {terminalSafe} from '../core/terminal-text.js'

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

const ANSI = /\u001B\[[0-9;]*m/g

function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length
}

export interface TableColumn<T> {
  /** Only on a terminal: a long value is cut to fit and ends in "…". */
  maxWidth?: number
  header: string
  value(row: T): string
  tint?: (row: T) => Tint | undefined
}

/** Cells are stored text: shown on one line, control characters escaped, in a pipe as on a terminal. */
export function table<T>(rows: T[], columns: TableColumn<T>[], style: OutputStyle): string[] {
  const cell = (column: TableColumn<T>, row: T) => terminalSafe(oneLine(column.value(row)))
  if (!style.terminal) return rows.map((row) => columns.map((c) => cell(c, row)).join('\t'))
  const cells = rows.map((row) => columns.map((c) => truncate(cell(c, row), c.maxWidth)))
  const widths = columns.map((c, i) => Math.max(visibleLength(c.header), ...cells.map((r) => visibleLength(r[i]))))
  const lines = [columns.map((c, i) => paint(style, 'bold', pad(c.header, widths[i]))).join('  ').trimEnd()]
  rows.forEach((row, r) => {
    lines.push(
      columns
        .map((c, i) => {
          const tint = c.tint?.(row)
          const text = pad(cells[r][i], widths[i])
          return tint ? paint(style, tint, text) : text
        })
        .join('  ')
        .trimEnd(),
    )
  })
  return lines
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)))
}

export function oneLine(text: string): string {
  return text.replaceAll(/\s+/g, ' ').trim()
}

export function truncate(text: string, max: number | undefined): string {
  if (max === undefined) return text
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
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
