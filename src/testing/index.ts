// What plugin authors import from "synapse-cli/testing": the conformance suites their adapters run.
// They need mocha and chai as dev dependencies.
export {messageContents, ManualClock, OPTIONAL_CAPABILITIES, sessionStoreConformance, type ConformanceOptions, withoutCapabilities} from './session-store-suite.js'
export * from './provider-suite.js'
