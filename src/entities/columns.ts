import type {ValueTransformer} from 'typeorm'

/**
 * Timestamps are stored as epoch milliseconds in a bigint column: one representation that SQLite and
 * PostgreSQL both index and compare natively, and that raw SQL on the hot paths can bind as a number.
 * PostgreSQL hands bigints back as strings, hence the transformer.
 */
export const epochMillis: ValueTransformer = {
  from: (value: null | number | string) => (value === null || value === undefined ? value : new Date(Number(value))),
  to: (value: Date | null | undefined) => (value instanceof Date ? value.getTime() : value),
}
