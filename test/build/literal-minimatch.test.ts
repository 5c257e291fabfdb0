import {expect} from 'chai'
import {createRequire} from 'node:module'

type Match = (path: string, pattern: string) => boolean
const require = createRequire(import.meta.url)
const {minimatch} = require('../../scripts/literal-minimatch.cjs') as {minimatch: Match}
// The copy @oclif/core's plugin loader would use.
const {minimatch: real} = createRequire(require.resolve('@oclif/core'))('minimatch') as {minimatch: Match}

describe("the plugin loader's minimatch (scripts/literal-minimatch.cjs)", () => {
  const names = [
    '@oclif/plugin-plugins',
    '@oclif/plugin-autocomplete',
    '@synapse-cli/storage-redis',
    'typeorm',
    'socket.io',
    'a',
    'a/b',
    '.hidden',
    '@scope/x.y',
  ]
  const patterns = [
    ...names,
    '@oclif/plugin-*',
    '@synapse-cli/*',
    '*',
    '!typeorm',
    '#typeorm',
    'type?rm',
    '{typeorm,a}',
    '+(a)',
    '@(a|b)',
    'a//b',
    'A',
    '@oclif/*-plugins',
  ]

  it('answers as minimatch does for package names and glob patterns alike', () => {
    for (const name of names) for (const pattern of patterns) expect(minimatch(name, pattern), `${name} ~ ${pattern}`).to.equal(real(name, pattern))
  })
})
