export type ValueType = 'boolean' | 'integer' | 'number' | 'string' | 'url'

export type Scalar = boolean | number | string

/** What a value must be: its type, and for numbers a range, for strings a list of choices. */
export interface ValueSpec {
  /** For strings: the only values accepted. */
  choices?: readonly string[]
  /** Inclusive; numbers are ≥ 0 unless this says more. */
  max?: number
  min?: number
  type: ValueType | 'scalar'
}

/** The phrase after "must be" in error messages. */
export const EXPECTED: Record<ValueType | 'scalar', string> = {
  boolean: 'true or false',
  integer: 'a whole number ≥ 0',
  number: 'a number ≥ 0',
  scalar: 'a string, number or boolean',
  string: 'a non-empty string',
  url: 'an http:// or https:// URL',
}

/** The phrase after "must be" for a spec, ranges and choices included. */
export function expectedOf(spec: ValueSpec): string {
  if (spec.choices) return spec.choices.map(choice => JSON.stringify(choice)).join(' or ')
  const whole = spec.type === 'integer'
  if ((whole || spec.type === 'number') && (spec.min !== undefined || spec.max !== undefined)) {
    const noun = whole ? 'a whole number' : 'a number'
    const min = spec.min ?? 0
    return spec.max === undefined ? `${noun} ≥ ${min}` : `${noun} from ${min} to ${spec.max}`
  }

  return EXPECTED[spec.type]
}

/** checkValue, then the spec's range and choices. */
export function checkSpec(spec: ValueSpec, value: unknown): Scalar | undefined {
  return withinSpec(spec, checkValue(spec.type, value))
}

/** parseText, then the spec's range and choices. */
export function parseSpec(spec: ValueSpec, text: string): Scalar | undefined {
  return withinSpec(spec, parseText(spec.type, text))
}

function withinSpec(spec: ValueSpec, value: Scalar | undefined): Scalar | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))) return undefined
  if (spec.choices && !spec.choices.includes(String(value))) return undefined
  return value
}

/** Checks a value as files and JS modules give it (already typed); undefined when it does not fit. */
export function checkValue(type: ValueType | 'scalar', value: unknown): Scalar | undefined {
  switch (type) {
    case 'boolean': {
      return typeof value === 'boolean' ? value : undefined
    }

    case 'integer': {
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined
    }

    case 'number': {
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
    }

    case 'scalar': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
      return typeof value === 'boolean' || typeof value === 'string' ? value : undefined
    }

    case 'string': {
      return typeof value === 'string' && value !== '' ? value : undefined
    }

    case 'url': {
      return typeof value === 'string' && isHttpUrl(value) ? value : undefined
    }
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const {protocol} = new URL(text)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

const TRUE_WORDS = new Set(['1', 'on', 'true', 'yes'])
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off'])

/** Parses text from an environment variable or a command-line flag; undefined when it does not fit. */
export function parseText(type: ValueType | 'scalar', text: string): Scalar | undefined {
  const trimmed = text.trim()
  switch (type) {
    case 'boolean': {
      const word = trimmed.toLowerCase()
      if (TRUE_WORDS.has(word)) return true
      return FALSE_WORDS.has(word) ? false : undefined
    }

    // Number() alone would also accept "0x10", "1e3" and "" (as 0).
    case 'integer': {
      return /^\d+$/.test(trimmed) ? checkValue('integer', Number(trimmed)) : undefined
    }

    case 'number': {
      return /^(?:\d+\.?\d*|\.\d+)$/.test(trimmed) ? checkValue('number', Number(trimmed)) : undefined
    }

    case 'scalar':
    case 'string': {
      return text === '' ? undefined : text
    }

    case 'url': {
      return checkValue('url', trimmed)
    }
  }
}

export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  // smol-toml builds tables without a prototype; dates and class instances are not tables.
  const proto = Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype
}

/** A short rendering of a wrong value for "…, not X." */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof Date) return 'a date'
  if (typeof value === 'function') return 'a function'
  return isTable(value) ? 'a table' : 'an object'
}

/** The candidate a user most likely meant, tolerant of case, `-`/`_` and camelCase; undefined if none is close. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const normalize = (text: string) => text.toLowerCase().replaceAll(/[-_]/g, '')
  const wanted = normalize(input)
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const normal = normalize(candidate)
    const distance = wanted.length >= 5 && normal.startsWith(wanted) ? 1 : editDistance(wanted, normal)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }

  return bestDistance <= Math.max(1, Math.floor(wanted.length / 4)) ? best : undefined
}

/**
 * Edits from a to b: insertions, deletions, substitutions and swaps of two neighbouring characters
 * (the optimal string alignment distance). A swap is the commonest slip (`--limti`, `sessoins`), and
 * counted as two substitutions it would put the word as far from its name as an unrelated one.
 */
export function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = []
  let previous = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], beforePrevious[j - 2] + 1)
    }

    beforePrevious = previous
    previous = current
  }

  return previous[b.length]
}
