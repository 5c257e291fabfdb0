import {type MigrationInterface, type QueryRunner, Table} from 'typeorm'

export class CreateMessages1795300000001 implements MigrationInterface {
  name = 'CreateMessages1795300000001'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('messages')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        columns: [
          {isPrimary: true, length: '26', name: 'id', type: 'varchar'},
          {length: '26', name: 'session_id', type: 'varchar'},
          {name: 'position', type: 'integer'},
          {length: '16', name: 'role', type: 'varchar'},
          {name: 'content', type: 'text'},
          {isNullable: true, length: '100', name: 'provider', type: 'varchar'},
          {isNullable: true, length: '200', name: 'model', type: 'varchar'},
          {isNullable: true, name: 'input_tokens', type: 'integer'},
          {isNullable: true, name: 'output_tokens', type: 'integer'},
          {default: "'complete'", length: '16', name: 'status', type: 'varchar'},
          {isNullable: true, name: 'metadata', type: 'text'},
          {name: 'created_at', type: 'bigint'},
        ],
        foreignKeys: [
          {
            columnNames: ['session_id'],
            name: 'fk_messages_session',
            onDelete: 'CASCADE',
            referencedColumnNames: ['id'],
            referencedTableName: 'sessions',
          },
        ],
        // Strict order within a session, and the index every load and append uses.
        indices: [{columnNames: ['session_id', 'position'], isUnique: true, name: 'idx_messages_session_position'}],
        name: 'messages',
      }),
    )
  }
}
