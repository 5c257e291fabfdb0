import {spawn} from 'node:child_process'

/**
 * Opens `url` in the user's browser, where there is one to open: the desktop's opener on macOS and
 * Windows, xdg-open on a Linux or BSD desktop (a display to show it on). Reports whether it tried;
 * a missing or failing opener is no error, since the URL is printed anyway.
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const command = opener(env)
  if (!command) return false
  try {
    const child = spawn(command[0], [...command.slice(1), url], {detached: true, stdio: 'ignore'})
    child.on('error', () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}

function opener(env: NodeJS.ProcessEnv): string[] | undefined {
  if (process.platform === 'darwin') return ['open']
  // `start`'s first quoted argument is a window title; an empty one keeps the URL from being taken for it.
  if (process.platform === 'win32') return ['cmd', '/c', 'start', '""']
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return ['xdg-open']
  return undefined
}
