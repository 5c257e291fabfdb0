import {UI_EXPORT_FORMATS, type UiMessage, type UiSession, type UiSessionView, type UiTakenOut} from '../../api-types.js'
import {MAX_TITLE_LENGTH} from '../../../store/session-store.js'
import {api, confirmDialog, h, headline, modelLabel, money, plural, when} from '../dom.js'
import {renderMarkdown} from '../markdown.js'

const EXPORT_LABELS = {json: 'JSON', jsonl: 'JSON lines', markdown: 'Markdown'}
const TAKEN_OUT_LABELS: Record<UiTakenOut, string> = {
  edit: 'replaced by an edit',
  'question-out': 'answers a question taken out',
  retry: 'replaced by a retry',
  undo: 'undone',
}

/**
 * #/session/ID: one session. `?at=N` brings the message at position N into view; `?replaced=1` also
 * shows, in place and marked, the messages a retry, an edit or an undo took out of the conversation
 * (a target that is one of them shows them too).
 */
export async function sessionView(
  id: string,
  params: URLSearchParams,
  after: {deleted: (title: string) => void; navigate: (params: URLSearchParams) => void; notice: (text: string) => void},
): Promise<HTMLElement> {
  const view = await api<UiSessionView>(`/api/sessions/${encodeURIComponent(id)}`)
  let session = view.session
  const path = `/api/sessions/${encodeURIComponent(session.id)}`
  // As the list previews it (firstQuestion in the core): a question an edit or an undo took out no longer names the session.
  const firstQuestion = view.messages.find(m => m.role === 'user' && m.hiddenAt === null)?.content ?? null
  const target = view.messages.find(m => String(m.position) === params.get('at'))
  const takenOut = view.messages.filter(m => m.takenOut !== null)
  const showTakenOut = params.get('replaced') === '1' || target?.takenOut != null
  const shown = showTakenOut ? view.messages : view.messages.filter(m => m.takenOut === null)

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

  const input = h('input', {'aria-label': 'New title', maxlength: String(MAX_TITLE_LENGTH), name: 'title', required: true, type: 'text'}) as HTMLInputElement
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
    ...definition(
      'Messages',
      `${(view.messages.length - takenOut.length).toLocaleString()} in the conversation${takenOut.length === 0 ? '' : `, ${takenOut.length.toLocaleString()} replaced or undone (stored)`}`,
    ),
    ...definition('Tokens', view.totals.replies === 0 ? '—' : (tokens(view.totals.inputTokens, view.totals.outputTokens) ?? '—')),
    ...definition(
      'Cost',
      view.totals.costUsd === null
        ? '—'
        : `${money(view.totals.costUsd)}${view.totals.unpricedReplies > 0 ? ` (${view.totals.unpricedReplies} replies unpriced)` : ''}`,
    ),
    // The totals are what was paid for: a replaced reply was paid for too.
    ...(takenOut.some(m => m.role === 'assistant')
      ? definition('Totals', `of all ${view.totals.replies.toLocaleString()} ${view.totals.replies === 1 ? 'reply' : 'replies'}, replaced ones included`)
      : []),
  )
  const metadata = Object.keys(session.metadata).length === 0 ? null : details('Metadata', h('pre', {}, JSON.stringify(session.metadata, null, 2)))
  const systemPrompt = session.systemPrompt === null ? null : details('System prompt', h('pre', {class: 'system-prompt'}, session.systemPrompt))
  const toggle =
    takenOut.length === 0
      ? null
      : h(
          'button',
          {
            'aria-pressed': String(showTakenOut),
            'data-action': 'replaced',
            onclick: () => {
              const next = new URLSearchParams(params)
              if (showTakenOut) {
                next.delete('replaced')
                // A target out of the conversation would show them again.
                if (target?.takenOut != null) next.delete('at')
              } else next.set('replaced', '1')
              after.navigate(next)
            },
            type: 'button',
          },
          showTakenOut ? 'Hide replaced or undone messages' : `Show ${plural(takenOut.length, 'replaced or undone message')}`,
        )
  const positionOf = new Map(view.messages.map(m => [m.id, m.position]))
  const replacementLink = (message: UiMessage) => {
    const position = message.supersededBy === null ? undefined : positionOf.get(message.supersededBy)
    return position === undefined ? null : h('a', {class: 'replacement', href: `#/session/${session.id}?at=${position}&replaced=1`}, `→ #${position}`)
  }
  const messages =
    shown.length === 0
      ? h('p', {class: 'empty'}, view.messages.length === 0 ? 'No messages.' : 'No messages in the conversation.')
      : h('ol', {class: 'messages'}, ...shown.map(m => messageItem(m, m === target, replacementLink(m))))

  return h(
    'article',
    {class: 'session', 'data-id': session.id},
    h('a', {class: 'back', href: '#/'}, '← Sessions'),
    h('header', {}, h('div', {class: 'heading'}, title, keptBadge), h('div', {class: 'actions'}, renameButton, keepButton, deleteButton, exports), renameForm),
    lineage(view),
    meta,
    systemPrompt,
    metadata,
    forks(view),
    toggle,
    messages,
  )
}

