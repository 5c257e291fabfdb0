import {randomBytes} from 'node:crypto'

/** Crockford's base32: no I, L, O or U, so ids survive being read aloud or retyped. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const ID_LENGTH = 26
const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]+$/

/**
 * A ULID maker with its own memory of the last id: 48 bits of milliseconds then 80 random bits, 26
 * characters. Ids made by one maker sort in creation order even within one millisecond (the random
 * part is incremented), which keeps B-tree inserts at the right edge and makes `ORDER BY id` a
 * creation order. When the increment would overflow (2^80 ids in one millisecond, or a random part
 * drawn near the top), the id moves on to the next millisecond instead of wrapping to a smaller one.
 * `random` is there for tests, which need the top of the range on demand.
 */
export function idFactory(random: (size: number) => Uint8Array = randomBytes): (now?: number) => string {
  let lastTime = -1
  let lastRandom: number[] = []
  const fresh = () => Array.from(random(16), byte => byte & 31)
  return (now: number = Date.now()) => {
    let digits: number[] | undefined
    if (now <= lastTime) {
      now = lastTime
      digits = increment(lastRandom)
      if (!digits) now = lastTime + 1
    }
    digits ??= fresh()
    lastTime = now
    lastRandom = digits
    let time = ''
    let t = now
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32] + time
      t = Math.floor(t / 32)
    }
    return time + digits.map(d => ALPHABET[d]).join('')
  }
}

/** The process's ids: one maker, so every id this process makes is greater than the one before. */
export const newId = idFactory()

/** The next random part, or undefined when every digit is already the largest. */
function increment(digits: number[]): number[] | undefined {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 31) {
      next[i]++
      return next
    }
    next[i] = 0
  }
  return undefined
}

/**
 * Normalises what a user typed as an id or id prefix: ULIDs are case-insensitive. Returns undefined
 * when it cannot be part of an id, so callers can answer "not found" without asking the store.
 */
export function normalizeIdPrefix(input: string): string | undefined {
  const upper = input.trim().toUpperCase()
  if (upper.length === 0 || upper.length > ID_LENGTH || !ID_PATTERN.test(upper)) return undefined
  return upper
}

/**
 * The shortest prefix of `id` that no other id shares, never shorter than `min`: git's short hashes,
 * for ids whose leading characters are a timestamp and so are shared by sessions made close together.
 */
export function shortestUniquePrefix(id: string, neighbours: Array<string | undefined>, min = 8): string {
  let length = min
  for (const other of neighbours) {
    if (!other) continue
    let common = 0
    while (common < id.length && id[common] === other[common]) common++
    length = Math.max(length, common + 1)
  }
  return id.slice(0, Math.min(length, id.length))
}
