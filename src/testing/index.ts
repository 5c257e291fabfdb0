// What plugin authors import from "synapse-cli/testing": the conformance suites their adapters run,
// the fake HTTP chat servers their providers run them against, a sandboxed HOME and XDG tree, the
// built CLI run in it as a user runs it, and loopback plumbing. They need mocha and chai as dev
// dependencies (and tsx for `runWorker`). synapse's own tests use the same modules.
export {
  messageContents,
  messageRecord,
  ManualClock,
  OPTIONAL_CAPABILITIES,
  sessionRecord,
  sessionStoreConformance,
  type ConformanceOptions,
  withoutCapabilities,
} from './session-store-suite.js'
export * from './provider-suite.js'
export {appendTurns, appendTurnsWorker, type ConcurrentAppendsOptions, concurrentAppendsTest} from './concurrent-appends.js'
export {type RecordingExecutor, recordingExecutor, storeRetriedExchanges} from './search-plans.js'
export {DEFAULT_REPLY, type FakeChatServer, HttpFakeChatServer, isRecord, pathOf, scriptedUsage, type SseFrames} from './fake-chat-server.js'
export {FakeOpenAIServer, type FakeOpenAIServerOptions, type ModelsBehaviour} from './openai-server.js'
export {answers, freePort, listen, raceConnectTimeouts} from './network.js'
export {enterSandbox, makeSandbox, type Sandbox, writeUserConfig} from './sandbox.js'
export {
  DENO,
  type Exit,
  finished,
  PROJECT_ROOT,
  RUN_JS,
  type Runtime,
  runWorker,
  type SpawnOptions,
  SynapseProcess,
  shellQuote,
  startWorker,
  synapse,
  synapseCommandLine,
  testRuntime,
} from './synapse-process.js'
