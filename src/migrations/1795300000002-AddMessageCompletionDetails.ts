import {type MigrationInterface, type QueryRunner, TableColumn} from 'typeorm'

/** Why a reply ended and how long it took, kept per assistant message. */
export class AddMessageCompletionDetails1795300000002 implements MigrationInterface {
  name = 'AddMessageCompletionDetails1795300000002'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('messages', 'duration_ms')
    await queryRunner.dropColumn('messages', 'finish_reason')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('messages', [
      new TableColumn({isNullable: true, length: '50', name: 'finish_reason', type: 'varchar'}),
      new TableColumn({isNullable: true, name: 'duration_ms', type: 'integer'}),
    ])
  }
}
