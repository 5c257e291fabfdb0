import {InvalidInputError} from '../core/errors.js'

const UNITS: Record<string, number> = {d: 86_400_000, h: 3_600_000, m: 60_000, w: 7 * 86_400_000}

/**
 * A point in time as `--since` and `--until` take it: a duration back from `now` ("7d", "12h",
 * "30m", "2w"), a local calendar day ("2026-11-01", its midnight), or an ISO 8601 instant.
 */
export function parseInstant(input: string, now: Date = new Date()): Date {
  const text = input.trim()
  const duration = /^(\d+)\s*([dhmw])$/i.exec(text)
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNITS[duration[2].toLowerCase()])
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (day) {
    const date = new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3]))
    if (date.getDate() === Number(day[3]) && date.getMonth() === Number(day[2]) - 1) return date
  }
  const instant = /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : undefined
  if (instant && !Number.isNaN(instant.getTime())) return instant
  throw new InvalidInputError(`"${input}" is neither a duration nor a date.`, {
    suggestions: ['Give a duration back from now (7d, 12h, 30m, 2w), a day (2026-11-01) or an ISO 8601 time (2026-11-01T09:00:00Z).'],
  })
}
