import {performance} from 'node:perf_hooks'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

/**
 * One measurement: does any set-up of its own untimed, runs the operation once (or a fixed batch of
 * it) and returns the milliseconds it timed.
 */
export type Trial = () => number | Promise<number>

export interface Plan {
  /** Timed runs per contender. Odd counts give a true median. */
  repetitions: number
  /** Untimed runs per contender first: JIT, statement caches, the OS page cache, Node's compile cache. */
  warmup: number
}

export interface Stats {
  max: number
  median: number
  min: number
  p25: number
  p75: number
  samples: number[]
}

/** Milliseconds a synchronous operation takes, with no await hop added to a synchronous baseline. */
export function time(work: () => unknown): number {
  const start = performance.now()
  work()
  return performance.now() - start
}

/** Milliseconds an asynchronous operation takes, including its promise resolution. */
export async function timeAsync(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await work()
  return performance.now() - start
}

/**
 * Runs the contenders in turn, rotating which goes first on each round (A B, B A, A B...), so that
 * drift on a shared machine, and any cost one leaves for the next, lands on all of them alike.
 * Garbage is collected between trials so that one side's allocations are not collected on the
 * other side's clock.
 */
export async function interleave<K extends string>(contenders: Record<K, Trial>, plan: Plan): Promise<Record<K, Stats>> {
  const names = Object.keys(contenders) as K[]
  const samples = Object.fromEntries(names.map(name => [name, [] as number[]])) as Record<K, number[]>
  for (let round = -plan.warmup; round < plan.repetitions; round++) {
    const shift = ((round % names.length) + names.length) % names.length
    for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
      collectGarbage()
      const ms = await contenders[name]()
      if (round >= 0) samples[name].push(ms)
    }
  }
  return Object.fromEntries(names.map(name => [name, statsOf(samples[name])])) as Record<K, Stats>
}

export function statsOf(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    max: sorted.at(-1) ?? Number.NaN,
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    samples,
  }
}

/** Linear interpolation between closest ranks; `sorted` ascending. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = (sorted.length - 1) * q
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low)
}

// `npm run bench` cannot pass --expose-gc, but the flag can still be set before a context that
// sees `gc` is made.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
