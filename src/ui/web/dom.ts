import {TOKEN_HEADER, TOKEN_META, type UiError} from '../api-types.js'

type Child = Node | string | null | undefined | false
type Props = Record<string, string | boolean | ((event: Event) => void) | undefined>

/**
 * An element with its attributes and children. Every string child becomes a text node and every
 * attribute is set as an attribute, never parsed as HTML: a title or message holding markup shows
 * as the characters it is. (The Markdown renderer is the only place that writes HTML: markdown.ts.)
 */
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value)
    else element.setAttribute(name, value === true ? '' : value)
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child)
  return element
}

/** A failure the API reported, in its words. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * A call to the server's API. The cookie authenticates it; a state-changing one also carries the
 * token in a header, which the server asks for to tell the page's own requests from forged ones.
 */
export async function api<T>(path: string, init: {body?: unknown; method?: 'DELETE' | 'GET' | 'PATCH' | 'POST'} = {}): Promise<T> {
  const method = init.method ?? 'GET'
  const headers: Record<string, string> = {Accept: 'application/json'}
  if (method !== 'GET') headers[TOKEN_HEADER] = token()
  if (init.body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(path, {body: init.body === undefined ? undefined : JSON.stringify(init.body), credentials: 'same-origin', headers, method})
  const text = await response.text()
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`
    try {
      message = (JSON.parse(text) as UiError).error.message
    } catch {
      if (text.trim() !== '') message = text.trim()
    }
    throw new ApiFailure(response.status, message)
  }
  return JSON.parse(text) as T
}

function token(): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META}"]`)?.content ?? ''
}

/** A count with its noun: "1 message", "3 messages". */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString()} ${noun}${count === 1 ? '' : 's'}`
}

/** US dollars: cents, or four decimals for the fractions of a cent one reply often costs. */
export function money(usd: number): string {
  return `$${usd.toFixed(usd !== 0 && Math.abs(usd) < 0.01 ? 4 : 2)}`
}

/** A date and time as the reader's locale writes it. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'})
}

export function modelLabel(item: {model: null | string; provider: null | string}): string {
  if (item.provider && item.model) return `${item.provider}/${item.model}`
  return item.model ?? item.provider ?? '—'
}

/** The title, else the start of the first question, else a placeholder. */
export function headline(item: {preview?: null | string; title: null | string}): string {
  return (item.title ?? item.preview ?? '').replace(/\s+/g, ' ').trim() || '(empty)'
}

/**
 * Asks in a modal dialog of the page (window.confirm would block the page and look like the
 * browser's own question). Resolves true only for the confirming button.
 */
export function confirmDialog(question: string, confirm: string): Promise<boolean> {
  return new Promise(resolve => {
    const dialog = h('dialog', {class: 'confirm'}) as HTMLDialogElement
    const close = (answer: boolean) => {
      dialog.close()
      dialog.remove()
      resolve(answer)
    }
    dialog.append(
      h('p', {}, question),
      h(
        'div',
        {class: 'buttons'},
        h('button', {class: 'danger', 'data-action': 'confirm', onclick: () => close(true), type: 'button'}, confirm),
        h('button', {'data-action': 'cancel', onclick: () => close(false), type: 'button'}, 'Cancel'),
      ),
    )
    dialog.addEventListener('cancel', () => close(false))
    document.body.append(dialog)
    dialog.showModal()
  })
}
