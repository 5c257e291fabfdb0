/**
 * Full-text search, once for every backend: the query language, what a hit is, how hits are ranked
 * and ordered, the snippet with its match ranges, and the generic path over the adapter's
 * primitives. A backend with an index of its own (SQLite FTS5, PostgreSQL tsvector) offers the
 * adapter capability `search` and is given the parsed query; it never sees the text the user typed.
 *
 * The contract every backend keeps (the conformance suite checks it):
 * - A hit is a message whose content holds every term of the query, or a session whose title does
 *   (`message` null: "a hit on a title is a hit on the session").
 * - A term matches whole words: a word is a run of letters, digits and combining marks (Unicode);
 *   everything else separates words. Matching ignores case (Unicode lower case). `pre*` matches
 *   any word starting with `pre`; a phrase matches its words next to each other, in order.
 * - Only messages still in the conversation are found (`currentMessages` in exchanges.ts: not
 *   hidden, and not a reply to a hidden question), unless the filter's `includeReplaced` asks for
 *   the ones a retry, an edit or an undo took out too; each of those is marked `replaced`. The
 *   filter is part of the search, before the page is cut: a page is as full as the hits allow. A
 *   message left out so still counts in the ranking, as an index holds it: leaving it out changes
 *   no other hit's score.
 * - Order: title hits first, then message hits; within each, higher `score` first, then the most
 *   recent (message createdAt, or for a title the session's updatedAt), then id, newest first.
 *   A score is comparable only with scores of the same search on the same backend: it is a BM25
 *   relevance (SQLite, the generic path) or ts_rank (PostgreSQL). What backends agree on exactly is
 *   the set of hits and the order of hits of equal relevance; that a message repeating a word ranks
 *   above one of the same length mentioning it once holds everywhere, the exact order of unlike
 *   messages need not.
 */
import {InvalidInputError} from '../core/errors.js'
import {currentMessages} from './exchanges.js'
import {MESSAGE_ROLES, type Message, type MessageRole, type Session} from './session-store.js'

/** What a query may be at most, in characters: longer ones are refused, not cut. */
export const MAX_QUERY_LENGTH = 1000
export const DEFAULT_SEARCH_LIMIT = 20
export const MAX_SEARCH_LIMIT = 1000
/** About how long a snippet is, in characters, before the "…" marks. */
export const SNIPPET_LENGTH = 160

/** One term of a query: all of a query's terms must match. */
export type SearchTerm =
  /** A word, lower case; `prefix`: any word that starts with it. */
  | {kind: 'word'; prefix: boolean; word: string}
  /** Words next to each other, in this order, lower case; `prefix`: the last one is a prefix. */
  | {kind: 'phrase'; prefix: boolean; words: string[]}

/** A query as the parser understood it: what adapters are given, never the raw text. */
export interface SearchQuery {
  /** The text as typed. */
  text: string
  /** At least one. */
  terms: SearchTerm[]
}

export interface SearchOptions {
  /**
   * Also messages a retry, an edit or an undo took out of the conversation, each hit marked
   * `replaced` (`sessions search --all`). Default: only the conversation as it stands.
   */
  includeReplaced?: boolean
  /** Only messages created at or before this instant (titles: sessions updated at or before it). */
  until?: Date
  /** Default 20, at most 1000. */
  limit?: number
  /** Only messages (and titles of sessions) with this model: the message's own, else its session's. */
  model?: string
  /** Default 0. */
  offset?: number
  /** Like `model`, for the provider. */
  provider?: string
  /** Only messages of this role; title hits are left out. */
  role?: MessageRole
  /** Only this session: an id or a unique prefix of one, resolved as `get` does. */
  session?: string
  /** Only messages created at or after this instant (titles: sessions updated at or after it). */
  since?: Date
}

/** The filters as an adapter is given them: checked, the session resolved to its full id. */
export interface SearchFilter {
  /** See SearchOptions.includeReplaced; absent or false: current messages only. */
  includeReplaced?: boolean
  model?: string
  provider?: string
  role?: MessageRole
  sessionId?: string
  since?: Date
  until?: Date
}

