import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
// The built library entry (package.json exports), as plugins/storage-postgres imports it: the bundle's TypeORM.
import pg from 'pg'
import {DataSource, type DataSourceOptions, ENTITIES, MIGRATIONS, SessionEntity} from 'synapse-cli/typeorm'

import {Schemas, SERVER_URL, withClient} from '../../plugins/storage-postgres/test/helpers.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

const CHUNKS = join(PROJECT_ROOT, 'dist', 'chunks')

/**
 * scripts/build.mjs bundles TypeORM's better-sqlite3 and postgres drivers and leaves the others out
 * (typeormTrimmed): both still open a database and run the migrations, and any other driver fails
 * with a message that says why.
 */
describe('the bundled TypeORM, trimmed to two drivers', () => {
  let sandbox: Sandbox
  const schemas = new Schemas()
  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())
  after(() => schemas.dropAll())

  /** The names of the migrations that ran on a blank database, after checking the schema is there. */
  async function migrate(options: DataSourceOptions): Promise<string[]> {
    const source = new DataSource({...options, entities: ENTITIES, migrations: MIGRATIONS, migrationsTableName: 'migrations'} as DataSourceOptions)
    await source.initialize()
    try {
      const ran = await source.runMigrations()
      expect(await source.getRepository(SessionEntity).count()).to.equal(0)
      return ran.map(migration => migration.name)
    } finally {
      await source.destroy()
    }
  }

  it('opens SQLite through better-sqlite3 and PostgreSQL through pg, and migrates both', async () => {
    const names = MIGRATIONS.map(migration => migration.name)
    expect(await migrate({database: join(sandbox.root, 'trimmed.db'), type: 'better-sqlite3'})).to.deep.equal(names)
    const schema = schemas.fresh('trimmed')
    await withClient(client => client.query(`CREATE SCHEMA "${schema}"`))
    // As the plugin connects (plugins/storage-postgres/src/target.ts): the schema first on the search path.
    const url = new URL(SERVER_URL)
    url.searchParams.set('options', `-c search_path=${schema}`)
    expect(await migrate({driver: pg, schema, type: 'postgres', url: url.toString()})).to.deep.equal(names)
  })

  it('refuses any other driver at once, saying that it is not bundled', () => {
    for (const [type, module] of [
      ['mysql', 'driver/mysql/MysqlDriver'],
      ['mongodb', 'driver/mongodb/MongoDriver'],
      ['mssql', 'driver/sqlserver/SqlServerDriver'],
      ['sqljs', 'driver/sqljs/SqljsDriver'],
      ['aurora-postgres', 'driver/aurora-postgres/AuroraPostgresDriver'],
    ]) {
      expect(() => new DataSource({type} as DataSourceOptions), type).to.throw(
        `TypeORM's ${module} is not bundled with synapse, which opens better-sqlite3 and postgres databases only.`,
      )
    }
  })

  it('holds no code of the drivers left out', () => {
    const bundle = readdirSync(CHUNKS)
      .filter(file => file.endsWith('.js'))
      .map(file => readFileSync(join(CHUNKS, file), 'utf8'))
      .join('\n')
    for (const name of ['MysqlQueryRunner', 'MongoQueryRunner', 'SqlServerQueryRunner', 'OracleQueryRunner', 'CockroachQueryRunner', 'SpannerQueryRunner']) {
      expect(bundle, name).to.not.include(`${name} = class`)
    }
    // The two that synapse opens are there.
    expect(bundle).to.include('BetterSqlite3QueryRunner = class')
    expect(bundle).to.include('PostgresQueryRunner = class')
  })
})
