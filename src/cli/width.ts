import {eastAsianWidth} from 'get-east-asian-width'

/**
 * How many terminal columns text takes, counted per grapheme cluster as terminals draw them: CJK
 * and fullwidth forms and emoji take two, combining marks, joiners and variation selectors none,
 * colour codes none. (What the `string-width` package computes, in the few lines this CLI needs.)
 */

const ANSI = /\u001B\[[0-9;]*m/g
const ZERO_WIDTH = /^(?:\p{Default_Ignorable_Code_Point}|\p{Control}|\p{Mark}|\p{Surrogate})+$/u
/** Printable ASCII: one column a character, no grapheme clusters; most of what a CLI prints. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/**
 * The emoji pattern (~17 ms to compile) and the grapheme segmenter (~10 ms: ICU's break rules) are
 * made on the first text that is not plain ASCII, not on import: every command imports this module,
 * and most never print anything else.
 */
let unicode: undefined | {emoji: RegExp; segmenter: Intl.Segmenter}
function graphemes(text: string): Intl.Segments {
  unicode ??= {
    // Property of strings (an emoji may be several code points): the `v` flag, which the ES2023 target cannot spell as a literal.
    // biome-ignore lint/complexity/useRegexLiterals: the ES2023 target cannot spell the `v` flag as a literal
    emoji: new RegExp('^\\p{RGI_Emoji}$', 'v'),
    segmenter: new Intl.Segmenter(undefined, {granularity: 'grapheme'}),
  }
  return unicode.segmenter.segment(text)
}

function graphemeWidth(grapheme: string): number {
  if (ZERO_WIDTH.test(grapheme)) return 0
  // Called only on what graphemes() split, which made the pattern.
  if (unicode!.emoji.test(grapheme)) return 2
  // A cluster is as wide as its base character; what follows it (marks, selectors) adds nothing.
  return eastAsianWidth(grapheme.codePointAt(0)!)
}

export function displayWidth(text: string): number {
  const plain = text.replace(ANSI, '')
  if (PRINTABLE_ASCII.test(plain)) return plain.length
  let width = 0
  for (const {segment} of graphemes(plain)) width += graphemeWidth(segment)
  return width
}

/** Plain text (no colour codes) as the grapheme clusters a terminal draws, each with its width in columns. */
export function graphemeCells(text: string): Array<{text: string; width: number}> {
  if (PRINTABLE_ASCII.test(text)) return Array.from(text, char => ({text: char, width: 1}))
  return Array.from(graphemes(text), ({segment}) => ({text: segment, width: graphemeWidth(segment)}))
}

/** Cuts plain text (no colour codes) to at most `max` columns, ending in "…" when cut; never splits a character. */
export function cutToWidth(text: string, max: number): string {
  if (displayWidth(text) <= max) return text
  if (max <= 0) return ''
  // One column and one grapheme a character: cut without making the segmenter (see graphemes()).
  if (PRINTABLE_ASCII.test(text)) return `${text.slice(0, max - 1).trimEnd()}…`
  let width = 0
  let kept = ''
  for (const {segment} of graphemes(text)) {
    const next = graphemeWidth(segment)
    if (width + next > max - 1) break
    kept += segment
    width += next
  }
  return `${kept.trimEnd()}…`
}

/** Pads plain or coloured text with spaces to `width` columns. */
export function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)))
}
