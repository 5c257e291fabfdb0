import {type MigrationInterface, type QueryRunner, Table, TableIndex} from 'typeorm'

export class CreateSessions1795300000000 implements MigrationInterface {
  name = 'CreateSessions1795300000000'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('sessions', 'idx_sessions_updated_at')
    await queryRunner.dropTable('sessions')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        columns: [
          {isPrimary: true, length: '26', name: 'id', type: 'varchar'},
          {isNullable: true, name: 'title', type: 'text'},
          {isNullable: true, length: '100', name: 'provider', type: 'varchar'},
          {isNullable: true, length: '200', name: 'model', type: 'varchar'},
          {isNullable: true, name: 'system_prompt', type: 'text'},
          {isNullable: true, name: 'metadata', type: 'text'},
          {name: 'created_at', type: 'bigint'},
          {name: 'updated_at', type: 'bigint'},
        ],
        name: 'sessions',
      }),
    )
    // `sessions list` and retention both walk sessions by last update.
    await queryRunner.createIndex('sessions', new TableIndex({columnNames: ['updated_at'], name: 'idx_sessions_updated_at'}))
  }
}
