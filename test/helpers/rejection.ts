import {SynapseError} from '../../src/core/errors.js'

/** The SynapseError `promise` rejects with; anything else, or no rejection, fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<SynapseError> {
  try {
    await promise
  } catch (error) {
    if (!(error instanceof SynapseError)) throw error
    return error
  }
  throw new Error('expected the promise to reject')
}
