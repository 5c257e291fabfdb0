import type {Stats} from './harness.js'

/**
 * A ratio bound: synapse/raw must be at least (throughput) or at most (time) `ratio`. Or, for a
 * latency whose baseline is a few milliseconds, where a ratio would mostly show the baseline's
 * jitter: synapse may add at most `addedMs` to it. Or an absolute bound a person notices past (a TAB):
 * synapse's median at most `ms`, the baseline shown beside it. Or a peak memory: at most `mb`.
 */
export type Target = {addedMs: number; bound: 'max'} | {bound: 'max' | 'min'; ratio: number} | {bound: 'max'; mb: number} | {bound: 'max'; ms: number}

/** One line of the report: synapse against its baseline in the same run. */
export interface Measurement {
  /** synapse - raw in ms, set when that difference, not the ratio, is the row's headline. */
  addedMs?: number
  /** What the raw column is, when it is not raw better-sqlite3. */
  baseline?: string
  id: string
  /** Caveats a reader needs to judge the ratio. */
  notes: string[]
  operation: string
  /** The headline values, in `unit`. */
  raw: number
  /** synapse / raw in `unit`: for a throughput higher is better, for a time lower is. */
  ratio: number
  synapse: number
  /** Per trial, as measured: milliseconds (megabytes for a memory row). */
  timings: {raw: Stats; synapse: Stats}
  /** Undefined: reported for information only. */
  target?: Target
  unit: 'MB' | 'messages/s' | 'ms'
}

/** A comparison of times: the medians as they are. */
export function timeComparison(fields: Omit<Measurement, 'raw' | 'ratio' | 'synapse' | 'unit'>): Measurement {
  const synapse = fields.timings.synapse.median
  const raw = fields.timings.raw.median
  return {...fields, raw, ratio: synapse / raw, synapse, unit: 'ms'}
}

/** A comparison of times read as the milliseconds synapse adds: the difference of the medians. */
export function addedTimeComparison(fields: Omit<Measurement, 'addedMs' | 'raw' | 'ratio' | 'synapse' | 'unit'>): Measurement {
  const measurement = timeComparison(fields)
  return {...measurement, addedMs: measurement.synapse - measurement.raw}
}

/** A comparison of peak memory (max RSS, MB per process): the medians as they are. */
export function memoryComparison(fields: Omit<Measurement, 'raw' | 'ratio' | 'synapse' | 'unit'>): Measurement {
  return {...timeComparison(fields), unit: 'MB'}
}

/** A comparison of throughputs: `operations` per trial over the median trial time. */
export function rateComparison(operations: number, fields: Omit<Measurement, 'raw' | 'ratio' | 'synapse' | 'unit'>): Measurement {
  const synapse = (operations * 1000) / fields.timings.synapse.median
  const raw = (operations * 1000) / fields.timings.raw.median
  return {...fields, raw, ratio: synapse / raw, synapse, unit: 'messages/s'}
}

export function meetsTarget(measurement: Measurement): boolean | undefined {
  const {target} = measurement
  if (!target) return undefined
  if ('ms' in target) return measurement.synapse <= target.ms
  if ('mb' in target) return measurement.synapse <= target.mb
  if ('addedMs' in target) return (measurement.addedMs ?? measurement.synapse - measurement.raw) <= target.addedMs
  return target.bound === 'min' ? measurement.ratio >= target.ratio : measurement.ratio <= target.ratio
}
