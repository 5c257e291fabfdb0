import {type OutputStyle, paint} from '../output.js'

export type InlineNode =
  | {children: InlineNode[]; image: boolean; type: 'link'; url: string}
  | {children: InlineNode[]; type: 'emphasis' | 'strike' | 'strong'}
  | {text: string; type: 'code' | 'text'}

export interface InlineParse {
  nodes: InlineNode[]
  /**
   * Where the nodes end. Before it nothing can change, whatever follows; from it on, the text may
   * still become (or not become) a construct: an opener whose closer has not arrived yet, a
   * trailing backslash, a run of backticks that may grow. Always the text's length when complete.
   */
  stable: number
}

export interface ParseOptions {
  /** false while a line is still arriving: stop at the first thing more text could change. Default true. */
  complete?: boolean
  /** Parse from this offset; the characters before it are read only as context (an intraword `_`). */
  from?: number
}

const PUNCTUATION = /[!-/:-@[-`{-~]/
const WORD = /[\p{L}\p{N}]/u
const SPACE = /\s/
const AUTOLINK = /^<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>/
const MAYBE_AUTOLINK = /^<[^\s<>]*$/

type Found = 'none' | 'uncertain' | number

/**
 * The inline part of Markdown that replies use: `code`, **strong**, *emphasis* (and the `_`
 * forms), ~~strike~~, [links](url), ![images](url), <https://autolinks> and backslash escapes.
 * Each opener takes the first closer after it, so a parse of a prefix of a line agrees with the
 * parse of the whole line up to `stable`: what streaming prints is never taken back.
 * (A simplification of CommonMark: no nested brackets, no reference links, no raw HTML.)
 */
export function parseInline(text: string, options: ParseOptions = {}): InlineParse {
  const complete = options.complete ?? true
  const end = text.length
  const nodes: InlineNode[] = []
  let literal = ''
  let i = options.from ?? 0
  const flush = () => {
    if (literal !== '') nodes.push({text: literal, type: 'text'})
    literal = ''
  }

  const stop = (): InlineParse => {
    flush()
    return {nodes, stable: i}
  }

  /** The next run of exactly `count` × `char` from `start` that `accept` takes as a closer. */
  const findRun = (start: number, char: string, count: number, accept: (at: number) => boolean | undefined): Found => {
    for (let j = text.indexOf(char, start); j !== -1; j = text.indexOf(char, j)) {
      const run = runLength(text, j, char)
      if (j + run >= end && !complete) return 'uncertain'
      if (run === count) {
        const ok = accept(j)
        if (ok === undefined) return 'uncertain'
        if (ok) return j
      }

      j += run
    }

    return 'none'
  }

  while (i < end) {
    const char = text[i]
    if (char === '\\') {
      if (i + 1 >= end) {
        if (!complete) return stop()
        literal += char
        i++
      } else if (PUNCTUATION.test(text[i + 1])) {
        literal += text[i + 1]
        i += 2
      } else {
        literal += char
        i++
      }

      continue
    }

    if (char === '`') {
      const run = runLength(text, i, '`')
      if (i + run >= end && !complete) return stop()
      const close = findRun(i + run, '`', run, () => true)
      if (close === 'uncertain' || (close === 'none' && !complete)) return stop()
      if (close === 'none') {
        literal += '`'.repeat(run)
        i += run
        continue
      }

      flush()
      nodes.push({text: trimCodeSpan(text.slice(i + run, close)), type: 'code'})
      i = close + run
      continue
    }

    if (char === '*' || char === '_' || char === '~') {
      const run = runLength(text, i, char)
      if (i + run >= end && !complete) return stop()
      const next = text[i + run]
      const opens = char === '~' ? run === 2 && !SPACE.test(next) : !SPACE.test(next) && !(char === '_' && WORD.test(text[i - 1] ?? ''))
      if (!opens) {
        literal += char.repeat(run)
        i += run
        continue
      }

      // A run of three or more: the extra ones are plain text, the last one or two open.
      const count = char === '~' ? 2 : Math.min(run, 2)
      literal += char.repeat(run - count)
      i += run - count
      const close = findRun(i + count + 1, char, count, at => {
        if (SPACE.test(text[at - 1]) || escaped(text, at)) return false
        if (char !== '_') return true
        if (at + count >= end) return complete ? true : undefined
        return !WORD.test(text[at + count])
      })
      if (close === 'uncertain' || (close === 'none' && !complete)) return stop()
      if (close === 'none') {
        literal += char.repeat(count)
        i += count
        continue
      }

      flush()
      const type = char === '~' ? 'strike' : count === 2 ? 'strong' : 'emphasis'
      nodes.push({children: parseInline(text.slice(i + count, close)).nodes, type})
      i = close + count
      continue
    }

    if (char === '!' && i + 1 >= end && !complete) return stop()
    if (char === '[' || (char === '!' && text[i + 1] === '[')) {
      const image = char === '!'
      const open = image ? i + 1 : i
      const close = text.indexOf(']', open + 1)
      const paren = close === -1 ? -1 : text.indexOf(')', close + 2)
      if (!complete && (close === -1 || close + 1 >= end || (text[close + 1] === '(' && paren === -1))) return stop()
      if (close !== -1 && text[close + 1] === '(' && paren !== -1) {
        const url = text
          .slice(close + 2, paren)
          .trim()
          .split(/\s+/)[0]
        if (url !== '') {
          flush()
          nodes.push({children: parseInline(text.slice(open + 1, close)).nodes, image, type: 'link', url: url.replace(/^<(.*)>$/, '$1')})
          i = paren + 1
          continue
        }
      }

      literal += char
      i++
      continue
    }

    if (char === '<') {
      const rest = text.slice(i)
      const match = AUTOLINK.exec(rest)
      if (match) {
        flush()
        nodes.push({children: [{text: match[1], type: 'text'}], image: false, type: 'link', url: match[1]})
        i += match[0].length
        continue
      }

      if (!complete && MAYBE_AUTOLINK.test(rest)) return stop()
    }

    literal += char
    i++
  }

  flush()
  return {nodes, stable: end}
}

