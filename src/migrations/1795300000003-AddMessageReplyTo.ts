import {type MigrationInterface, type QueryRunner, TableColumn} from 'typeorm'

/**
 * Each reply names the question it answers, so that concurrent turns into one session pair up
 * whatever order they were stored in. Replies already stored answered the nearest question before
 * them (one process wrote each turn), which is what `up` records for them.
 */
export class AddMessageReplyTo1795300000003 implements MigrationInterface {
  name = 'AddMessageReplyTo1795300000003'

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('messages', 'reply_to')
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('messages', new TableColumn({isNullable: true, length: '26', name: 'reply_to', type: 'varchar'}))
    await queryRunner.query(
      `UPDATE messages SET reply_to = (
         SELECT q.id FROM messages q
         WHERE q.session_id = messages.session_id AND q.position < messages.position AND q.role = 'user'
         ORDER BY q.position DESC LIMIT 1
       ) WHERE role = 'assistant'`,
    )
  }
}
