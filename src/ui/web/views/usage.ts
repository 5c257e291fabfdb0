import type {UiUsage, UiUsageGroup} from '../../api-types.js'
import {api, h, money} from '../dom.js'

const SVG = 'http://www.w3.org/2000/svg'
const DAY_MS = 86_400_000
const RANGES: Array<[string, string]> = [
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
  ['365', 'Last year'],
  ['all', 'All time'],
]

/** #/usage?days=30: tokens and cost per day and per model, from SessionStore.usage. */
export async function usageView(params: URLSearchParams, navigate: (params: URLSearchParams) => void): Promise<HTMLElement> {
  const days = params.get('days') ?? '30'
  const request = new URLSearchParams()
  if (days !== 'all') {
    const start = new Date()
    start.setHours(0, 0, 0, 0)
    request.set('since', new Date(start.getTime() - (Number(days) - 1) * DAY_MS).toISOString())
  }
  const usage = await api<UiUsage>(`/api/usage?${request}`)
  const range = h(
    'select',
    {'aria-label': 'Period', name: 'days', onchange: event => navigate(new URLSearchParams({days: (event.target as HTMLSelectElement).value}))},
    ...RANGES.map(([value, label]) => h('option', {selected: value === days, value}, label)),
  )
  const section = h(
    'section',
    {class: 'usage', 'data-days': days},
    h('h1', {}, 'Usage'),
    h('form', {class: 'filters', onsubmit: event => event.preventDefault()}, range),
  )
  const {total} = usage
  if (total.replies === 0) {
    section.append(h('p', {class: 'empty'}, 'No replies in this period.'))
    return section
  }
  section.append(
    h(
      'dl',
      {class: 'totals'},
      ...fact('Replies', total.replies.toLocaleString()),
      ...fact('Input tokens', total.inputTokens.toLocaleString()),
      ...fact('Output tokens', total.outputTokens.toLocaleString()),
      ...fact('Cost', costLabel(total)),
    ),
  )
  const dayGroups = everyDay(usage.days, days === 'all' ? undefined : Number(days))
  section.append(
    chart(
      'Tokens per day',
      dayGroups.map(g => ({
        label: g.key ?? '',
        segments: [
          {className: 'bar-input', name: 'input', value: g.inputTokens},
          {className: 'bar-output', name: 'output', value: g.outputTokens},
        ],
      })),
      n => Math.round(n).toLocaleString(),
    ),
    chart(
      'Cost per day (USD)',
      dayGroups.map(g => ({label: g.key ?? '', segments: [{className: 'bar-cost', name: 'cost', value: g.costUsd ?? 0}]})),
      money,
    ),
    modelTable(usage.models),
  )
  return section
}

interface Bar {
  label: string
  segments: Array<{className: string; name: string; value: number}>
}

/** A bar chart drawn as SVG: every label and number is a text node, nothing parsed from the data. */
function chart(title: string, bars: Bar[], format: (n: number) => string): HTMLElement {
  const width = 960
  const height = 220
  const left = 64
  const bottom = 28
  const top = 12
  const max = Math.max(...bars.map(b => b.segments.reduce((sum, s) => sum + s.value, 0)), 0)
  const scale = max === 0 ? 0 : (height - top - bottom) / max
  const step = (width - left) / Math.max(bars.length, 1)
  const root = svg('svg', {class: 'chart', 'aria-label': title, role: 'img', viewBox: `0 0 ${width} ${height}`})
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - fraction * max * scale
    root.append(svg('line', {class: 'grid', x1: String(left), x2: String(width), y1: String(y), y2: String(y)}))
    root.append(svg('text', {class: 'axis', 'text-anchor': 'end', x: String(left - 6), y: String(y + 4)}, format(fraction * max)))
  }
  const labelEvery = Math.ceil(bars.length / 12)
  bars.forEach((bar, index) => {
    let y = height - bottom
    const x = left + index * step + step * 0.15
    const group = svg('g', {class: 'bar', 'data-label': bar.label})
    for (const segment of bar.segments) {
      const h = segment.value * scale
      y -= h
      group.append(svg('rect', {class: segment.className, height: String(h), width: String(step * 0.7), x: String(x), y: String(y)}))
    }
    group.append(svg('title', {}, `${bar.label}: ${bar.segments.map(s => `${format(s.value)} ${s.name}`).join(', ')}`))
    root.append(group)
    if (index % labelEvery === 0)
      root.append(svg('text', {class: 'axis', 'text-anchor': 'middle', x: String(x + step * 0.35), y: String(height - 8)}, shortDay(bar.label)))
  })
  const legend =
    bars[0]?.segments.length > 1 ? h('div', {class: 'legend'}, ...bars[0].segments.map(s => h('span', {class: `key key-${s.name}`}, s.name))) : null
  return h('figure', {class: 'chart'}, h('figcaption', {}, title), root, legend)
}

