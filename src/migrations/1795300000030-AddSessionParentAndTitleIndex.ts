import {type MigrationInterface, type QueryRunner, TableColumn} from 'typeorm'

/**
 * How much of a title the index holds: enough to tell titles apart, few enough bytes for any B-tree.
 * The title look-up (sql-adapter.ts) compares the same expression, so that the index serves it.
 */
export const TITLE_KEY_LENGTH = 100

/**
 * Forks record the session they were copied from (`sessions fork`), and sessions are found by title
 * (`-s "Release notes"`), which an index keeps from scanning every session. parent_id has no foreign
 * key on purpose: deleting a parent must neither cascade to its forks nor be refused because of them.
 * Sessions already stored are no forks: both columns stay NULL for them. The index is on the start of
 * the title, an expression SQLite and PostgreSQL both index, because a B-tree entry has a size limit
 * (about 2.7 kB on PostgreSQL) and a title has none.
 */
export class AddSessionParentAndTitleIndex1795300000030 implements MigrationInterface {
  name = 'AddSessionParentAndTitleIndex1795300000030'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX idx_sessions_title')
    await queryRunner.dropColumn('sessions', 'parent_position')
    await queryRunner.dropColumn('sessions', 'parent_id')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('sessions', new TableColumn({isNullable: true, length: '26', name: 'parent_id', type: 'varchar'}))
    await queryRunner.addColumn('sessions', new TableColumn({isNullable: true, name: 'parent_position', type: 'integer'}))
    await queryRunner.query(`CREATE INDEX idx_sessions_title ON sessions (substr(title, 1, ${TITLE_KEY_LENGTH}))`)
  }
}
