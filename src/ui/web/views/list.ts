import {UI_SORT_KEYS, type UiSessionPage, type UiSortKey} from '../../api-types.js'
import {api, h, headline, modelLabel, money, plural, when} from '../dom.js'

const SORT_LABELS: Record<UiSortKey, string> = {cost: 'Cost', created: 'Created', messages: 'Messages', title: 'Title', updated: 'Updated'}

/** The list's state lives in the address (#/?model=…&since=…), so a view can be reloaded and shared. */
export async function listView(params: URLSearchParams, navigate: (params: URLSearchParams) => void): Promise<HTMLElement> {
  const query = new URLSearchParams()
  for (const key of ['offset', 'sort', 'order', 'model']) if (params.get(key)) query.set(key, params.get(key)!)
  // The date inputs give calendar days in the reader's time zone: from the start of `since` to the end of `until`.
  const since = params.get('since')
  const until = params.get('until')
  if (since) query.set('since', new Date(`${since}T00:00:00`).toISOString())
  if (until) query.set('until', new Date(new Date(`${until}T00:00:00`).getTime() + 86_400_000).toISOString())
  const page = await api<UiSessionPage>(`/api/sessions?${query}`)

  const change = (key: string, value: string) => {
    const next = new URLSearchParams(params)
    if (value === '') next.delete(key)
    else next.set(key, value)
    next.delete('offset')
    navigate(next)
  }
  const select = (name: string, label: string, options: Array<[string, string]>, value: string) =>
    h(
      'label',
      {},
      `${label} `,
      h(
        'select',
        {name, onchange: event => change(name, (event.target as HTMLSelectElement).value)},
        ...options.map(([v, text]) => h('option', {selected: v === value, value: v}, text)),
      ),
    )
  const date = (name: string, label: string) =>
    h(
      'label',
      {},
      `${label} `,
      h('input', {name, onchange: event => change(name, (event.target as HTMLInputElement).value), type: 'date', value: params.get(name) ?? ''}),
    )
  const filters = h(
    'form',
    {class: 'filters', onsubmit: event => event.preventDefault()},
    select('model', 'Model', [['', 'All models'], ...page.models.map((m): [string, string] => [m, m])], params.get('model') ?? ''),
    date('since', 'Updated from'),
    date('until', 'to'),
    select(
      'sort',
      'Sort by',
      UI_SORT_KEYS.map(key => [key, SORT_LABELS[key]]),
      params.get('sort') ?? 'updated',
    ),
    select(
      'order',
      'Order',
      [
        ['', 'Default'],
        ['desc', 'Descending'],
        ['asc', 'Ascending'],
      ],
      params.get('order') ?? '',
    ),
  )

  const rows = page.sessions.map(s =>
    h(
      'tr',
      {'data-id': s.id},
      h(
        'td',
        {class: 'title'},
        h('a', {href: `#/session/${s.id}`}, headline(s)),
        s.kept ? h('span', {class: 'badge', title: 'Kept from retention'}, 'kept') : null,
        s.parentId === null
          ? null
          : h(
              'span',
              {
                class: 'badge fork',
                title: s.parentPosition === null ? 'Forked from another session' : `Forked from another session at message #${s.parentPosition}`,
              },
              'fork',
            ),
      ),
      h('td', {class: 'model'}, modelLabel(s)),
      h('td', {class: 'number'}, String(s.messageCount)),
      h('td', {class: 'number cost'}, s.costUsd === null ? '—' : money(s.costUsd)),
      h('td', {class: 'date'}, h('time', {datetime: s.updatedAt}, when(s.updatedAt))),
    ),
  )
  const table =
    page.total === 0
      ? h('p', {class: 'empty'}, params.toString() === '' ? 'No sessions yet: "synapse chat" starts one.' : 'No session matches these filters.')
      : h(
          'table',
          {class: 'sessions'},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Title'),
              h('th', {}, 'Model'),
              h('th', {class: 'number', title: 'Every stored message, replaced and undone ones included'}, 'Messages'),
              h('th', {class: 'number'}, 'Cost'),
              h('th', {}, 'Updated'),
            ),
          ),
          h('tbody', {}, ...rows),
        )

  const move = (offset: number) => {
    const next = new URLSearchParams(params)
    next.set('offset', String(offset))
    navigate(next)
  }
  const first = page.offset + 1
  const last = page.offset + page.sessions.length
  const pager = h(
    'nav',
    {class: 'pager'},
    h('button', {disabled: page.offset === 0, onclick: () => move(Math.max(0, page.offset - page.limit)), type: 'button'}, '← Previous'),
    h('span', {class: 'range'}, page.total === 0 ? '' : `${first}–${last} of ${plural(page.total, 'session')}`),
    h('button', {disabled: last >= page.total, onclick: () => move(page.offset + page.limit), type: 'button'}, 'Next →'),
  )
  return h('section', {class: 'list'}, h('h1', {}, 'Sessions'), filters, table, pager)
}
