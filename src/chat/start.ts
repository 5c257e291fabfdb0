import type {LoadedConfig} from '../config/index.js'
import {InvalidInputError, SynapseError} from '../core/errors.js'
import {createProvider} from '../providers/create.js'
import {modelFacts} from '../providers/model-facts.js'
import type {Provider} from '../providers/provider.js'
import type {ProviderRegistry} from '../providers/registry.js'
import {providerSettings} from '../providers/settings.js'
import {currentMessages} from '../store/exchanges.js'
import {MemorySessionStore} from '../store/memory-store.js'
import type {Message, Session, SessionPatch, SessionStore} from '../store/session-store.js'
import {newSessionRecord} from '../store/store-helpers.js'
import {Conversation, isStorageFailure} from './conversation.js'

export interface StartOptions {
  continueLatest?: boolean
  /** A new session is created in the store by its first turn, not now (the REPL, which may be left without one). */
  createLazily?: boolean
  model?: string
  provider?: string
  /** false: nothing is written; history of a continued session is read but not added to. */
  save: boolean
  sessionId?: string
  system?: string
  title?: string
}

export interface StartContext {
  config: LoadedConfig
  env?: NodeJS.ProcessEnv
  /** Why the store could not be opened, when it could not. */
  openError?: unknown
  /** When the store could not be opened for writing: opens it for reading only. */
  openReadOnly?: () => Promise<SessionStore>
  registry: ProviderRegistry
  store?: SessionStore
}

export interface Started {
  conversation: Conversation
  model: string
  /** The store could not be used: the conversation runs in memory and is not saved. */
  notSavedBecause?: unknown
}

/**
 * Sets up the conversation a chat command asked for. Everything that can fail without a request
 * (an unknown session, an unknown provider, a missing API key) fails here, before anything is written.
 */
export async function startConversation(context: StartContext, options: StartOptions): Promise<Started> {
  checkSessionOption(options)
  checkNameOptions(options)
  const resuming = Boolean(options.continueLatest || options.sessionId)
  const {store: realStore} = context
  // A database setting that is wrong (another program's file, a path synapse cannot expand) is not a
  // passing fault to talk around: nothing would ever be saved.
  if (context.openError instanceof SynapseError && context.openError.code === 'CONFIG_INVALID') throw context.openError
  // A continued session that cannot be written is still read, so that the request carries its
  // history; only a database that cannot even be read ends the command here.
  const reader = realStore ?? (resuming ? await openForReading(context) : undefined)
  let existing: Session | undefined
  let readHistory: Message[] | undefined
  try {
    existing = reader && resuming ? await findSession(reader, options) : undefined
    if (existing && reader !== realStore) readHistory = await reader!.messages(existing.id)
  } finally {
    if (reader !== realStore) await reader?.close()
  }

  const providerName = options.provider ?? existing?.provider ?? context.config.settings.provider.default
  const descriptor = context.registry.get(providerName, {typed: options.provider !== undefined})
  const provider: Provider = createProvider(descriptor, providerSettings(descriptor, context.config, context.env))
  const sameProvider = providerName === (existing?.provider ?? context.config.settings.provider.default)
  const model = options.model ?? (sameProvider ? (existing?.model ?? context.config.settings.provider.model) : undefined) ?? descriptor.defaultModel

  const fields = {
    model,
    provider: providerName,
    systemPrompt: options.system ?? existing?.systemPrompt ?? null,
    title: options.title ?? existing?.title ?? null,
  }
  const budget = {maxMessages: context.config.settings.session.maxContextMessages, maxTokens: context.config.settings.session.maxContextTokens}
  const facts = (name: string, provider: string, at: Date) => modelFacts(name, provider, context.config, {at})
  // A LoadedConfig an embedder builds by hand may predate the setting.
  const contextStrategy = context.config.settings.session.contextStrategy ?? 'truncate'

  let notSavedBecause = options.save ? context.openError : undefined
  if (options.save && realStore) {
    if (!existing && options.createLazily) {
      const session = newSessionRecord(fields, new Date())
      return {conversation: new Conversation({budget, contextStrategy, facts, persistent: true, provider, session, store: realStore, stored: false}), model}
    }

    try {
      const session = existing
        ? await updateIfChanged(realStore, existing, {
            model,
            provider: providerName,
            ...(options.system === undefined ? {} : {systemPrompt: options.system}),
            ...(options.title === undefined ? {} : {title: options.title}),
          })
        : await realStore.create(fields)
      return {conversation: new Conversation({budget, contextStrategy, facts, persistent: true, provider, session, store: realStore}), model}
    } catch (error) {
      // A database that cannot be written (locked past the timeout, read-only, full) must not cost
      // the user the reply: the turn runs in memory and the caller warns that it was not saved.
      if (!isStorageFailure(error)) throw error
      notSavedBecause = error
    }
  }

  // In memory: --no-save, or a store that could not be opened. A continued session is copied in,
  // so the request carries its history while nothing reaches the database.
  const memory = new MemorySessionStore()
  const session = await memory.create({...fields, id: existing?.id, metadata: existing?.metadata})
  if (existing) {
    const history = readHistory ?? (await realStore!.messages(existing.id))
    // Only what is still in the conversation: a replaced reply copied without its mark would be current again.
    await memory.append(
      session.id,
      currentMessages(history).map(({content, role, status}) => ({content, role, status})),
    )
  }
  return {
    conversation: new Conversation({budget, contextStrategy, facts, persistent: false, provider, session, store: memory}),
    model,
    ...(notSavedBecause === undefined ? {} : {notSavedBecause}),
  }
}