/** Where a fork came from: a link to its parent at the position it was forked at, or text when the parent is gone. */
function lineage(view: UiSessionView): HTMLElement | null {
  const {parent} = view
  if (parent === null) return null
  const at = parent.position === null ? 'when it had no messages' : `at message #${parent.position}`
  if (!parent.exists) return h('p', {class: 'lineage'}, `Forked from ${parent.id} ${at} `, h('span', {class: 'gone'}, '(since deleted)'))
  const href = `#/session/${parent.id}${parent.position === null ? '' : `?at=${parent.position}`}`
  return h('p', {class: 'lineage'}, 'Forked from ', h('a', {class: 'parent', href}, `${headline(parent)} ${at}`))
}

/** The sessions forked from this one, each a link, with where and when. */
function forks(view: UiSessionView): HTMLElement | null {
  if (view.forks.length === 0) return null
  return h(
    'section',
    {class: 'forks'},
    h('h2', {}, `Forks (${view.forks.length})`),
    h(
      'ul',
      {},
      ...view.forks.map(fork =>
        h(
          'li',
          {'data-id': fork.id},
          h('a', {href: `#/session/${fork.id}`}, headline(fork)),
          ` ${fork.position === null ? 'before any message' : `at message #${fork.position}`}, `,
          h('time', {datetime: fork.createdAt}, when(fork.createdAt)),
        ),
      ),
    ),
  )
}

function messageItem(message: UiMessage, target: boolean, replacement: HTMLElement | null): HTMLElement {
  const facts = [
    message.model ? modelLabel(message) : null,
    tokens(message.inputTokens, message.outputTokens),
    message.costUsd === null ? null : money(message.costUsd),
    message.durationMs === null ? null : `${(message.durationMs / 1000).toFixed(1)} s`,
  ].filter((fact): fact is string => fact !== null)
  return h(
    'li',
    {
      class: `message role-${message.role} status-${message.status}${message.takenOut === null ? '' : ' taken-out'}${target ? ' target' : ''}`,
      'data-position': String(message.position),
      'data-taken-out': message.takenOut ?? undefined,
    },
    h(
      'div',
      {class: 'message-head'},
      h('span', {class: 'role'}, message.role),
      // What `sessions fork --at` takes, and what a fork's "at message #N" names.
      h('span', {class: 'position'}, `#${message.position}`),
      h('time', {datetime: message.createdAt}, when(message.createdAt)),
      ...facts.map(fact => h('span', {class: 'fact'}, fact)),
      message.status === 'complete' ? null : h('span', {class: `badge status`}, message.status),
      message.takenOut === null ? null : h('span', {class: 'badge taken-out'}, TAKEN_OUT_LABELS[message.takenOut]),
      replacement,
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
