import type {MigrationInterface, QueryRunner} from 'typeorm'

/**
 * What a reply used and cost: cached input tokens, where the token counts came from, and the cost in
 * US dollars with where it came from. Plain ALTER TABLE, which SQLite and PostgreSQL both spell this
 * way ('double precision' is a floating-point type in each): TypeORM's addColumn would rebuild the
 * SQLite table, copying every message and dropping the search index's triggers with it.
 */
const COLUMNS = [
  ['cached_input_tokens', 'integer'],
  ['token_source', 'varchar(16)'],
  ['cost_usd', 'double precision'],
  ['cost_source', 'varchar(100)'],
] as const

export class AddMessageUsage1795300000050 implements MigrationInterface {
  name = 'AddMessageUsage1795300000050'

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [column] of [...COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE messages DROP COLUMN ${column}`)
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [column, type] of COLUMNS) await queryRunner.query(`ALTER TABLE messages ADD COLUMN ${column} ${type}`)
    // Until now only counts a provider reported were stored: say so, rather than leave them unexplained.
    await queryRunner.query("UPDATE messages SET token_source = 'provider' WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL")
  }
}