/** Nodes as styled text. A link shows its target after the text, `text (url)`: no OSC 8 sequence to trust. */
export function renderInline(nodes: InlineNode[], style: OutputStyle): string {
  return nodes
    .map(node => {
      switch (node.type) {
        case 'code': {
          return paint(style, 'yellow', node.text)
        }

        case 'emphasis': {
          return paint(style, 'italic', renderInline(node.children, style))
        }

        case 'link': {
          const label = renderInline(node.children, style)
          if (!node.image && plainText(node.children) === node.url) return paint(style, 'underline', label)
          const shown = node.image ? `${label === '' ? 'image' : label}` : label
          return `${paint(style, 'underline', shown)} ${paint(style, 'dim', `(${node.url})`)}`
        }

        case 'strike': {
          return paint(style, 'strike', renderInline(node.children, style))
        }

        case 'strong': {
          return paint(style, 'bold', renderInline(node.children, style))
        }

        case 'text': {
          return node.text
        }
      }

      return ''
    })
    .join('')
}

function plainText(nodes: InlineNode[]): string {
  return nodes.map(node => ('text' in node ? node.text : plainText(node.children))).join('')
}

/** Whether the character at `at` follows an odd number of backslashes. */
function escaped(text: string, at: number): boolean {
  let slashes = 0
  while (text[at - 1 - slashes] === '\\') slashes++
  return slashes % 2 === 1
}

function runLength(text: string, at: number, char: string): number {
  let end = at
  while (text[end] === char) end++
  return end - at
}

/** CommonMark: one space on each side is stripped when both are there and the span is not all spaces. */
function trimCodeSpan(code: string): string {
  return code.length >= 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '' ? code.slice(1, -1) : code
}
