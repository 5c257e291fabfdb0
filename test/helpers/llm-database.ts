import Database from 'better-sqlite3'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {PROJECT_ROOT} from './cli.js'

/**
 * The database llm 0.19.1 wrote (7 responses in 4 conversations), kept in the steering repo's
 * shared/fixtures beside the clone: ../shared from main's clone, ../../shared from a worktree.
 */
export function llmFixturePath(): string {
  const name = join('shared', 'fixtures', 'llm-0.19.1-logs.db')
  const candidates = [join(dirname(PROJECT_ROOT), name), join(dirname(dirname(PROJECT_ROOT)), name)]
  const found = candidates.find(path => existsSync(path))
  if (!found) throw new Error(`The llm fixture is missing: looked for ${candidates.join(' and ')}.`)
  return found
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** The files SQLite may make beside a database; a read-only import must make none. */
export function sidecarsOf(path: string): string[] {
  return ['-wal', '-shm', '-journal'].map(suffix => path + suffix).filter(p => existsSync(p))
}

/**
 * llm's migrations (simonw/llm llm/migrations.py) m010 onwards, as the SQL sqlite-utils runs for them,
 * in order; m001-m009 built and then dropped the pre-0.5 "logs" table, which an empty database ends
 * without. Running all of them gives the schema of the newest llm.
 */
const MIGRATIONS: Array<[name: string, sql: string]> = [
  ['m001_initial', ''],
  ['m002_id_primary_key', ''],
  ['m003_chat_id_foreign_key', ''],
  ['m004_column_order', ''],
  ['m004_drop_provider', ''],
  ['m005_debug', ''],
  ['m006_new_logs_table', ''],
  ['m007_finish_logs_table', ''],
  ['m008_reply_to_id_foreign_key', ''],
  ['m008_fix_column_order_in_logs', ''],
  ['m009_delete_logs_table_if_empty', ''],
  [
    'm010_create_new_log_tables',
    `CREATE TABLE [conversations] ([id] TEXT PRIMARY KEY, [name] TEXT, [model] TEXT);
     CREATE TABLE [responses] ([id] TEXT PRIMARY KEY, [model] TEXT, [prompt] TEXT, [system] TEXT, [prompt_json] TEXT, [options_json] TEXT,
       [response] TEXT, [response_json] TEXT, [conversation_id] TEXT REFERENCES [conversations]([id]), [duration_ms] INTEGER, [datetime_utc] TEXT);`,
  ],
  [
    'm011_fts_for_responses',
    `CREATE VIRTUAL TABLE [responses_fts] USING FTS5 ([prompt], [response], content=[responses]);
     CREATE TRIGGER [responses_ai] AFTER INSERT ON [responses] BEGIN
       INSERT INTO [responses_fts] (rowid, [prompt], [response]) VALUES (new.rowid, new.[prompt], new.[response]);
     END;
     CREATE TRIGGER [responses_ad] AFTER DELETE ON [responses] BEGIN
       INSERT INTO [responses_fts] ([responses_fts], rowid, [prompt], [response]) VALUES('delete', old.rowid, old.[prompt], old.[response]);
     END;
     CREATE TRIGGER [responses_au] AFTER UPDATE ON [responses] BEGIN
       INSERT INTO [responses_fts] ([responses_fts], rowid, [prompt], [response]) VALUES('delete', old.rowid, old.[prompt], old.[response]);
       INSERT INTO [responses_fts] (rowid, [prompt], [response]) VALUES (new.rowid, new.[prompt], new.[response]);
     END;`,
  ],
  [
    'm012_attachments_tables',
    `CREATE TABLE [attachments] ([id] TEXT PRIMARY KEY, [type] TEXT, [path] TEXT, [url] TEXT, [content] BLOB);
     CREATE TABLE [prompt_attachments] ([response_id] TEXT REFERENCES [responses]([id]), [attachment_id] TEXT REFERENCES [attachments]([id]),
       [order] INTEGER, PRIMARY KEY ([response_id], [attachment_id]));`,
  ],
  [
    'm013_usage',
    'ALTER TABLE [responses] ADD COLUMN [input_tokens] INTEGER; ALTER TABLE [responses] ADD COLUMN [output_tokens] INTEGER; ALTER TABLE [responses] ADD COLUMN [token_details] TEXT;',
  ],
  [
    'm014_schemas',
    'CREATE TABLE [schemas] ([id] TEXT PRIMARY KEY, [content] TEXT); ALTER TABLE [responses] ADD COLUMN [schema_id] TEXT REFERENCES [schemas]([id]);',
  ],
  [
    'm015_fragments_tables',
    `CREATE TABLE [fragments] ([id] INTEGER PRIMARY KEY, [hash] TEXT, [content] TEXT, [datetime_utc] TEXT, [source] TEXT);
     CREATE UNIQUE INDEX [idx_fragments_hash] ON [fragments] ([hash]);
     CREATE TABLE [fragment_aliases] ([alias] TEXT PRIMARY KEY, [fragment_id] INTEGER REFERENCES [fragments]([id]));
     CREATE TABLE [prompt_fragments] ([response_id] TEXT REFERENCES [responses]([id]), [fragment_id] INTEGER REFERENCES [fragments]([id]), [order] INTEGER,
       PRIMARY KEY ([response_id], [fragment_id]));
     CREATE TABLE [system_fragments] ([response_id] TEXT REFERENCES [responses]([id]), [fragment_id] INTEGER REFERENCES [fragments]([id]), [order] INTEGER,
       PRIMARY KEY ([response_id], [fragment_id]));`,
  ],
  [
    'm016_fragments_table_pks',
    `CREATE TABLE [prompt_fragments_new] ([response_id] TEXT REFERENCES [responses]([id]), [fragment_id] INTEGER REFERENCES [fragments]([id]), [order] INTEGER,
       PRIMARY KEY ([response_id], [fragment_id], [order]));
     INSERT INTO [prompt_fragments_new] SELECT * FROM [prompt_fragments]; DROP TABLE [prompt_fragments]; ALTER TABLE [prompt_fragments_new] RENAME TO [prompt_fragments];
     CREATE TABLE [system_fragments_new] ([response_id] TEXT REFERENCES [responses]([id]), [fragment_id] INTEGER REFERENCES [fragments]([id]), [order] INTEGER,
       PRIMARY KEY ([response_id], [fragment_id], [order]));
     INSERT INTO [system_fragments_new] SELECT * FROM [system_fragments]; DROP TABLE [system_fragments]; ALTER TABLE [system_fragments_new] RENAME TO [system_fragments];`,
  ],
  [
    'm017_tools_tables',
    `CREATE TABLE [tools] ([id] INTEGER PRIMARY KEY, [hash] TEXT, [name] TEXT, [description] TEXT, [input_schema] TEXT);
     CREATE UNIQUE INDEX [idx_tools_hash] ON [tools] ([hash]);
     CREATE TABLE [tool_responses] ([tool_id] INTEGER REFERENCES [tools]([id]), [response_id] TEXT REFERENCES [responses]([id]), PRIMARY KEY ([tool_id], [response_id]));
     CREATE TABLE [tool_calls] ([id] INTEGER PRIMARY KEY, [response_id] TEXT REFERENCES [responses]([id]), [tool_id] INTEGER REFERENCES [tools]([id]),
       [name] TEXT, [arguments] TEXT, [tool_call_id] TEXT);
     CREATE TABLE [tool_results] ([id] INTEGER PRIMARY KEY, [response_id] TEXT REFERENCES [responses]([id]), [tool_id] INTEGER REFERENCES [tools]([id]),
       [name] TEXT, [output] TEXT, [tool_call_id] TEXT);`,
  ],
  ['m017_tools_plugin', 'ALTER TABLE [tools] ADD COLUMN [plugin] TEXT;'],
  [
    'm018_tool_instances',
    `CREATE TABLE [tool_instances] ([id] INTEGER PRIMARY KEY, [plugin] TEXT, [name] TEXT, [arguments] TEXT);
     ALTER TABLE [tool_results] ADD COLUMN [instance_id] INTEGER REFERENCES [tool_instances]([id]);`,
  ],
  ['m019_resolved_model', 'ALTER TABLE [responses] ADD COLUMN [resolved_model] TEXT;'],
  [
    'm020_tool_results_attachments',
    `CREATE TABLE [tool_results_attachments] ([tool_result_id] INTEGER REFERENCES [tool_results]([id]), [attachment_id] TEXT REFERENCES [attachments]([id]),
       [order] INTEGER, PRIMARY KEY ([tool_result_id], [attachment_id]));`,
  ],
  ['m021_tool_results_exception', 'ALTER TABLE [tool_results] ADD COLUMN [exception] TEXT;'],
  [
    'm022_parts_table',
    `CREATE TABLE [parts] ([id] INTEGER PRIMARY KEY, [response_id] TEXT REFERENCES [responses]([id]), [direction] TEXT, [role] TEXT, [part_type] TEXT,
       [order] INTEGER, [content] TEXT, [content_json] TEXT, [tool_call_id] TEXT, [server_executed] INTEGER);
     CREATE UNIQUE INDEX "idx_parts_response_order" ON parts (response_id, direction, "order");`,
  ],
]

/** A blank llm database in the newest schema, migrated as llm migrates one; returns it open for writing rows. */
export function newestLlmDatabase(path: string): Database.Database {
  const db = new Database(path)
  db.exec('CREATE TABLE [_llm_migrations] ([name] TEXT PRIMARY KEY, [applied_at] TEXT)')
  const record = db.prepare('INSERT INTO _llm_migrations (name, applied_at) VALUES (?, ?)')
  for (const [name, sql] of MIGRATIONS) {
    db.transaction(() => {
      if (sql) db.exec(sql)
      record.run(name, '2026-12-01 08:00:00.000000')
    })()
  }
  return db
}
