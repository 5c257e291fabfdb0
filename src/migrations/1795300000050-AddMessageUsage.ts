import {type MigrationInterface, type QueryRunner, TableColumn} from 'typeorm'

/**
 * What a reply used and cost: cached input tokens, where the token counts came from, and the cost in
 * US dollars with where it came from. 'double precision' is a floating-point type in SQLite and
 * PostgreSQL alike, so the one column definition serves both.
 */
export class AddMessageUsage1795300000050 implements MigrationInterface {
  name = 'AddMessageUsage1795300000050'

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['cost_source', 'cost_usd', 'token_source', 'cached_input_tokens']) await queryRunner.dropColumn('messages', column)
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('messages', [
      new TableColumn({isNullable: true, name: 'cached_input_tokens', type: 'integer'}),
      new TableColumn({isNullable: true, length: '16', name: 'token_source', type: 'varchar'}),
      new TableColumn({isNullable: true, name: 'cost_usd', type: 'double precision'}),
      new TableColumn({isNullable: true, length: '100', name: 'cost_source', type: 'varchar'}),
    ])
    // Until now only counts a provider reported were stored: say so, rather than leave them unexplained.
    await queryRunner.query("UPDATE messages SET token_source = 'provider' WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL")
  }
}
