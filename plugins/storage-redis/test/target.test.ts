import {expect} from 'chai'
import {SynapseError} from 'synapse-cli'

import {redisTarget} from '../src/target.js'

function refusal(url: string): SynapseError {
  try {
    redisTarget(url)
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(SynapseError)
    return error as SynapseError
  }
  expect.fail(`accepted ${url}`)
}

describe('Redis storage URLs', () => {
  it('reads host, port, database, user, password and prefix, with defaults', () => {
    expect(redisTarget('redis://localhost')).to.deep.equal({
      connectTimeoutMs: 10_000,
      database: 0,
      host: 'localhost',
      location: 'redis://localhost',
      password: '',
      port: 6379,
      prefix: 'synapse:',
      tls: false,
      username: '',
    })
    expect(redisTarget('rediss://ada:s%40cret@cache.example:6380/3?prefix=team.chat&connect_timeout=2')).to.deep.equal({
      connectTimeoutMs: 2000,
      database: 3,
      host: 'cache.example',
      location: 'rediss://ada:***@cache.example:6380/3?prefix=team.chat&connect_timeout=2',
      password: 's@cret',
      port: 6380,
      prefix: 'team.chat:',
      tls: true,
      username: 'ada',
    })
    expect(redisTarget('redis://[::1]:7000/?prefix=a:b:').host).to.equal('::1')
    expect(redisTarget('redis://[::1]:7000/?prefix=a:b:').prefix).to.equal('a:b:')
    expect(redisTarget('redis://:only-a-password@h').password).to.equal('only-a-password')
  })

  it('refuses what it cannot use, before connecting, without printing the password', () => {
    const cases: Array<[string, string]> = [
      ['redis://u:hunter2@h/zero', 'The storage URL redis://u:***@h/zero names database "zero"; the path is a database number.'],
      // As written: a malformed percent escape is shown, not decoded (and never a crash).
      ['redis://h/%zz', 'The storage URL redis://h/%zz names database "%zz"; the path is a database number.'],
      [
        'redis://u:hunter2@h/0?db=1',
        'The storage URL redis://u:***@h/0?db=1 has the parameter "db", which synapse does not know (it knows prefix and connect_timeout).',
      ],
      ['redis://u:hunter2@/0', 'The storage URL redis://u:***@/0 is not a valid Redis URL.'],
      ['redis:///0', 'The storage URL redis:///0 names no host.'],
      ['redis://u:hunter2@h:99999/0', 'The storage URL redis://u:***@h:99999/0 is not a valid Redis URL.'],
    ]
    for (const [url, message] of cases) {
      const error = refusal(url)
      expect(error.code).to.equal('CONFIG_INVALID')
      expect(error.message).to.equal(message)
      expect(JSON.stringify(error.toJSON())).not.to.contain('hunter2')
      expect(error.suggestions[0]).to.match(/^Write it as redis:\/\//)
    }
    const prefix = refusal('redis://h/0?prefix=has%20space')
    expect(prefix.message).to.equal('"has space" is not a key prefix synapse accepts.')
    expect(refusal('redis://h/0?prefix=').message).to.equal('"" is not a key prefix synapse accepts.')
    expect(refusal('postgres://h/0').message).to.equal('The storage URL postgres://h/0 is not a redis:// or rediss:// URL.')
  })
})
