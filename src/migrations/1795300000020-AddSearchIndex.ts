import type {MigrationInterface, QueryRunner} from 'typeorm'

import {searchIndexFor} from '../store/typeorm/search-sql.js'

/**
 * The full-text index `sessions search` uses, over message content and session titles, filled from
 * the messages already stored: FTS5 tables kept in step by triggers on SQLite, GIN indexes over a
 * tsvector expression on PostgreSQL. The SQL is the database's own (search-sql.ts), chosen by the
 * database type TypeORM reports.
 */
export const SEARCH_INDEX_MIGRATION = 'AddSearchIndex1795300000020'

export class AddSearchIndex1795300000020 implements MigrationInterface {
  name = SEARCH_INDEX_MIGRATION

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of searchIndexFor(queryRunner.connection.options.type).drop) await queryRunner.query(sql)
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of searchIndexFor(queryRunner.connection.options.type).create) await queryRunner.query(sql)
  }
}