/** Opening a session as it is writes nothing, so its updatedAt (its place in lists, in -c, in retention) stays. */
async function updateIfChanged(store: SessionStore, session: Session, patch: SessionPatch): Promise<Session> {
  const changed = (Object.keys(patch) as Array<keyof SessionPatch>).some(key => patch[key] !== session[key])
  return changed ? store.update(session.id, patch) : session
}

/** The store, read-only, for a continued session whose database could not be opened for writing. */
async function openForReading(context: StartContext): Promise<SessionStore> {
  if (!context.openReadOnly) throw context.openError
  try {
    return await context.openReadOnly()
  } catch {
    // Why it could not be opened at all names the cause best (a read-only mount, a full disk, no
    // file to continue); the reader usually fails the same way, in vaguer words.
    throw context.openError
  }
}

/** An empty id (`-s ""`, `-s "$UNSET"`) would otherwise mean "no session" and start a new one. */
function checkSessionOption(options: {sessionId?: string}): void {
  if (options.sessionId !== undefined && options.sessionId.trim() === '') {
    throw new InvalidInputError('The session id is empty.', {
      suggestions: ['Give an id or a unique prefix ("synapse sessions list" shows them), or leave out -s to start a new session.'],
    })
  }
}

/**
 * An empty model or provider (`-m ""`, `-m "$UNSET"`) would otherwise be sent, and stored on the
 * session, as a name: a config file giving one is refused the same way.
 */
function checkNameOptions(options: {model?: string; provider?: string}): void {
  for (const [flag, value, what] of [
    ['-m', options.model, 'model'],
    ['-p', options.provider, 'provider'],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new InvalidInputError(`The ${what} name is empty.`, {
        suggestions: [`Give a ${what} name with ${flag} ("synapse models" lists them), or leave out ${flag} to use the session's or the configured one.`],
      })
    }
  }
}

/** The session -s names, or with -c the most recently updated one; a clear error when there is none. */
export async function findSession(store: SessionStore, options: {continueLatest?: boolean; sessionId?: string}): Promise<Session> {
  checkSessionOption(options)
  if (options.sessionId) return store.get(options.sessionId)
  const latest = await store.latest()
  if (!latest) {
    throw new SynapseError('SESSION_NOT_FOUND', 'There is no session to continue yet.', {suggestions: ['Start one with: synapse "Hello"']})
  }
  return latest
}
