import './style.css'

import {h} from './dom.js'
import {listView} from './views/list.js'
import {searchView} from './views/search.js'
import {sessionView} from './views/session.js'
import {usageView} from './views/usage.js'

/**
 * The page of `synapse ui`: one script, no framework. The address's fragment says what is shown
 * (#/ the list, #/session/ID one session, #/search?q=… the hits, #/usage the charts), so the back button and
 * reloading work.
 */
const app = document.getElementById('app')!
const main = h('main', {})
const notice = h('p', {class: 'notice', hidden: true, role: 'status'})
app.append(
  h(
    'header',
    {class: 'top'},
    h('a', {class: 'brand', href: '#/'}, 'synapse'),
    h('nav', {}, h('a', {href: '#/'}, 'Sessions'), h('a', {href: '#/search'}, 'Search'), h('a', {href: '#/usage'}, 'Usage')),
  ),
  notice,
  main,
)

let pendingNotice: string | undefined
/** Counts renders: one that finishes after a newer one started (the address changed meanwhile) is dropped. */
let renders = 0

function showNotice(text: string | undefined): void {
  notice.textContent = text ?? ''
  notice.hidden = text === undefined
}

/**
 * Draws the view the address names. When it is on the page, `main` carries that address in
 * `data-shown`: the address changes before its view is drawn, so this is what says it is there.
 */
async function render(): Promise<void> {
  const mine = ++renders
  const hash = location.hash.replace(/^#/, '') || '/'
  const [path, query = ''] = hash.split('?', 2)
  showNotice(pendingNotice)
  pendingNotice = undefined
  main.setAttribute('aria-busy', 'true')
  try {
    const session = /^\/session\/([^/]+)$/.exec(path)
    const params = new URLSearchParams(query)
    const navigate = (base: string) => (next: URLSearchParams) => {
      location.hash = `#${base}${next.size === 0 ? '' : `?${next}`}`
    }
    const view = session
      ? await sessionView(decodeURIComponent(session[1]), params, {
          deleted: title => {
            pendingNotice = `Deleted "${title}".`
            location.hash = '#/'
          },
          navigate: navigate(path),
          notice: showNotice,
        })
      : path === '/search'
        ? await searchView(params, navigate('/search'))
        : path === '/usage'
          ? await usageView(params, navigate('/usage'))
          : await listView(params, navigate('/'))
    if (mine !== renders) return
    main.replaceChildren(view)
    main.dataset.shown = `#${hash}`
    // A search hit links to its message (#/session/ID?at=N): bring it into view.
    const target = view.querySelector('.message.target')
    if (target) target.scrollIntoView({block: 'center'})
    else view.querySelector<HTMLInputElement>('input[autofocus]')?.focus()
    const heading = view.querySelector('h1')
    if (heading) document.title = `${heading.textContent} · synapse`
  } catch (error) {
    if (mine !== renders) return
    main.replaceChildren(h('p', {class: 'error'}, error instanceof Error ? error.message : String(error)))
    main.dataset.shown = `#${hash}`
  } finally {
    if (mine === renders) main.removeAttribute('aria-busy')
  }
}

window.addEventListener('hashchange', () => void render())
void render()