/** A range of a snippet's text that matched: `text.slice(start, end)`, in UTF-16 code units (JavaScript string indices). */
export interface MatchRange {
  end: number
  start: number
}

/**
 * One hit. Plain data: a renderer (terminal, pipe, JSON, a web page) marks `snippet.matches` itself.
 */
export interface SearchHit {
  /** The message that matched; null when the session's title did. */
  message: null | {createdAt: Date; id: string; position: number; role: MessageRole}
  /**
   * Whether the message is out of the conversation (replaced by a retry or an edit, undone, or a
   * reply to a question that is): found only with `includeReplaced`. Always false for a title.
   */
  replaced: boolean
  /** Higher is more relevant; see the module comment for what scores may be compared with. */
  score: number
  /**
   * `preview`: what a listing names an untitled session by (SessionSummary.preview: the start of its
   * first question still in the conversation; null without one), a titled session's too.
   */
  session: {id: string; model: null | string; preview: null | string; provider: null | string; shortId: string; title: null | string; updatedAt: Date}
  /**
   * About SNIPPET_LENGTH characters of the matched text around the first match, on one line
   * (whitespace runs are one space), "…" where text was left out, and every match in it.
   */
  snippet: {matches: MatchRange[]; text: string}
}

/**
 * The page and filters of a search, checked before any backend sees them, so that every backend
 * refuses the same bad input (INVALID_INPUT).
 */
export function checkSearchOptions(options: SearchOptions): {limit: number; offset: number} {
  const limit = options.limit ?? DEFAULT_SEARCH_LIMIT
  const offset = options.offset ?? 0
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)
    throw new InvalidInputError(`A page holds 1 to ${MAX_SEARCH_LIMIT} hits, not ${limit}.`)
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidInputError(`An offset is a whole number ≥ 0, not ${offset}.`)
  if (options.role !== undefined && !MESSAGE_ROLES.includes(options.role)) {
    throw new InvalidInputError(`"${String(options.role)}" is not a message role; use one of ${MESSAGE_ROLES.join(', ')}.`)
  }
  for (const name of ['since', 'until'] as const) {
    const value = options[name]
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) throw new InvalidInputError(`"${name}" must be a valid date.`)
  }
  if (options.includeReplaced !== undefined && typeof options.includeReplaced !== 'boolean')
    throw new InvalidInputError('"includeReplaced" must be true or false.')
  for (const name of ['model', 'provider', 'session'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'string') throw new InvalidInputError(`"${name}" must be text.`)
  }
  return {limit, offset}
}

// ---- The query language ------------------------------------------------------------------------

/** Letters, digits, private-use characters and combining marks make words: FTS5's unicode61 categories "L* N* Co M*". */
const WORD = /[\p{L}\p{N}\p{Co}\p{M}]+/gu

