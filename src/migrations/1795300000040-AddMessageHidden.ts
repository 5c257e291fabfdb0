import {type MigrationInterface, type QueryRunner, TableColumn} from 'typeorm'

/**
 * Messages taken out of a conversation (/retry, /edit, /undo) stay stored, marked: when they were
 * hidden, and by which message they were replaced. Every message stored before is in its
 * conversation, which is what the two nulls say.
 */
export class AddMessageHidden1795300000040 implements MigrationInterface {
  name = 'AddMessageHidden1795300000040'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('messages', 'superseded_by')
    await queryRunner.dropColumn('messages', 'hidden_at')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('messages', new TableColumn({isNullable: true, name: 'hidden_at', type: 'bigint'}))
    await queryRunner.addColumn('messages', new TableColumn({isNullable: true, length: '26', name: 'superseded_by', type: 'varchar'}))
  }
}
