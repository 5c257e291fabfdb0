// Loopback plumbing tests share: whether a server answers, a free port, a listening fake server.
import {createConnection, createServer, type Server, type Socket} from 'node:net'

/** Whether anything accepts a TCP connection at the URL's host and port (`defaultPort` when it names none). */
export async function answers(url: string, defaultPort = 5432): Promise<boolean> {
  const {hostname, port} = new URL(url)
  return new Promise(resolve => {
    const socket = createConnection({host: hostname || '127.0.0.1', port: Number(port || defaultPort)})
    socket.setTimeout(2000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/** Starts `server` on a free loopback port; resolves with the port. */
export function listen(server: Server): Promise<number> {
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve((server.address() as {port: number}).port)))
}

/**
 * Tries to connect with each of `timeoutsS` (seconds) at once, the longest first, to one loopback
 * server (on `port`) that accepts and never says a word. `gaveUp` holds what each attempt returned,
 * in the order they gave up. A client that honours the timeout it is given gives up shortest first,
 * while the others still wait; one that waits some default instead gives up in the order it started.
 */
export async function raceConnectTimeouts<T>(
  attempt: (port: number, timeoutS: number) => Promise<T>,
  timeoutsS = [2, 1],
): Promise<{gaveUp: Array<{result: T; timeoutS: number}>; port: number}> {
  const sockets = new Set<Socket>()
  const server = createServer(socket => sockets.add(socket))
  const port = await listen(server)
  try {
    const gaveUp: Array<{result: T; timeoutS: number}> = []
    const longestFirst = [...timeoutsS].sort((a, b) => b - a)
    await Promise.all(longestFirst.map(async timeoutS => gaveUp.push({result: await attempt(port, timeoutS), timeoutS})))
    return {gaveUp, port}
  } finally {
    for (const socket of sockets) socket.destroy()
    await new Promise(resolve => server.close(resolve))
  }
}
