#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly, for development: `./bin/dev.js sessions list`. package.json
// points oclif at the bundle in dist/cli; here oclif is pointed at the layout tsc writes, which it
// maps back to src/ under a TypeScript loader.
import {execute} from '@oclif/core'
import {readFileSync} from 'node:fs'

const root = new URL('..', import.meta.url)
const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
pjson.oclif.commands = './dist/commands'
pjson.oclif.hooks = Object.fromEntries(Object.entries(pjson.oclif.hooks).map(([event, path]) => [event, path.replace('/dist/cli/', '/dist/')]))
await execute({development: true, dir: import.meta.url, loadOptions: {ignoreManifest: true, pjson, root: root.pathname}})
