import {oneLine, relativeTime, truncate} from '../cli/output.js'
import {normalizeIdPrefix} from '../core/ids.js'
import {hasControlCharacters, terminalSafe} from '../core/terminal-text.js'
import type {ProviderRegistry} from '../providers/registry.js'
import type {SessionStore, SessionSummary} from '../store/session-store.js'

/** What the shell completion scripts ask for: `synapse autocomplete values <kind> [prefix]`. */
export type ValueKind = 'models' | 'providers' | 'sessions'
export const VALUE_KINDS: readonly ValueKind[] = ['sessions', 'models', 'providers']

/** One completion: the text to insert, and what zsh shows beside it. */
export interface Candidate {
  description: string
  value: string
}

/**
 * What a shell may be offered: values with a control character (a newline, a tab, an escape) are
 * dropped, because no quoting makes them safe to insert and see on a command line; descriptions,
 * which zsh prints beside the values, have theirs shown as visible escapes. The scripts quote every
 * value for their shell (scripts.ts), so `$(…)`, backticks, `;` and quotes in a value are inert.
 */
export function offerable(candidates: Candidate[]): Candidate[] {
  return candidates
    .filter(({value}) => value !== '' && !hasControlCharacters(value))
    .map(({description, value}) => ({description: terminalSafe(description), value}))
}

/** Most candidates a shell is offered at once. */
export const CANDIDATE_LIMIT = 50
/** Most sessions read to find those that match a prefix: retention keeps 100 by default. */
export const SESSION_SCAN_LIMIT = 1000
const SESSION_PAGE = 200

/**
 * Sessions whose id starts with `prefix` (in any case), most recently updated first, then the titles
 * that start with it (case-sensitively, as titles are looked up), at most `limit` in all.
 * An id's value is the short id (the shortest unique prefix, as `sessions list` shows it) unless the
 * user already typed more than that, then the full id, so a candidate always extends what was typed.
 * Ids are case-insensitive; when the prefix is typed in lower case, so are the candidates, because
 * shells match candidates against the typed text case-sensitively. A title is offered once however
 * many sessions share it (the command then lists them), and only for a typed prefix: a bare TAB
 * offers ids alone. What the shell inserts is quoted by its script (scripts.ts).
 */
export async function sessionCandidates(store: SessionStore, prefix = '', options: {limit?: number; now?: Date} = {}): Promise<Candidate[]> {
  const limit = options.limit ?? CANDIDATE_LIMIT
  const typed = prefix.trim()
  const normalized = typed === '' ? '' : normalizeIdPrefix(typed)
  const lower = typed !== '' && typed === typed.toLowerCase() && typed !== typed.toUpperCase()
  const byId: SessionSummary[] = []
  const byTitle = new Map<string, SessionSummary>()
  // Ids come first: titles found on the way never end the scan before the ids are all there.
  for (let offset = 0; offset < SESSION_SCAN_LIMIT && byId.length < limit; offset += SESSION_PAGE) {
    // Without a prefix every session matches: read no more than will be shown.
    const page = await store.list({limit: normalized === '' ? limit : SESSION_PAGE, offset})
    for (const session of page) {
      if (normalized !== undefined && session.id.startsWith(normalized)) byId.push(session)
      if (typed !== '' && session.title?.startsWith(typed) && !byTitle.has(session.title)) byTitle.set(session.title, session)
    }
    if (normalized === '' || page.length < SESSION_PAGE) break
  }
  const ids = byId.map(session => {
    const value = session.shortId.length >= (normalized ?? '').length ? session.shortId : session.id
    return {description: describeSession(session, options.now), value: lower ? value.toLowerCase() : value}
  })
  const titles = [...byTitle].map(([title, session]) => ({description: `${session.shortId} (${relativeTime(session.updatedAt, options.now)})`, value: title}))
  return [...ids, ...titles].slice(0, limit)
}

function describeSession(session: SessionSummary, now?: Date): string {
  return `${sessionLabel(session)} (${relativeTime(session.updatedAt, now)})`
}

/** What names a session beside its id: its title, else its first question, on one line. */
export function sessionLabel(session: SessionSummary): string {
  return truncate(oneLine(session.title ?? session.preview ?? '(empty)'), 60)
}

/** Where model names come from, besides the providers' own lists. */
export interface ModelSources {
  /** `[provider] model` / SYNAPSE_MODEL, when set. */
  configured?: string
  /** Models that saved sessions use, most recently updated first. */
  sessions?: Array<{model: null | string; provider: null | string}>
}

/**
 * Model names that start with `prefix` (case-sensitively: servers tell models apart by case): the
 * configured model, then each provider’s default model and well-known models (providers by name), then
 * any other model a saved session uses. Each name once, with the provider(s) that list it.
 */
export function modelCandidates(registry: ProviderRegistry, sources: ModelSources = {}, prefix = '', limit = CANDIDATE_LIMIT): Candidate[] {
  const found = new Map<string, string[]>()
  const add = (model: null | string | undefined, label: string) => {
    // Not offered at all: no quoting makes a newline or an escape sequence safe on a command line.
    if (!model || hasControlCharacters(model)) return
    const labels = found.get(model) ?? []
    if (!labels.includes(label)) labels.push(label)
    found.set(model, labels)
  }
  add(sources.configured, 'configured')
  for (const {descriptor} of registry.list()) {
    add(descriptor.defaultModel, descriptor.name)
    for (const model of descriptor.models ?? []) add(model, descriptor.name)
  }
  // The provider and the use as labels of their own, so a provider that lists the model is named once.
  for (const session of sources.sessions ?? []) {
    if (session.provider) add(session.model, session.provider)
    add(session.model, 'used in a session')
  }
  return [...found]
    .filter(([model]) => model.startsWith(prefix))
    .slice(0, limit)
    .map(([model, labels]) => ({description: labels.join(', '), value: model}))
}

/** Provider names that start with `prefix`, with their one-line descriptions. */
export function providerCandidates(registry: ProviderRegistry, prefix = ''): Candidate[] {
  return registry
    .list()
    .filter(({descriptor}) => descriptor.name.startsWith(prefix))
    .map(({descriptor}) => ({description: oneLine(descriptor.description ?? ''), value: descriptor.name}))
}
