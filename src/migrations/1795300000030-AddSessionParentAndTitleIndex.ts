import type {MigrationInterface, QueryRunner} from 'typeorm'

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
 * (about 2.7 kB on PostgreSQL) and a title has none. Plain ALTER TABLE, spelt alike in both: TypeORM's
 * addColumn would rebuild the SQLite table, dropping the search index's triggers with it.
 */
export class AddSessionParentAndTitleIndex1795300000030 implements MigrationInterface {
  name = 'AddSessionParentAndTitleIndex1795300000030'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX idx_sessions_title')
    await queryRunner.query('ALTER TABLE sessions DROP COLUMN parent_position')
    await queryRunner.query('ALTER TABLE sessions DROP COLUMN parent_id')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE sessions ADD COLUMN parent_id varchar(26)')
    await queryRunner.query('ALTER TABLE sessions ADD COLUMN parent_position integer')
    await queryRunner.query(`CREATE INDEX idx_sessions_title ON sessions (substr(title, 1, ${TITLE_KEY_LENGTH}))`)
  }
}
