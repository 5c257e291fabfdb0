import type {UiSearchHit, UiSearchPage} from '../../api-types.js'
import {api, h, headline, modelLabel, when} from '../dom.js'

const ROLES: Array<[string, string]> = [
  ['', 'Any role'],
  ['user', 'Questions'],
  ['assistant', 'Replies'],
  ['system', 'System'],
]

/** #/search?q=…: the core's full-text search, each hit's snippet with its matches marked. */
export async function searchView(params: URLSearchParams, navigate: (params: URLSearchParams) => void): Promise<HTMLElement> {
  const query = params.get('q') ?? ''
  const input = h('input', {
    'aria-label': 'Search',
    autofocus: true,
    name: 'q',
    placeholder: 'words, "a phrase", prefix*',
    type: 'search',
    value: query,
  }) as HTMLInputElement
  const role = h(
    'select',
    {'aria-label': 'Role', name: 'role'},
    ...ROLES.map(([value, label]) => h('option', {selected: value === (params.get('role') ?? ''), value}, label)),
  ) as HTMLSelectElement
  const form = h('form', {class: 'search'}, input, role, h('button', {type: 'submit'}, 'Search'))
  form.addEventListener('submit', event => {
    event.preventDefault()
    const next = new URLSearchParams()
    if (input.value.trim() !== '') next.set('q', input.value)
    if (role.value !== '') next.set('role', role.value)
    navigate(next)
  })
  const section = h('section', {class: 'search-view'}, h('h1', {}, 'Search'), form)
  if (query.trim() === '') return section

  const request = new URLSearchParams({q: query})
  for (const key of ['role', 'offset', 'replaced']) if (params.get(key)) request.set(key, params.get(key)!)
  const page = await api<UiSearchPage>(`/api/search?${request}`)
  if (page.hits.length === 0) {
    section.append(h('p', {class: 'empty'}, page.offset === 0 ? 'Nothing matches.' : 'No more hits.'))
    return section
  }
  section.append(h('ol', {class: 'hits'}, ...page.hits.map(hitItem)))
  const move = (offset: number) => {
    const next = new URLSearchParams(params)
    next.set('offset', String(offset))
    navigate(next)
  }
  section.append(
    h(
      'nav',
      {class: 'pager'},
      h('button', {disabled: page.offset === 0, onclick: () => move(Math.max(0, page.offset - page.limit)), type: 'button'}, '← Previous'),
      h('span', {class: 'range'}, `hits ${page.offset + 1}–${page.offset + page.hits.length}`),
      h('button', {disabled: !page.more, onclick: () => move(page.offset + page.limit), type: 'button'}, 'Next →'),
    ),
  )
  return section
}

function hitItem(hit: UiSearchHit): HTMLElement {
  const target = `#/session/${hit.session.id}${hit.message ? `?at=${hit.message.position}` : ''}`
  return h(
    'li',
    {class: 'hit', 'data-session': hit.session.id},
    h(
      'div',
      {class: 'hit-head'},
      h('a', {href: target}, headline(hit.session)),
      h('span', {class: 'fact'}, hit.message ? hit.message.role : 'title'),
      ...(hit.replaced ? [h('span', {class: 'badge taken-out'}, 'replaced or undone')] : []),
      h('span', {class: 'fact'}, modelLabel(hit.session)),
      h('time', {datetime: hit.message?.createdAt ?? hit.session.updatedAt}, when(hit.message?.createdAt ?? hit.session.updatedAt)),
    ),
    h('p', {class: 'snippet'}, ...marked(hit.snippet.text, hit.snippet.matches)),
  )
}

/** The snippet as text nodes, each match in a <mark>: the text is never parsed as HTML. */
export function marked(text: string, matches: Array<{end: number; start: number}>): Array<Node | string> {
  const parts: Array<Node | string> = []
  let at = 0
  for (const {end, start} of [...matches].sort((a, b) => a.start - b.start)) {
    if (start < at) continue
    if (start > at) parts.push(text.slice(at, start))
    parts.push(h('mark', {}, text.slice(start, end)))
    at = end
  }
  if (at < text.length) parts.push(text.slice(at))
  return parts
}
