import {cpus, loadavg} from 'node:os'

import type {Stats} from './harness.js'
import {type Measurement, meetsTarget, type Target} from './measurement.js'

export interface Environment {
  cpuModel: string
  cpus: number
  date: string
  loadAverage: number[]
  mode: 'full' | 'quick'
  node: string
  platform: string
}

export function environment(mode: Environment['mode']): Environment {
  const cores = cpus()
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpus: cores.length,
    date: new Date().toISOString(),
    loadAverage: loadavg().map(n => Math.round(n * 100) / 100),
    mode,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

export function header(env: Environment): string[] {
  return [
    `synapse benchmark (${env.mode}): Node ${env.node}, ${env.cpus} CPUs (${env.cpuModel}), ${env.platform}, ${env.date}`,
    // A busy shared machine explains a noisy run; the ratios are what to read.
    `load average at start: ${env.loadAverage.join(' ')}`,
  ]
}

export function table(measurements: Measurement[]): string[] {
  const rows = measurements.map(m => {
    const met = meetsTarget(m)
    return [
      m.operation,
      formatValue(m.synapse, m.unit),
      formatValue(m.raw, m.unit),
      m.addedMs === undefined ? `${m.ratio.toFixed(ratioDecimals(m.target))}x` : `${signed(m.addedMs)} ms`,
      m.target ? formatTarget(m.target) : '-',
      met === undefined ? 'info' : met ? 'met' : 'NOT met',
    ]
  })
  const titles = ['operation', 'synapse median', 'raw median', 'ratio', 'target', 'verdict']
  const widths = titles.map((title, i) => Math.max(title.length, ...rows.map(row => row[i].length)))
  // Numbers right-aligned so their magnitudes line up.
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i >= 1 && i <= 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join(' | ')
      .trimEnd()
  return [
    line(titles),
    widths.map(w => '-'.repeat(w)).join('-|-'),
    ...rows.map(row => line(row)),
    '',
    'ratio: synapse time / baseline time (append: synapse rate / raw rate; "+x ms": synapse median - baseline median); the raw column is raw better-sqlite3 unless the operation names another baseline.',
  ]
}

/** Caveats, then the spread behind each median so a reader can tell a real gap from noise. */
export function notes(measurements: Measurement[]): string[] {
  const out: string[] = []
  for (const m of measurements) for (const note of m.notes) out.push(`- ${m.id}: ${note}`)
  out.push('', 'spread, ms per trial (MB for memory rows; p25 / median / p75, n runs):')
  for (const m of measurements) {
    out.push(`- ${m.id}: synapse ${spread(m.timings.synapse)}; ${m.baseline ?? 'raw'} ${spread(m.timings.raw)}`)
  }
  return out
}

export function jsonReport(env: Environment, measurements: Measurement[], failures: string[]): string {
  return `${JSON.stringify({environment: env, failures, results: measurements.map(m => ({...m, met: meetsTarget(m)}))}, null, 2)}\n`
}

function formatValue(value: number, unit: Measurement['unit']): string {
  if (unit === 'messages/s') return `${Math.round(value).toLocaleString('en-US')} msg/s`
  if (unit === 'MB') return `${value.toFixed(1)} MB`
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`
}

function formatTarget(target: Target): string {
  if ('ms' in target) return `<= ${target.ms} ms`
  if ('mb' in target) return `<= ${target.mb} MB`
  if ('addedMs' in target) return `<= ${signed(target.addedMs)} ms`
  return `${target.bound === 'min' ? '>=' : '<='} ${target.ratio}x`
}

/** One more decimal than the target has (at least two), so 1.021x never reads as 1.02x against a 1.02x bound. */
function ratioDecimals(target: Target | undefined): number {
  const decimals = target && 'ratio' in target ? (String(target.ratio).split('.')[1]?.length ?? 0) : 0
  return Math.max(2, decimals + 1)
}

function signed(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${Math.abs(ms).toFixed(1)}`
}

function spread(stats: Stats): string {
  const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1))
  return `${ms(stats.p25)} / ${ms(stats.median)} / ${ms(stats.p75)} (n=${stats.samples.length})`
}
