import {UI_EXPORT_FORMATS, type UiMessage, type UiSession, type UiSessionView} from '../../api-types.js'
import {api, confirmDialog, h, headline, modelLabel, money, plural, when} from '../dom.js'
import {renderMarkdown} from '../markdown.js'

const EXPORT_LABELS = {json: 'JSON', jsonl: 'JSON lines', markdown: 'Markdown'}

export async function sessionView(
  id: string,
  params: URLSearchParams,
  after: {deleted: (title: string) => void; notice: (text: string) => void},
): Promise<HTMLElement> {
  const view = await api<UiSessionView>(`/api/sessions/${encodeURIComponent(id)}`)
  let session = view.session
  const path = `/api/sessions/${encodeURIComponent(session.id)}`
  const firstQuestion = view.messages.find(m => m.role === 'user')?.content ?? null

  const title = h('h1', {class: 'title'})
  const keptBadge = h('span', {class: 'badge', title: 'Kept from retention'}, 'kept')
  const keepButton = h('button', {'data-action': 'keep', type: 'button'}) as HTMLButtonElement
  const showSession = () => {
    title.textContent = headline({preview: firstQuestion, title: session.title})
    keptBadge.hidden = !session.kept
    keepButton.textContent = session.kept ? 'Stop keeping' : 'Keep'
    keepButton.title = session.kept ? 'Let retention delete it again' : 'Keep it from retention (max_sessions, retention_days, prune)'
  }
  const patch = async (body: {kept?: boolean; title?: string}) => {
    session = await api<UiSession>(path, {body, method: 'PATCH'})
    showSession()
  }

  keepButton.addEventListener(
    'click',
    () => void patch({kept: !session.kept}).then(() => after.notice(session.kept ? 'Kept from retention.' : 'No longer kept.'), fail(after)),
  )

  const input = h('input', {'aria-label': 'New title', maxlength: '500', name: 'title', required: true, type: 'text'}) as HTMLInputElement
  const renameForm = h(
    'form',
    {class: 'rename', hidden: true},
    input,
    h('button', {type: 'submit'}, 'Save'),
    h('button', {onclick: () => (renameForm.hidden = true), type: 'button'}, 'Cancel'),
  )
  renameForm.addEventListener('submit', event => {
    event.preventDefault()
    void patch({title: input.value}).then(() => {
      renameForm.hidden = true
      after.notice('Renamed.')
    }, fail(after))
  })
  const renameButton = h(
    'button',
    {
      'data-action': 'rename',
      onclick: () => {
        input.value = session.title ?? ''
        renameForm.hidden = false
        input.focus()
      },
      type: 'button',
    },
    'Rename',
  )
  const deleteButton = h(
    'button',
    {
      class: 'danger',
      'data-action': 'delete',
      onclick: async () => {
        const name = headline({preview: firstQuestion, title: session.title})
        if (!(await confirmDialog(`Delete "${name}" and its ${plural(view.messages.length, 'message')}? This cannot be undone.`, 'Delete'))) return
        await api(path, {method: 'DELETE'}).then(() => after.deleted(name), fail(after))
      },
      type: 'button',
    },
    'Delete',
  )
  const exports = h(
    'span',
    {class: 'exports'},
    'Export: ',
    ...UI_EXPORT_FORMATS.map(format => h('a', {download: '', href: `${path}/export?format=${format}`}, EXPORT_LABELS[format])),
  )
  showSession()

  const meta = h(
    'dl',
    {class: 'meta'},
    ...definition('Id', session.id),
    ...definition('Model', modelLabel(session)),
    ...definition('Created', when(session.createdAt)),
    ...definition('Updated', when(session.updatedAt)),
    ...definition('Messages', String(view.messages.length)),
    ...definition('Tokens', view.totals.replies === 0 ? '—' : (tokens(view.totals.inputTokens, view.totals.outputTokens) ?? '—')),
    ...definition(
      'Cost',
      view.totals.costUsd === null
        ? '—'
        : `${money(view.totals.costUsd)}${view.totals.unpricedReplies > 0 ? ` (${view.totals.unpricedReplies} replies unpriced)` : ''}`,
    ),
  )
  const metadata = Object.keys(session.metadata).length === 0 ? null : details('Metadata', h('pre', {}, JSON.stringify(session.metadata, null, 2)))
  const systemPrompt = session.systemPrompt === null ? null : details('System prompt', h('pre', {class: 'system-prompt'}, session.systemPrompt))
  const messages =
    view.messages.length === 0
      ? h('p', {class: 'empty'}, 'No messages.')
      : h('ol', {class: 'messages'}, ...view.messages.map(m => messageItem(m, String(m.position) === params.get('at'))))

  return h(
    'article',
    {class: 'session', 'data-id': session.id},
    h('a', {class: 'back', href: '#/'}, '← Sessions'),
    h('header', {}, h('div', {class: 'heading'}, title, keptBadge), h('div', {class: 'actions'}, renameButton, keepButton, deleteButton, exports), renameForm),
    meta,
    systemPrompt,
    metadata,
    messages,
  )
}

function messageItem(message: UiMessage, target: boolean): HTMLElement {
  const facts = [
    message.model ? modelLabel(message) : null,
    tokens(message.inputTokens, message.outputTokens),
    message.costUsd === null ? null : money(message.costUsd),
    message.durationMs === null ? null : `${(message.durationMs / 1000).toFixed(1)} s`,
  ].filter((fact): fact is string => fact !== null)
  return h(
    'li',
    {class: `message role-${message.role} status-${message.status}${target ? ' target' : ''}`, 'data-position': String(message.position)},
    h(
      'div',
      {class: 'message-head'},
      h('span', {class: 'role'}, message.role),
      h('time', {datetime: message.createdAt}, when(message.createdAt)),
      ...facts.map(fact => h('span', {class: 'fact'}, fact)),
      message.status === 'complete' ? null : h('span', {class: `badge status`}, message.status),
    ),
    renderMarkdown(message.content),
  )
}

function tokens(input: null | number, output: null | number): null | string {
  if (input === null && output === null) return null
  return `${input?.toLocaleString() ?? '?'} in → ${output?.toLocaleString() ?? '?'} out tokens`
}

function definition(term: string, value: string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)]
}

function details(summary: string, body: HTMLElement): HTMLElement {
  return h('details', {}, h('summary', {}, summary), body)
}

function fail(after: {notice: (text: string) => void}): (error: unknown) => void {
  return error => after.notice(error instanceof Error ? error.message : String(error))
}
