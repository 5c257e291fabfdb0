import {expect} from 'chai'

import {redactUrl} from '../../src/core/redact.js'
import {displayUrl} from '../../src/providers/support.js'

// Each password holds one class of character that people paste unencoded into a URL.
const PASSWORDS: Array<[string, string]> = [
  ['letters and digits', 'hunter2'],
  ['a slash', 'pa/ss'],
  ['digits then a slash (parses as host:port/path)', '12/ss'],
  ['an at sign', 'pa@ss'],
  ['a colon', 'pa:ss'],
  ['a hash', 'pa#ss'],
  ['a question mark', 'pa?ss'],
  ['a query-like tail', 'pa?password=x&y'],
  ['a percent sign, not an escape', 'pa%zz'],
  ['a percent escape', 'pa%2Fss'],
  ['a space', 'pa ss'],
  ['unicode', 'pässwörd🔑'],
  ['every reserved character at once', `/?#[]@!$&'()*+,;=: %`],
  ['a backslash and quotes', `pa\\ss"'`],
  ['a newline', 'pa\nss'],
]

const SCHEMES = ['postgres', 'postgresql', 'mysql', 'redis', 'https', 'file', 'x-custom+tls']

describe('redactUrl', () => {
  for (const [what, password] of PASSWORDS) {
    for (const scheme of SCHEMES) {
      it(`hides a ${scheme} password with ${what}`, () => {
        const url = `${scheme}://ada:${password}@db.example.com:5432/team?sslmode=require`
        expect(redactUrl(url)).to.equal(`${scheme}://ada:***@db.example.com:5432/team?sslmode=require`)
      })
    }

    it(`hides a password with ${what} when the user name is empty`, () => {
      expect(redactUrl(`redis://:${password}@127.0.0.1:6379/0`)).to.equal('redis://:***@127.0.0.1:6379/0')
    })

    it(`hides a password with ${what} before a host without a path`, () => {
      expect(redactUrl(`postgres://postgres:${password}@127.0.0.1`)).to.equal('postgres://postgres:***@127.0.0.1')
    })
  }

  it('hides the password of the URL in the issue', () => {
    expect(redactUrl('postgres://postgres:pa/ss@127.0.0.1:1/x')).to.equal('postgres://postgres:***@127.0.0.1:1/x')
  })

  it('uses the mask it is given', () => {
    expect(redactUrl('postgres://ada:pa/ss@h/db', '********')).to.equal('postgres://ada:********@h/db')
  })

  for (const name of ['password', 'PASSWORD', 'sslpassword', 'pwd', 'pass', 'api_key', 'apikey', 'access_token', 'token', 'client_secret']) {
    it(`hides the ?${name}= query parameter wherever it stands`, () => {
      expect(redactUrl(`postgres://h/db?${name}=s3cr/t@x`)).to.equal(`postgres://h/db?${name}=***`)
      expect(redactUrl(`postgres://h/db?sslmode=require&${name}=s3cret&x=1`)).to.equal(`postgres://h/db?sslmode=require&${name}=***&x=1`)
      expect(redactUrl(`postgres://ada:pw@h/db?${name}=s3cret#frag`)).to.equal(`postgres://ada:***@h/db?${name}=***#frag`)
    })
  }

  for (const unchanged of [
    'postgres://postgres@127.0.0.1:5432/test',
    'postgres://127.0.0.1:5432/test?sslmode=require&application_name=synapse',
    'postgres:///test?host=/var/run/postgresql',
    'file:///home/ada@work/sessions',
    'file:relative/dir',
    'sqlite:///abs/path.db',
    'sqlite:rel.db',
    ':memory:',
    '/home/ada/.config/synapse/sessions.db',
    'C:\\Users\\ada\\sessions.db',
    'http://127.0.0.1:11434/v1',
    'https://user@example.com/v1',
    '',
  ]) {
    it(`leaves ${JSON.stringify(unchanged)} as it is`, () => {
      expect(redactUrl(unchanged)).to.equal(unchanged)
    })
  }

  it('over-redacts rather than leak when an @ follows in the path', () => {
    // The credentials cannot be told from an @ later on, so everything up to the last @ is hidden.
    const redacted = redactUrl('postgres://ada:12/ss@h/db?application_name=a@b')
    expect(redacted).not.to.contain('12/ss')
    expect(redacted).to.equal('postgres://ada:***@b')
  })
})

describe('displayUrl', () => {
  for (const [what, password] of PASSWORDS) {
    it(`shows a base URL without its password (${what}) and without a trailing slash`, () => {
      expect(displayUrl(`http://ada:${password}@127.0.0.1:8080/v1/`)).to.equal('http://ada:***@127.0.0.1:8080/v1')
    })
  }
})