function modelTable(models: UiUsageGroup[]): HTMLElement {
  const most = Math.max(...models.map(m => m.costUsd ?? 0), 0)
  const mostTokens = Math.max(...models.map(m => m.inputTokens + m.outputTokens), 0)
  return h(
    'figure',
    {class: 'chart'},
    h('figcaption', {}, 'By model'),
    h(
      'table',
      {class: 'models'},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Model'),
          h('th', {class: 'number'}, 'Replies'),
          h('th', {class: 'number'}, 'Tokens'),
          h('th', {class: 'number'}, 'Cost'),
          h('th', {}, ''),
        ),
      ),
      h(
        'tbody',
        {},
        ...models.map(m => {
          const tokens = m.inputTokens + m.outputTokens
          const share = most > 0 ? (m.costUsd ?? 0) / most : mostTokens > 0 ? tokens / mostTokens : 0
          return h(
            'tr',
            {'data-model': m.key ?? ''},
            h('td', {}, m.key ?? '(no model)'),
            h('td', {class: 'number'}, m.replies.toLocaleString()),
            h('td', {class: 'number'}, tokens.toLocaleString()),
            h('td', {class: 'number'}, costLabel(m)),
            h('td', {class: 'bar-cell'}, meter(share)),
          )
        }),
      ),
    ),
  )
}

function meter(share: number): SVGElement {
  return svg(
    'svg',
    {class: 'meter', preserveAspectRatio: 'none', viewBox: '0 0 100 10'},
    svg('rect', {class: 'bar-cost', height: '10', width: String(Math.max(share * 100, 0.5)), x: '0', y: '0'}),
  )
}

/** The days from the first with replies (or the period's start) to today, those without replies as zeros. */
function everyDay(groups: UiUsageGroup[], days: number | undefined): UiUsageGroup[] {
  const byKey = new Map(groups.map(g => [g.key, g]))
  const today = new Date()
  today.setHours(12, 0, 0, 0)
  const first = days === undefined ? (groups[0]?.key ? new Date(`${groups[0].key}T12:00:00`) : today) : new Date(today.getTime() - (days - 1) * DAY_MS)
  const out: UiUsageGroup[] = []
  for (let at = first; at <= today; at = new Date(at.getTime() + DAY_MS)) {
    const key = localDay(at)
    out.push(byKey.get(key) ?? {cachedInputTokens: 0, costUsd: null, estimatedReplies: 0, inputTokens: 0, key, outputTokens: 0, replies: 0, unpricedReplies: 0})
  }
  return out
}

function localDay(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`
}

function shortDay(key: string): string {
  const date = new Date(`${key}T12:00:00`)
  return Number.isNaN(date.getTime()) ? key : date.toLocaleDateString(undefined, {day: 'numeric', month: 'short'})
}

function costLabel(totals: {costUsd: null | number; replies: number; unpricedReplies: number}): string {
  if (totals.costUsd === null) return '—'
  return totals.unpricedReplies > 0 ? `≥ ${money(totals.costUsd)} (${totals.unpricedReplies.toLocaleString()} unpriced)` : money(totals.costUsd)
}

function fact(term: string, value: string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)]
}

function svg(tag: string, attrs: Record<string, string>, ...children: Array<Node | string>): SVGElement {
  const element = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value)
  element.append(...children)
  return element
}
