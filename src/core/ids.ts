import {randomBytes} from 'node:crypto'

/** Crockford's base32: no I, L, O or U, so ids survive being read aloud or retyped. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const ID_LENGTH = 26
const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]+$/

let lastTime = -1
let lastRandom: number[] = []

/**
 * A ULID: 48 bits of milliseconds then 80 random bits, 26 characters. Ids made by one process sort in
 * creation order even within one millisecond (the random part is incremented), which keeps B-tree
 * inserts at the right edge and makes `ORDER BY id` a creation order.
 */
export function newId(now: number = Date.now()): string {
  let random: number[]
  if (now <= lastTime) {
    random = increment(lastRandom)
    now = lastTime
  } else {
    const bytes = randomBytes(16)
    random = Array.from({length: 16}, (_, i) => bytes[i] & 31)
  }
  lastTime = now
  lastRandom = random
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  return time + random.map((d) => ALPHABET[d]).join('')
}

function increment(digits: number[]): number[] {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 31) {
      next[i]++
      return next
    }
    next[i] = 0
  }
  return next
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
