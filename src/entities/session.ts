import {Column, Entity, Index, OneToMany, PrimaryColumn, type Relation} from 'typeorm'

import type {Metadata} from '../store/session-store.js'
import {epochMillis} from './columns.js'
import {MessageEntity} from './message.js'

// Every column names its type: tsx/esbuild emit no decorator metadata to infer one from.
@Entity({name: 'sessions'})
@Index('idx_sessions_updated_at', ['updatedAt'])
// PostgreSQL's full-text index over the title, owned by the migration AddSearchIndex (see MessageEntity).
@Index('idx_sessions_search', {synchronize: false})
// On the start of the title, not the title: a B-tree entry is bounded (about 2.7 kB on PostgreSQL) and
// a title is not. An expression index TypeORM cannot describe: the migration owns it, the schema check skips it.
@Index('idx_sessions_title', {synchronize: false})
export class SessionEntity {
  @PrimaryColumn({length: 26, type: 'varchar'})
  id!: string

  @Column({nullable: true, type: 'text'})
  title!: null | string

  @Column({length: 100, nullable: true, type: 'varchar'})
  provider!: null | string

  @Column({length: 200, nullable: true, type: 'varchar'})
  model!: null | string

  @Column({name: 'system_prompt', nullable: true, type: 'text'})
  systemPrompt!: null | string

  @Column({nullable: true, type: 'simple-json'})
  metadata!: Metadata | null

  @Column({name: 'created_at', transformer: epochMillis, type: 'bigint'})
  createdAt!: Date

  @Column({name: 'updated_at', transformer: epochMillis, type: 'bigint'})
  updatedAt!: Date

  /** 1: kept from retention. An integer rather than a boolean: one type SQLite and PostgreSQL bind alike from raw SQL. */
  @Column({default: 0, type: 'integer'})
  kept!: number

  /** For a fork, the session it was copied from. No relation: a fork outlives its parent. */
  @Column({length: 26, name: 'parent_id', nullable: true, type: 'varchar'})
  parentId!: null | string

  @Column({name: 'parent_position', nullable: true, type: 'integer'})
  parentPosition!: null | number

  @OneToMany(
    () => MessageEntity,
    message => message.session,
  )
  messages!: Relation<MessageEntity[]>
}
