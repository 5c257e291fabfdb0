import type {Message, UsageGroup, UsageReport, UsageTotals} from '../../store/session-store.js'
import {type OutputStyle, paint, plural, table} from '../output.js'
import {displayWidth, padToWidth} from '../width.js'

/**
 * US dollars as a person reads an amount that may be a fraction of a cent: two decimals from a
 * dollar up, four below, and "<$0.0001" for what would round to nothing but is not nothing.
 */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0.00'
  if (usd < 0.0001) return '<$0.0001'
  return usd < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`
}

/** A cost that may be unknown: "cost unknown" rather than a $0 that was never charged. */
export function costLabel(usd: null | number): string {
  return usd === null ? 'cost unknown' : formatUsd(usd)
}

/** "1,234" */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** One reply's tokens and cost, as `sessions show` and `chat -v` print them: "120→45 tokens (30 cached, estimated) · $0.0012". */
export function replyUsageLine(usage: Pick<Message, 'cachedInputTokens' | 'costUsd' | 'inputTokens' | 'outputTokens' | 'tokenSource'>): string | undefined {
  if (usage.inputTokens === null && usage.outputTokens === null) return undefined
  const notes: string[] = []
  if (usage.cachedInputTokens) notes.push(`${formatCount(usage.cachedInputTokens)} cached`)
  if (usage.tokenSource === 'tokenizer' || usage.tokenSource === 'estimate') notes.push('estimated')
  const tokens = `${usage.inputTokens === null ? '?' : formatCount(usage.inputTokens)}→${usage.outputTokens === null ? '?' : formatCount(usage.outputTokens)} tokens`
  return `${tokens}${notes.length > 0 ? ` (${notes.join(', ')})` : ''} · ${costLabel(usage.costUsd)}`
}

/** A set of replies' totals on one line: "3 replies · 1,200→300 tokens (200 cached) · $0.0150 (1 unpriced)". */
export function totalsLine(totals: UsageTotals): string {
  const notes: string[] = []
  if (totals.cachedInputTokens > 0) notes.push(`${formatCount(totals.cachedInputTokens)} cached`)
  if (totals.estimatedReplies > 0) notes.push(`${formatCount(totals.estimatedReplies)} estimated`)
  const tokens = `${formatCount(totals.inputTokens)}→${formatCount(totals.outputTokens)} tokens${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`
  return [plural(totals.replies, 'reply', 'replies'), tokens, costWithGaps(totals)].join(' · ')
}

/** The cost of a set, saying when some of it is unknown: then the sum is a lower bound. */
function costWithGaps(totals: UsageTotals): string {
  if (totals.costUsd === null) return totals.replies > 0 ? 'cost unknown' : formatUsd(0)
  return totals.unpricedReplies > 0 ? `${formatUsd(totals.costUsd)} + ${totals.unpricedReplies} unpriced` : formatUsd(totals.costUsd)
}

const GROUP_HEADER = {day: 'DAY', model: 'MODEL', provider: 'PROVIDER', session: 'SESSION'} as const

/**
 * `synapse usage`: a table of the groups (tab-separated in a pipe) and the total under it, or the
 * total alone. By day at a terminal, each row ends in a bar of its cost (or, with no costs known,
 * of its tokens) scaled to the widest that fits `width`.
 */
export function renderUsage(report: UsageReport, style: OutputStyle, options: {width?: number} = {}): string[] {
  if (report.by === null || report.groups.length === 0) return [totalsLine(report.total)]
  const columns = [
    {header: GROUP_HEADER[report.by], maxWidth: 40, minWidth: 10, value: (g: UsageGroup) => g.key ?? '(none)'},
    {header: 'REPLIES', value: (g: UsageGroup) => formatCount(g.replies)},
    {header: 'INPUT', value: (g: UsageGroup) => formatCount(g.inputTokens)},
    {header: 'CACHED', optional: true, value: (g: UsageGroup) => formatCount(g.cachedInputTokens)},
    {header: 'OUTPUT', value: (g: UsageGroup) => formatCount(g.outputTokens)},
    {header: 'COST', value: (g: UsageGroup) => costWithGaps(g)},
  ]
  const lines = table(report.groups, columns, style, {width: options.width})
  if (style.terminal && report.by === 'day') withBars(lines, report.groups, style, options.width)
  if (style.terminal) lines.push(paint(style, 'dim', `total: ${totalsLine(report.total)}`))
  return lines
}

const BAR = '█'
const MAX_BAR = 40

/** Appends a bar to each row of a day table, in the room the terminal has left (too little: no bars); the header row gets none. */
function withBars(lines: string[], groups: UsageGroup[], style: OutputStyle, width: number | undefined): void {
  const byCost = groups.some(g => g.costUsd !== null && g.costUsd > 0)
  const measure = (g: UsageGroup) => (byCost ? (g.costUsd ?? 0) : g.inputTokens + g.outputTokens)
  const largest = Math.max(...groups.map(measure))
  const tableWidth = Math.max(...lines.map(line => displayWidth(line)))
  const room = Math.min(MAX_BAR, (width ?? tableWidth + 2 + MAX_BAR) - tableWidth - 2)
  if (largest <= 0 || room < 5) return
  groups.forEach((group, index) => {
    const length = Math.round((measure(group) / largest) * room)
    // A day with any use gets at least a sliver, so that it does not read as none.
    const bar = BAR.repeat(measure(group) > 0 ? Math.max(1, length) : 0)
    lines[index + 1] = `${padToWidth(lines[index + 1], tableWidth)}  ${paint(style, 'cyan', bar)}`
  })
}
