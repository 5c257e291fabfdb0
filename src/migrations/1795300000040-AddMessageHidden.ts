import type {MigrationInterface, QueryRunner} from 'typeorm'

/**
 * Messages taken out of a conversation (/retry, /edit, /undo) stay stored, marked: when they were
 * hidden, and by which message they were replaced. Every message stored before is in its
 * conversation, which is what the two nulls say. Plain ALTER TABLE, spelt alike in SQLite and
 * PostgreSQL: TypeORM's addColumn and dropColumn would rebuild the SQLite table, copying every
 * message and dropping the search index's triggers with it.
 */
const COLUMNS = [
  ['hidden_at', 'bigint'],
  ['superseded_by', 'varchar(26)'],
] as const

export class AddMessageHidden1795300000040 implements MigrationInterface {
  name = 'AddMessageHidden1795300000040'

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [column] of [...COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE messages DROP COLUMN ${column}`)
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [column, type] of COLUMNS) await queryRunner.query(`ALTER TABLE messages ADD COLUMN ${column} ${type}`)
  }
}
