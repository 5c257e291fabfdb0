import {randomBytes, timingSafeEqual} from 'node:crypto'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'

import {SynapseError} from '../core/errors.js'
import type {SessionStore} from '../store/session-store.js'
import {ApiError, deleteSession, exportSession, parseListQuery, patchSession, searchPage, sessionPage, sessionView, usagePage} from './api.js'
import {TOKEN_HEADER, TOKEN_META, type UiError} from './api-types.js'

/** The one address the server listens on and the one Host it answers to. */
export const LOOPBACK = '127.0.0.1'
const MAX_BODY_BYTES = 64 * 1024

/** The page's script and stylesheet, bundled at build time (scripts/build.mjs). */
export interface UiAssets {
  script: string
  stylesheet: string
}

export interface UiServerOptions {
  assets: UiAssets
  /** Unexpected failures (a bug, a broken store) for the terminal; the page gets a 500 without details. */
  onError?: (error: unknown) => void
  /** 0 (the default) takes a free port. */
  port?: number
  store: SessionStore
}

export interface UiServer {
  close(): Promise<void>
  /** `http://127.0.0.1:PORT`: the only origin whose requests change anything. */
  origin: string
  port: number
  token: string
  /** What to open: the origin with the token, which the first request trades for a cookie. */
  url: string
}

/**
 * Every response carries these. The page is one script and one stylesheet of this origin: nothing
 * inline runs, nothing of another origin loads (a Markdown image or a script in a message included),
 * and no other page can frame it.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
}

type Handler = (request: Request) => Promise<Reply>

interface Request {
  body: () => Promise<unknown>
  params: string[]
  url: URL
}

interface Reply {
  body: string
  headers?: Record<string, string>
  status?: number
  type: string
}

/**
 * The server of `synapse ui`: the page and its JSON API over one SessionStore, so it works on every
 * backend. It listens on 127.0.0.1 only. Every request must name that address and port as its Host
 * (a DNS name rebound to 127.0.0.1 is refused) and carry the token: in the URL once, which sets an
 * HttpOnly, SameSite=Strict cookie and redirects to the clean URL, then in that cookie. A request
 * that changes anything must also be a POST, PATCH or DELETE with the token in a header, which no
 * other origin's form, link or script can send.
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = randomBytes(32).toString('hex')
  const state: {port: number} = {port: 0}
  const server = createServer((request, response) => {
    handle(request, response).catch(error => {
      options.onError?.(error)
      if (!response.headersSent)
        send(response, {body: errorJson('INTERNAL', 'Something went wrong; the terminal running synapse ui says what.'), status: 500, type: JSON_TYPE})
      else response.destroy()
    })
  })
  const routes = routeTable(options)

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const origin = `http://${LOOPBACK}:${state.port}`
    if (request.headers.host !== `${LOOPBACK}:${state.port}`) {
      return send(response, {body: `This server answers only to ${origin}.\n`, status: 403, type: TEXT_TYPE})
    }
    const url = new URL(request.url ?? '/', origin)
    const cookieName = `synapse_ui_${state.port}`
    const offered = url.searchParams.get('token')
    if (offered !== null && (request.method === 'GET' || request.method === 'HEAD')) {
      if (!sameSecret(offered, token)) return send(response, unauthorized())
      url.searchParams.delete('token')
      return send(response, {
        body: '',
        headers: {Location: `${url.pathname}${url.search}`, 'Set-Cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`},
        status: 303,
        type: TEXT_TYPE,
      })
    }
    if (!sameSecret(cookie(request, cookieName), token)) return send(response, unauthorized())

    const route = routes.find(r => r.pattern.test(url.pathname))
    if (!route) return send(response, {body: errorJson('NOT_FOUND', 'There is nothing here.'), status: 404, type: JSON_TYPE})
    const method = request.method === 'HEAD' ? 'GET' : (request.method ?? '')
    const handler = route.methods[method]
    if (!handler) {
      const allow = Object.keys(route.methods).join(', ')
      return send(response, {body: errorJson('METHOD_NOT_ALLOWED', `Use ${allow}.`), headers: {Allow: allow}, status: 405, type: JSON_TYPE})
    }
    if (method !== 'GET') {
      const refusal = refuseForgery(request, token, origin)
      if (refusal) return send(response, {body: errorJson('FORBIDDEN', refusal), status: 403, type: JSON_TYPE})
    }
    const params = route.pattern.exec(url.pathname)!.slice(1)
    try {
      send(response, await handler({body: () => readJson(request), params, url}))
    } catch (error) {
      const known = describeFailure(error)
      if (!known) throw error
      send(response, {body: errorJson(known.code, known.message), status: known.status, type: JSON_TYPE})
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({exclusive: true, host: LOOPBACK, port: options.port ?? 0}, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch(error => {
    throw listenFailure(error, options.port)
  })
  state.port = (server.address() as {port: number}).port
  const origin = `http://${LOOPBACK}:${state.port}`
  return {
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
    origin,
    port: state.port,
    token,
    url: `${origin}/?token=${token}`,
  }

  function page(): Reply {
    return {body: pageHtml(token), type: 'text/html; charset=utf-8'}
  }

  function routeTable({assets, store}: UiServerOptions): Array<{methods: Record<string, Handler>; pattern: RegExp}> {
    const json = (value: unknown): Reply => ({body: `${JSON.stringify(value)}\n`, type: JSON_TYPE})
    return [
      {methods: {GET: async () => page()}, pattern: /^\/$/},
      {methods: {GET: async () => ({body: assets.script, type: 'text/javascript; charset=utf-8'})}, pattern: /^\/assets\/app\.js$/},
      {methods: {GET: async () => ({body: assets.stylesheet, type: 'text/css; charset=utf-8'})}, pattern: /^\/assets\/app\.css$/},
      {methods: {GET: async ({url}) => json(await sessionPage(store, parseListQuery(url.searchParams)))}, pattern: /^\/api\/sessions$/},
      {methods: {GET: async ({url}) => json(await searchPage(store, url.searchParams))}, pattern: /^\/api\/search$/},
      {methods: {GET: async ({url}) => json(await usagePage(store, url.searchParams))}, pattern: /^\/api\/usage$/},
      {
        methods: {
          DELETE: async ({params}) => json(await deleteSession(store, params[0])),
          GET: async ({params}) => json(await sessionView(store, params[0])),
          PATCH: async ({body, params}) => json(await patchSession(store, params[0], await body())),
        },
        pattern: /^\/api\/sessions\/([^/]+)$/,
      },
      {
        methods: {
          GET: async ({params, url}) => {
            const download = await exportSession(store, params[0], url.searchParams.get('format'))
            return {body: download.body, headers: {'Content-Disposition': `attachment; filename="${download.filename}"`}, type: download.contentType}
          },
        },
        pattern: /^\/api\/sessions\/([^/]+)\/export$/,
      },
    ]
  }
}

const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'

/** The page: its token for the header of state-changing requests, its script and stylesheet; nothing inline. */
function pageHtml(token: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Hex digits only: nothing to escape.
    `<meta name="${TOKEN_META}" content="${token}">`,
    '<title>synapse</title>',
    '<link rel="stylesheet" href="/assets/app.css">',
    '<script type="module" src="/assets/app.js"></script>',
    '</head>',
    '<body><div id="app"></div></body>',
    '</html>',
    '',
  ].join('\n')
}

