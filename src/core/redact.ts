/**
 * The one place a URL is made fit to print: every URL synapse shows (error messages, `config show`,
 * `config path`, `db status`, warnings, plugins' messages) goes through `redactUrl`.
 *
 * People paste passwords into URLs without percent-encoding them, so the WHATWG parser cannot be
 * trusted to find the password: `postgres://u:pa/ss@host/db` ends its authority at the `/`, and
 * `postgres://u:12/ss@host/db` even parses, with the password left in the path. The credentials are
 * therefore taken to end at the URL's last `@`. An `@` in a path or query makes that over-redact,
 * which is the safe way to be wrong.
 */

/** What replaces a secret unless the caller asks for another mask. */
export const REDACTED = '***'

// A query parameter whose name ends like this carries a secret (libpq's `password` and `sslpassword`,
// `api_key`, `access_token`, `client_secret`...); its value ends where libpq's parser ends it.
const SECRET_PARAMETER = /([?&;][^=&#;]*?(?:pass|passwd|password|pwd|secret|token|key))=[^&#;]*/gi
const WITH_AUTHORITY = /^([a-z][\d+.a-z-]*:\/\/)([\s\S]*)@([^@]*)$/i

/**
 * The URL with the password of its user info and the values of password-like query parameters
 * replaced by `mask`; the user name stays, so that a message still says who tried to connect.
 * A user info without a colon is a user name and stays too. Anything that is not a URL with an
 * authority (a path, `sqlite:rel.db`, `:memory:`) comes back unchanged.
 */
export function redactUrl(url: string, mask = REDACTED): string {
  // The user info first: a password may itself contain `?password=`-like text.
  return redactUserInfo(url, mask).replace(SECRET_PARAMETER, (_match, name: string) => `${name}=${mask}`)
}

function redactUserInfo(url: string, mask: string): string {
  const match = WITH_AUTHORITY.exec(url)
  if (!match) return url
  const [, scheme, userInfo, rest] = match
  // `scheme:///path`: an empty authority, so what precedes the `@` is a path, not credentials.
  if (userInfo.startsWith('/')) return url
  const colon = userInfo.indexOf(':')
  if (colon === -1) return url
  return `${scheme}${userInfo.slice(0, colon)}:${mask}@${rest}`
}

/** `text` with every occurrence of `secret` (a password a driver may echo in its messages) replaced by `mask`: a second line of defence behind `redactUrl`. */
export function scrubSecret(text: string, secret: string, mask = REDACTED): string {
  return secret ? text.split(secret).join(mask) : text
}
