import {type MigrationInterface, type QueryRunner, TableColumn} from 'typeorm'

/** Sessions a person asked to keep (`sessions keep`): retention never deletes them. */
export class AddSessionKept1795300000010 implements MigrationInterface {
  name = 'AddSessionKept1795300000010'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sessions', 'kept')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('sessions', new TableColumn({default: 0, name: 'kept', type: 'integer'}))
  }
}
