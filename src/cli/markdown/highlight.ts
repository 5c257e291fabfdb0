import {type OutputStyle, paint} from '../output.js'

/**
 * A small highlighter for code blocks, one line at a time (a line is shown when it is complete):
 * comments, strings, numbers and keywords of the languages replies use most. It is a tokenizer,
 * not a parser; what it does not know stays plain. A highlighter library would cost start-up time
 * for little more on a terminal (see README, "Rendered replies").
 */
interface Language {
  block?: [string, string]
  keywords: string
  lineComments: string[]
  quotes: string
}

const C_LIKE = {block: ['/*', '*/'] as [string, string], lineComments: ['//'], quotes: `"'`}
const JS_KEYWORDS =
  'as async await break case catch class const continue default delete do else enum export extends false finally for from function if implements import in instanceof interface let new null of return static super switch this throw true try type typeof undefined var void while yield'

const LANGUAGES: Record<string, Language> = {
  c: {
    ...C_LIKE,
    keywords:
      'auto break case char const continue default do double else enum extern float for goto if int long NULL register return short signed sizeof static struct switch typedef union unsigned void volatile while #include #define',
  },
  cpp: {
    ...C_LIKE,
    keywords:
      'auto bool break case catch char class const constexpr continue default delete do double else enum explicit false float for if int long namespace new nullptr private protected public return short static struct switch template this throw true try typename using virtual void while #include #define',
  },
  go: {
    ...C_LIKE,
    keywords:
      'break case chan const continue default defer else fallthrough false for func go goto if import interface map nil package range return select struct switch true type var',
    quotes: `"'\``,
  },
  java: {
    ...C_LIKE,
    keywords:
      'abstract boolean break byte case catch char class const continue default do double else enum extends false final finally float for if implements import instanceof int interface long new null package private protected public return short static super switch this throw throws true try void while',
  },
  javascript: {...C_LIKE, keywords: JS_KEYWORDS, quotes: `"'\``},
  json: {keywords: 'false null true', lineComments: [], quotes: '"'},
  python: {
    keywords:
      'and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield',
    lineComments: ['#'],
    quotes: `"'`,
  },
  ruby: {
    keywords:
      'begin break case class def do else elsif end ensure false for if in module next nil not or redo rescue retry return self super then true unless until when while yield',
    lineComments: ['#'],
    quotes: `"'`,
  },
  rust: {
    ...C_LIKE,
    keywords:
      'as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while',
    quotes: '"',
  },
  shell: {keywords: 'case do done elif else esac export fi for function if in local return then until while', lineComments: ['#'], quotes: `"'`},
  sql: {
    block: ['/*', '*/'],
    keywords:
      'ADD ALTER AND AS ASC BEGIN BETWEEN BY COMMIT CREATE DELETE DESC DISTINCT DROP EXISTS FROM GROUP HAVING IN INDEX INSERT INTO IS JOIN KEY LEFT LIMIT NOT NULL ON OR ORDER PRIMARY REFERENCES SELECT SET TABLE UNION UPDATE VALUES WHERE WITH',
    lineComments: ['--'],
    quotes: `'"`,
  },
  yaml: {keywords: 'false null true no yes', lineComments: ['#'], quotes: `"'`},
}

const ALIASES: Record<string, string> = {
  bash: 'shell',
  'c++': 'cpp',
  console: 'shell',
  cs: 'java',
  csharp: 'java',
  h: 'c',
  hpp: 'cpp',
  js: 'javascript',
  jsx: 'javascript',
  kotlin: 'java',
  kt: 'java',
  mjs: 'javascript',
  py: 'python',
  rb: 'ruby',
  rs: 'rust',
  sh: 'shell',
  swift: 'java',
  ts: 'javascript',
  tsx: 'javascript',
  typescript: 'javascript',
  yml: 'yaml',
  zsh: 'shell',
}

const keywordSets = new Map<string, Set<string>>()

/** What a highlighted line leaves open for the next: a block comment. */
export interface HighlightState {
  inBlockComment: boolean
}

export function knownLanguage(name: string): boolean {
  const key = name.toLowerCase()
  return key in LANGUAGES || key in ALIASES
}

/** One line of code in `language` (an info string such as `ts` or `python`), styled; plain when the language is unknown. */
export function highlightLine(line: string, language: string, state: HighlightState, style: OutputStyle): string {
  const key = language.toLowerCase()
  const spec = LANGUAGES[ALIASES[key] ?? key]
  if (!spec || !style.color) return line
  const caseless = spec === LANGUAGES.sql
  let keywords = keywordSets.get(spec.keywords)
  if (!keywords) keywordSets.set(spec.keywords, (keywords = new Set(spec.keywords.split(' ').map(word => (caseless ? word.toLowerCase() : word)))))

  let out = ''
  let i = 0
  while (i < line.length) {
    if (state.inBlockComment) {
      const close = line.indexOf(spec.block![1], i)
      const stop = close === -1 ? line.length : close + spec.block![1].length
      out += paint(style, 'gray', line.slice(i, stop))
      state.inBlockComment = close === -1
      i = stop
      continue
    }

    const rest = line.slice(i)
    if (spec.lineComments.some(marker => rest.startsWith(marker) && (marker !== '#' || i === 0 || /\s/.test(line[i - 1])))) {
      out += paint(style, 'gray', rest)
      break
    }

    if (spec.block && rest.startsWith(spec.block[0])) {
      state.inBlockComment = true
      out += paint(style, 'gray', spec.block[0])
      i += spec.block[0].length
      continue
    }

    const char = line[i]
    if (spec.quotes.includes(char)) {
      let j = i + 1
      while (j < line.length && line[j] !== char) j += line[j] === '\\' ? 2 : 1
      const stop = Math.min(j + 1, line.length)
      out += paint(style, 'green', line.slice(i, stop))
      i = stop
      continue
    }

    const word = /^#?[A-Za-z_$][\w$]*/.exec(rest)
    if (word && (i === 0 || !/[\w$]/.test(line[i - 1]))) {
      const text = word[0]
      out += keywords.has(caseless ? text.toLowerCase() : text) ? paint(style, 'magenta', text) : text
      i += text.length
      continue
    }

    const number = /^\d[\w.]*/.exec(rest)
    if (number && (i === 0 || !/[\w$]/.test(line[i - 1]))) {
      out += paint(style, 'blue', number[0])
      i += number[0].length
      continue
    }

    out += char
    i++
  }

  return out
}
