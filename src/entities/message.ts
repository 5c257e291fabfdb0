import {Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation} from 'typeorm'

import type {Metadata, MessageRole, MessageStatus, TokenSource} from '../store/session-store.js'
import {epochMillis} from './columns.js'
import {SessionEntity} from './session.js'

@Entity({name: 'messages'})
@Index('idx_messages_session_position', ['sessionId', 'position'], {unique: true})
// PostgreSQL's full-text index over an expression of content, which TypeORM cannot describe: the
// migration AddSearchIndex owns it, and the schema check must neither drop nor create it.
@Index('idx_messages_search', {synchronize: false})
export class MessageEntity {
  @PrimaryColumn({length: 26, type: 'varchar'})
  id!: string

  @Column({length: 26, name: 'session_id', type: 'varchar'})
  sessionId!: string

  // Deleting a session deletes its messages in the database itself, so no path can leave orphans.
  @ManyToOne(
    () => SessionEntity,
    session => session.messages,
    {nullable: false, onDelete: 'CASCADE'},
  )
  @JoinColumn({foreignKeyConstraintName: 'fk_messages_session', name: 'session_id', referencedColumnName: 'id'})
  // Relation<> keeps emitted decorator metadata from naming the class, which the ESM import cycle
  // between the two entities would leave uninitialised.
  session!: Relation<SessionEntity>

  @Column({type: 'integer'})
  position!: number

  @Column({length: 16, type: 'varchar'})
  role!: MessageRole

  @Column({type: 'text'})
  content!: string

  @Column({length: 100, nullable: true, type: 'varchar'})
  provider!: null | string

  @Column({length: 200, nullable: true, type: 'varchar'})
  model!: null | string

  @Column({name: 'input_tokens', nullable: true, type: 'integer'})
  inputTokens!: null | number

  @Column({name: 'output_tokens', nullable: true, type: 'integer'})
  outputTokens!: null | number

  @Column({name: 'cached_input_tokens', nullable: true, type: 'integer'})
  cachedInputTokens!: null | number

  @Column({length: 16, name: 'token_source', nullable: true, type: 'varchar'})
  tokenSource!: null | TokenSource

  @Column({name: 'cost_usd', nullable: true, type: 'double precision'})
  costUsd!: null | number

  @Column({length: 100, name: 'cost_source', nullable: true, type: 'varchar'})
  costSource!: null | string

  @Column({default: 'complete', length: 16, type: 'varchar'})
  status!: MessageStatus

  @Column({length: 50, name: 'finish_reason', nullable: true, type: 'varchar'})
  finishReason!: null | string

  @Column({name: 'duration_ms', nullable: true, type: 'integer'})
  durationMs!: null | number

  // No foreign key: a reply outlives nothing its question does not (both go with their session), and
  // restore writes messages in position order, which an import of edited files need not keep.
  @Column({length: 26, name: 'reply_to', nullable: true, type: 'varchar'})
  replyTo!: null | string

  @Column({nullable: true, type: 'simple-json'})
  metadata!: Metadata | null

  @Column({name: 'created_at', transformer: epochMillis, type: 'bigint'})
  createdAt!: Date
}
