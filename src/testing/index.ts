// What plugin authors import from "synapse-cli/testing": the conformance suites their adapters run,
// and the fake HTTP chat servers their providers run them against. They need mocha and chai as dev
// dependencies.
export {
  messageContents,
  ManualClock,
  OPTIONAL_CAPABILITIES,
  sessionStoreConformance,
  type ConformanceOptions,
  withoutCapabilities,
} from './session-store-suite.js'
export * from './provider-suite.js'
export {DEFAULT_REPLY, type FakeChatServer, HttpFakeChatServer, isRecord, pathOf, scriptedUsage, type SseFrames} from './fake-chat-server.js'
export {FakeOpenAIServer, type FakeOpenAIServerOptions, type ModelsBehaviour} from './openai-server.js'
