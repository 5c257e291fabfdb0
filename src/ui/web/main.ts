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

function showNotice(text: string | undefined): void {
  notice.textContent = text ?? ''
  notice.hidden = text === undefined
}

async function render(): Promise<void> {
  const hash = location.hash.replace(/^#/, '') || '/'
  const [path, query = ''] = hash.split('?', 2)
  showNotice(pendingNotice)
  pendingNotice = undefined
  main.setAttribute('aria-busy', 'true')
  try {
    const session = /^\/session\/([^/]+)$/.exec(path)
    const params = new URLSearchParams(query)
    const navigate = (base: string) => (next: URLSearchParams) => {
      location.hash = `#${base}?${next}`
    }
    const view = session
      ? await sessionView(decodeURIComponent(session[1]), params, {
          deleted: title => {
            pendingNotice = `Deleted "${title}".`
            location.hash = '#/'
          },
          notice: showNotice,
        })
      : path === '/search'
        ? await searchView(params, navigate('/search'))
        : path === '/usage'
          ? await usageView(params, navigate('/usage'))
          : await listView(params, navigate('/'))
    main.replaceChildren(view)
    // A search hit links to its message (#/session/ID?at=N): bring it into view.
    const target = view.querySelector('.message.target')
    if (target) target.scrollIntoView({block: 'center'})
    else view.querySelector<HTMLInputElement>('input[autofocus]')?.focus()
    const heading = view.querySelector('h1')
    if (heading) document.title = `${heading.textContent} · synapse`
  } catch (error) {
    main.replaceChildren(h('p', {class: 'error'}, error instanceof Error ? error.message : String(error)))
  } finally {
    main.removeAttribute('aria-busy')
  }
}

window.addEventListener('hashchange', () => void render())
void render()
