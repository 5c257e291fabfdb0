import {FakeOpenAIServer, type FakeOpenAIServerOptions} from '../fakes/openai-server.js'
import {makeSandbox, type Sandbox} from './sandbox.js'

/** What each test of an end-to-end suite gets afresh: a fake OpenAI server and a sandbox to run synapse in. */
export interface OpenAISandbox {
  sandbox: Sandbox
  server: FakeOpenAIServer
}

export interface OpenAISandboxOptions {
  /** OPENAI_API_KEY in the sandbox's environment; none when left out, for tests of where a key comes from. */
  apiKey?: string
  /**
   * Whether OPENAI_BASE_URL sends the sandbox's requests to the server (the default). Off, synapse
   * knows of no OpenAI-compatible server until a test names one.
   */
  pointAtServer?: boolean
  /** How the server starts: the models it lists. */
  server?: FakeOpenAIServerOptions
}

/**
 * Registers, in the calling describe block, the hooks that give each of its tests a fresh fake OpenAI
 * server and sandbox, handed to `receive` before the beforeEach hooks registered after this call and
 * those of nested blocks run. Both go after the afterEach hooks of nested blocks (a terminal in the
 * sandbox is gone first); the sandbox is removed even when closing the server fails, and that
 * failure still fails the test.
 */
export function useOpenAISandbox(options: OpenAISandboxOptions, receive: (made: OpenAISandbox) => void): void {
  let server: FakeOpenAIServer | undefined
  let sandbox: Sandbox | undefined

  beforeEach(async () => {
    server = await FakeOpenAIServer.start(options.server)
    sandbox = makeSandbox({
      ...(options.apiKey === undefined ? {} : {OPENAI_API_KEY: options.apiKey}),
      ...(options.pointAtServer === false ? {} : {OPENAI_BASE_URL: server.url}),
    })
    receive({sandbox, server})
  })

  // Mocha runs this even when the beforeEach above failed half-way: it undoes whatever was made.
  afterEach(async () => {
    const [closing, removing] = [server, sandbox]
    server = undefined
    sandbox = undefined
    try {
      await closing?.close()
    } finally {
      removing?.cleanup()
    }
  })
}