/** The words of `text`, lower case, with where each stands in `text`. */
export function words(text: string): Array<{end: number; start: number; word: string}> {
  const found: Array<{end: number; start: number; word: string}> = []
  if (isAscii(text)) {
    // The same words without WORD: V8 drops a regular expression's compiled code when it collects
    // garbage, and compiling WORD's Unicode classes again costs more than a page of snippets.
    let start = -1
    for (let i = 0; i <= text.length; i++) {
      const inWord = i < text.length && isAsciiWordCode(text.charCodeAt(i))
      if (inWord && start === -1) start = i
      else if (!inWord && start !== -1) {
        found.push({end: i, start, word: text.slice(start, i).toLowerCase()})
        start = -1
      }
    }
    return found
  }
  for (const match of text.matchAll(WORD)) found.push({end: match.index + match[0].length, start: match.index, word: match[0].toLowerCase()})
  return found
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

/** The ASCII characters of WORD's categories: digits and Latin letters. */
function isAsciiWordCode(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
}

/**
 * Reads a query: words (all must match), "quoted phrases", and `prefix*`. Nothing else is syntax:
 * operators (AND, OR, NOT, NEAR), `-`, `^`, `:`, parentheses and other punctuation are separators,
 * so a chunk such as `foo-bar` or `src/store.ts` is the phrase of its words; an unpaired quote is
 * ignored. Throws INVALID_INPUT for a query over MAX_QUERY_LENGTH or without a single word.
 */
export function parseSearchQuery(text: string): SearchQuery {
  if (typeof text !== 'string') throw new InvalidInputError('A search query must be text.')
  if (text.length > MAX_QUERY_LENGTH) {
    throw new InvalidInputError(`The search query is ${text.length.toLocaleString('en-US')} characters long; at most ${MAX_QUERY_LENGTH} are allowed.`, {
      suggestions: ['Search for a few distinctive words or a short "quoted phrase" instead.'],
    })
  }
  const terms: SearchTerm[] = []
  const seen = new Set<string>()
  const add = (found: string[], prefix: boolean) => {
    if (found.length === 0) return
    const term: SearchTerm = found.length === 1 ? {kind: 'word', prefix, word: found[0]} : {kind: 'phrase', prefix, words: found}
    const key = JSON.stringify(term)
    if (seen.has(key)) return
    seen.add(key)
    terms.push(term)
  }
  // A quote pairs with the next one; text after an unpaired last quote is read as if it were not there.
  const quotes = [...text.matchAll(/"/g)].map(m => m.index)
  if (quotes.length % 2 === 1) quotes.pop()
  let at = 0
  for (let q = 0; q <= quotes.length; q += 2) {
    const open = q < quotes.length ? quotes[q] : text.length
    for (const chunk of text.slice(at, open).split(/\s+/))
      add(
        words(chunk).map(w => w.word),
        chunk.endsWith('*'),
      )
    if (q >= quotes.length) break
    const close = quotes[q + 1]
    add(
      words(text.slice(open + 1, close)).map(w => w.word),
      text[close + 1] === '*',
    )
    at = close + 1
  }
  if (terms.length === 0) {
    throw new InvalidInputError(`The search query ${JSON.stringify(text)} has no words to search for.`, {
      suggestions: ['Search for words or numbers: punctuation and operators are ignored, e.g. synapse sessions search "release notes".'],
    })
  }
  return {terms, text}
}

// ---- Matching and snippets ---------------------------------------------------------------------

function wordMatches(word: string, wanted: string, prefix: boolean): boolean {
  return prefix ? word.startsWith(wanted) : word === wanted
}

/**
 * Where each term matches in `text`: for each term, the ranges of its occurrences (a phrase's range
 * runs from its first word to its last). Undefined when some term does not match at all.
 */
export function matchTerms(terms: SearchTerm[], text: string): MatchRange[][] | undefined {
  const found = words(text)
  const all: MatchRange[][] = []
  for (const term of terms) {
    const ranges: MatchRange[] = []
    const sequence = term.kind === 'word' ? [term.word] : term.words
    for (let i = 0; i + sequence.length <= found.length; i++) {
      let ok = true
      for (let j = 0; j < sequence.length && ok; j++) ok = wordMatches(found[i + j].word, sequence[j], term.prefix && j === sequence.length - 1)
      if (ok) ranges.push({end: found[i + sequence.length - 1].end, start: found[i].start})
    }
    if (ranges.length === 0) return undefined
    all.push(ranges)
  }
  return all
}

/**
 * The snippet of `text` for the matches found in it: a window of about SNIPPET_LENGTH characters
 * starting a little before the first match, cut at word boundaries, whitespace runs made one space,
 * "…" where text was left out, with the ranges of every match in the window.
 */
export function makeSnippet(text: string, matches: MatchRange[][]): SearchHit['snippet'] {
  const ranges = matches.flat().sort((a, b) => a.start - b.start || b.end - a.end)
  const first = ranges[0] ?? {end: 0, start: 0}
  // Near the end of the text, the window reaches back to fill its length.
  let start = Math.max(0, Math.min(first.start - SNIPPET_LEAD, text.length - SNIPPET_LENGTH))
  // Begin at the start of a word, never inside one.
  if (start > 0 && /\S/.test(text[start - 1])) {
    const gap = text.slice(start, first.start).search(/\s/)
    start = gap === -1 ? first.start : start + gap + 1
  }
  while (start < first.start && isSpace(text.charCodeAt(start))) start++
  let end = Math.max(first.end, Math.min(text.length, start + SNIPPET_LENGTH))
  // End at the end of a word, unless the first match itself runs on.
  if (end < text.length && /\S/.test(text[end])) {
    const gap = text.slice(first.end, end).search(/\s\S*$/)
    if (gap >= 0) end = first.end + gap
  }
  // A window cut inside a surrogate pair (text without spaces) gives back the half character.
  if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--
  while (end > first.end && isSpace(text.charCodeAt(end - 1))) end--
  // Whitespace runs become one space; each offset of the window maps to where it lands.
  const map: number[] = []
  let out = start > 0 ? '…' : ''
  let inSpace = false
  for (let i = start; i < end; i++) {
    map.push(out.length)
    if (isSpace(text.charCodeAt(i))) {
      if (!inSpace) out += ' '
      inSpace = true
    } else {
      out += text[i]
      inSpace = false
    }
  }
  map.push(out.length)
  const kept: MatchRange[] = []
  for (const r of ranges) {
    if (r.start < start || r.end > end) continue
    const range = {end: map[r.end - start], start: map[r.start - start]}
    const previous = kept.at(-1)
    // A word matched by two terms (a word and a prefix of it) is one mark.
    if (previous && range.start < previous.end) previous.end = Math.max(previous.end, range.end)
    else kept.push(range)
  }
  return {matches: kept, text: end < text.length ? `${out}…` : out}
}

/** How far before the first match a snippet starts. */
const SNIPPET_LEAD = 40

/** Whether a UTF-16 code unit is white space as /\s/ has it, without a regular expression for ASCII: the snippet tests every character of its window. */
function isSpace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d)
  return /\s/.test(String.fromCharCode(code))
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

// ---- Ranking -----------------------------------------------------------------------------------

/** BM25 as SQLite's FTS5 computes it (k1 1.2, b 0.75), so that the generic path orders as SQLite does. */
export function bm25(termCounts: number[], length: number, documents: {averageLength: number; count: number; containing: number[]}): number {
  const k1 = 1.2
  const b = 0.75
  let score = 0
  termCounts.forEach((frequency, i) => {
    const n = documents.containing[i]
    let idf = Math.log((documents.count - n + 0.5) / (n + 0.5))
    if (idf <= 0) idf = 1e-6
    const norm = documents.averageLength > 0 ? length / documents.averageLength : 1
    score += (idf * (frequency * (k1 + 1))) / (frequency + k1 * (1 - b + b * norm))
  })
  return score
}

/** What a hit shows of its message: all a backend needs to read of it. */
export type HitMessage = Pick<Message, 'content' | 'createdAt' | 'id' | 'position' | 'role'>
/**
 * What a hit shows of its session: a session's system prompt and metadata can be long, and no hit
 * shows them. `preview` as StoredSummary.preview has it (`previewText` of `firstQuestion`).
 */
export type HitSession = Pick<Session, 'id' | 'model' | 'provider' | 'title' | 'updatedAt'> & {preview: null | string}

/** A hit as an adapter finds it, before the core adds the short id and the snippet. */
export interface StoredHit {
  message: HitMessage | null
  /** The ids before and after the session's among all session ids in byte order, for its short id. */
  nextId?: string
  previousId?: string
  /** As SearchHit.replaced: true only for a message hit out of the conversation. */
  replaced: boolean
  score: number
  session: HitSession
}

/** The order of the contract: titles first, higher score, most recent, id newest first. */
export function compareHits(a: StoredHit, b: StoredHit): number {
  const kind = Number(a.message !== null) - Number(b.message !== null)
  if (kind !== 0) return kind
  if (b.score !== a.score) return b.score - a.score
  const time = (h: StoredHit) => (h.message ? h.message.createdAt : h.session.updatedAt).getTime()
  const recent = time(b) - time(a)
  if (recent !== 0) return recent
  const id = (h: StoredHit) => h.message?.id ?? h.session.id
  return id(a) < id(b) ? 1 : id(a) > id(b) ? -1 : 0
}

function within(filter: SearchFilter, at: Date): boolean {
  return (filter.since === undefined || at >= filter.since) && (filter.until === undefined || at <= filter.until)
}

/** A document of the generic path: its text's words, counted once. */
interface Scanned {
  hit: Omit<StoredHit, 'score'>
  matches: MatchRange[][]
  length: number
}

/**
 * Every hit of `query` over sessions and their messages as the primitives give them, all scored
 * with BM25 over the documents scanned (every stored message, as an index holds them, whether or
 * not `filter` lets it be a hit): the generic path, and the reference for what is a hit.
 */
export function rankAll(
  query: SearchQuery,
  filter: SearchFilter,
  sessions: Array<{messages: Message[]; session: HitSession}>,
): Array<StoredHit & {matches: MatchRange[][]}> {
  const results: Array<StoredHit & {matches: MatchRange[][]}> = []
  /** `uncounted`: the matches of documents that are no hits but are in the index all the same. */
  const score = (scanned: Scanned[], documents: number, totalLength: number, uncounted: MatchRange[][][] = []) => {
    const averageLength = documents === 0 ? 0 : totalLength / documents
    const documentMatches = [...scanned.map(s => s.matches), ...uncounted]
    const containing = query.terms.map((_, i) => documentMatches.filter(matches => matches[i].length > 0).length)
    for (const s of scanned) {
      const counts = s.matches.map(ranges => ranges.length)
      results.push({...s.hit, matches: s.matches, score: bm25(counts, s.length, {averageLength, containing, count: documents})})
    }
  }
  const titles: Scanned[] = []
  const messages: Scanned[] = []
  const replacedMatches: MatchRange[][][] = []
  let titleDocuments = 0
  let titleLength = 0
  let messageDocuments = 0
  let messageLength = 0
  const matchesOf = (text: string) => matchTerms(query.terms, text)
  for (const {messages: all, session} of sessions) {
    const current = new Set(currentMessages(all))
    const title = session.title ?? ''
    titleDocuments++
    titleLength += words(title).length
    const sessionSelected = filter.sessionId === undefined || filter.sessionId === session.id
    if (sessionSelected && filter.role === undefined && within(filter, session.updatedAt)) {
      const modelOk = filter.model === undefined || session.model === filter.model
      const providerOk = filter.provider === undefined || session.provider === filter.provider
      const matches = modelOk && providerOk ? matchesOf(title) : undefined
      if (matches) titles.push({hit: {message: null, replaced: false, session}, length: words(title).length, matches})
    }
    for (const message of all) {
      const length = words(message.content).length
      messageDocuments++
      messageLength += length
      if (!sessionSelected || (filter.role !== undefined && message.role !== filter.role) || !within(filter, message.createdAt)) continue
      if (filter.model !== undefined && (message.model ?? session.model) !== filter.model) continue
      if (filter.provider !== undefined && (message.provider ?? session.provider) !== filter.provider) continue
      const matches = matchesOf(message.content)
      if (!matches) continue
      const replaced = !current.has(message)
      // Left out, but counted as SQLite's index counts it: a retry changes no other hit's score.
      if (replaced && !filter.includeReplaced) replacedMatches.push(matches)
      else messages.push({hit: {message, replaced, session}, length, matches})
    }
  }
  score(titles, titleDocuments, titleLength)
  score(messages, messageDocuments, messageLength, replacedMatches)
  return results.sort(compareHits)
}
