#!/usr/bin/env node
// Node caches compiled code across runs from 22.1 on; start-up is most of a short command's time.
import module from 'node:module'

module.enableCompileCache?.()

const {Config, execute, flush, handle} = await import('@oclif/core')

// oclif has no default command: a first word that is neither a flag, a command nor a topic is a
// prompt, so `synapse Hello there` runs `synapse chat Hello there`.
let argv = process.argv.slice(2)
const first = argv[0]
if (first !== undefined && (!first.startsWith('-') || ['-c', '-s', '-r', '--continue', '--session', '--repl'].includes(first.split('=')[0]))) {
  const config = await Config.load({root: import.meta.dirname + '/..'})
  const isCommand = !first.startsWith('-') && (config.findCommand(first) || config.findTopic(first) || first === 'help')
  if (!isCommand && config.findCommand('chat')) argv = ['chat', ...argv]
  await execute({args: argv, dir: import.meta.url, loadOptions: config}).catch(async (error) => handle(error)).finally(() => flush())
} else {
  await execute({args: argv, dir: import.meta.url}).catch(async (error) => handle(error)).finally(() => flush())
}
