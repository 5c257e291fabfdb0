// Loopback plumbing tests share: whether a server answers, a free port, a listening fake server.
import {createConnection, createServer, type Server} from 'node:net'

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