function send(response: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body)
  response.writeHead(reply.status ?? 200, {...SECURITY_HEADERS, 'Content-Length': String(body.length), 'Content-Type': reply.type, ...reply.headers})
  response.end(body)
}

function unauthorized(): Reply {
  return {body: 'Open the address that "synapse ui" printed: it carries the token this server asks for.\n', status: 401, type: TEXT_TYPE}
}

function errorJson(code: string, message: string): string {
  return `${JSON.stringify({error: {code, message}} satisfies UiError)}\n`
}

/**
 * Why a state-changing request may not be what the page asked for: the token header is missing or
 * wrong (a form or a link of another origin cannot set it), or the browser says another origin sent it.
 */
function refuseForgery(request: IncomingMessage, token: string, origin: string): string | undefined {
  const header = request.headers[TOKEN_HEADER]
  if (typeof header !== 'string' || !sameSecret(header, token)) return `A request that changes anything needs the token in the ${TOKEN_HEADER} header.`
  const from = request.headers.origin
  if (from !== undefined && from !== origin) return `Requests from ${from} are refused.`
  return undefined
}

/** Compares in constant time, so that the answer's timing tells nothing about the token. */
function sameSecret(offered: string | undefined, token: string): boolean {
  if (offered === undefined) return false
  const a = Buffer.from(offered)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=')
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim()
  }
  return undefined
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) throw new ApiError(415, 'INVALID_INPUT', 'Send the body as application/json.')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'INVALID_INPUT', `A request body has at most ${MAX_BODY_BYTES} bytes.`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError(400, 'INVALID_INPUT', 'The body is not JSON.')
  }
}

/** The status and words for a failure the page can show; undefined for a bug. */
function describeFailure(error: unknown): undefined | {code: string; message: string; status: number} {
  if (error instanceof ApiError) return {code: error.code, message: error.message, status: error.status}
  if (!(error instanceof SynapseError)) return undefined
  const status = {INVALID_INPUT: 400, SESSION_NOT_FOUND: 404, STORAGE_BUSY: 503, STORAGE_UNAVAILABLE: 503}[error.code as string]
  return status === undefined ? undefined : {code: error.code, message: error.message, status}
}

function listenFailure(error: NodeJS.ErrnoException, port: number | undefined): Error {
  if (error.code === 'EADDRINUSE') {
    return new SynapseError('INVALID_INPUT', `Port ${port} of ${LOOPBACK} is in use.`, {suggestions: ['Leave out --port to take a free one, or name another.']})
  }
  if (error.code === 'EACCES') {
    return new SynapseError('INVALID_INPUT', `Port ${port} of ${LOOPBACK} is not yours to listen on.`, {
      suggestions: ['Name a port above 1023, or leave out --port.'],
    })
  }
  return error
}
