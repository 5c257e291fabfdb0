import './style.css'

import {h} from './dom.js'
import {listView} from './views/list.js'
import {sessionView} from './views/session.js'

/**
 * The page of `synapse ui`: one script, no framework. The address's fragment says what is shown
 * (#/ the list, #/session/ID one session), so the back button and reloading work.
 */
const app = document.getElementById('app')!
const main = h('main', {})
const notice = h('p', {class: 'notice', hidden: true, role: 'status'})
app.append(h('header', {class: 'top'}, h('a', {class: 'brand', href: '#/'}, 'synapse'), h('nav', {}, h('a', {href: '#/'}, 'Sessions'))), notice, main)

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
    const view = session
      ? await sessionView(decodeURIComponent(session[1]), {
          deleted: title => {
            pendingNotice = `Deleted "${title}".`
            location.hash = '#/'
          },
          notice: showNotice,
        })
      : await listView(new URLSearchParams(query), params => {
          location.hash = `#/?${params}`
        })
    main.replaceChildren(view)
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
