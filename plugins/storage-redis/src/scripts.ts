import {createHash} from 'node:crypto'
import {PREVIEW_LENGTH} from 'synapse-cli'

/** The key names under the URL's prefix (see README: key layout), for the adapter and for the scripts alike. */
export const KEYS = {ids: 'session-ids', messages: 'messages:', owners: 'message-ids', session: 'session:', sessions: 'sessions'}

/**
 * The Lua scripts behind every write: Redis runs a script whole, with no other command in between,
 * which is what makes an append from one process and an append from another take different
 * positions. ARGV[1] is always the key prefix, from which every key is built; in a script about one
 * session, ARGV[2] is its id (`sid`).
 *
 * A message is stored as the record codec's `messageText`, starting `{"position":N,"id":"<ULID>",`:
 * a script reads the position and the id from that head and never decodes and re-encodes a record
 * (Redis's cjson would turn an empty array in metadata into an object). A change to a stored
 * message is the changed fields' `messageText` spliced onto the end of its record: JSON.parse keeps
 * the last of two equal keys.
 */
const COMMON = `
local P, sid = ARGV[1], ARGV[2]
local SESSIONS, IDS, OWNERS = P .. '${KEYS.sessions}', P .. '${KEYS.ids}', P .. '${KEYS.owners}'
local function sessionKey(id) return P .. '${KEYS.session}' .. id end
local function messagesKey(id) return P .. '${KEYS.messages}' .. id end
local function exists(id) return redis.call('EXISTS', sessionKey(id)) == 1 end
local function idOf(record) return string.match(record, '^{"position":%d+,"id":"([0-9A-Z]+)"') end
local function touch(id, at)
  redis.call('HSET', sessionKey(id), 'updatedAt', at)
  redis.call('ZADD', SESSIONS, at, id)
end
local function dropMessages(id)
  local records = redis.call('LRANGE', messagesKey(id), 0, -1)
  for _, record in ipairs(records) do redis.call('HDEL', OWNERS, idOf(record)) end
  redis.call('DEL', messagesKey(id))
  return #records
end
local function push(id, record)
  redis.call('RPUSH', messagesKey(id), record)
  redis.call('HSET', OWNERS, idOf(record), id)
end
local function dropSession(id)
  dropMessages(id)
  redis.call('DEL', sessionKey(id))
  redis.call('ZREM', SESSIONS, id)
  redis.call('ZREM', IDS, id)
end
-- The index of a message in session sid's list, searched from the end, where changes almost always are; nil when it is not there.
local function indexOf(messageId)
  local count = redis.call('LLEN', messagesKey(sid))
  for index = count - 1, 0, -1 do
    if idOf(redis.call('LINDEX', messagesKey(sid), index - count)) == messageId then return index end
  end
end
`

/**
 * The preview, worked out by the write that may move it and only then (a record is decoded only
 * here; the hot paths never decode one): the first question still in the conversation, its first
 * PREVIEW_LENGTH characters (code points, as SQL's substr counts them) as JSON, and its id.
 */
const PREVIEWS = `
-- cjson refuses the escape of a lone surrogate, which JSON.stringify writes for one: such a record is
-- read with U+FFFD in its place (what SQLite stores for one). An escape is one when an odd run of backslashes starts it.
local function decode(text)
  local ok, value = pcall(cjson.decode, text)
  if ok then return value end
  return cjson.decode((string.gsub(text, '(\\\\+)u[dD][89a-fA-F]%x%x', function(slashes)
    if #slashes % 2 == 1 then return string.sub(slashes, 2) .. '\\\\ufffd' end
  end)))
end
local function refreshPreview(id)
  for index = 0, redis.call('LLEN', messagesKey(id)) - 1 do
    local message = decode(redis.call('LINDEX', messagesKey(id), index))
    if message.role == 'user' and (message.hiddenAt or cjson.null) == cjson.null then
      local cut = string.match(message.content, '^' .. string.rep('[^\\128-\\191][\\128-\\191]*', ${PREVIEW_LENGTH}))
      return redis.call('HSET', sessionKey(id), 'preview', cjson.encode(cut or message.content), 'previewId', message.id)
    end
  end
  redis.call('HDEL', sessionKey(id), 'preview', 'previewId')
end
`

/** A script as EVALSHA names it and as EVAL sends it when the server has not seen it. */
function script(body: string): {sha: string; source: string} {
  const source = COMMON + body
  return {sha: createHash('sha1').update(source).digest('hex'), source}
}

/** ARGV: prefix, id, updatedAt or '', field, value, ... → the session's fields, or nil when it is missing. */
export const updateSession = script(`
if not exists(sid) then return false end
if #ARGV > 3 then redis.call('HSET', sessionKey(sid), unpack(ARGV, 4)) end
if ARGV[3] ~= '' then touch(sid, ARGV[3]) end
return redis.call('HGETALL', sessionKey(sid))
`)

/**
 * Every write to a session's messages: an append, a reply completing its question, hides, an update.
 * ARGV: prefix, session id, updatedAt; how many messages change, then per change its id and the
 * changed fields' text; then each new message's text without its position, which goes after the
 * opening brace. All changed messages are found before the first write. The preview is worked out
 * again when a change touches its question (an edit or an undo hides it) or a session without one
 * gets messages. → {'ok', first new position, each changed record...} or {'missing', 'session' |
 * 'message'}. Nothing to change or append writes nothing.
 */
export const writeMessages = script(`${PREVIEWS}
if not exists(sid) then return {'missing', 'session'} end
local mkey, changed, firstRecord = messagesKey(sid), {}, 5 + 2 * tonumber(ARGV[4])
for c = 5, firstRecord - 1, 2 do
  changed[c] = indexOf(ARGV[c])
  if not changed[c] then return {'missing', 'message'} end
end
local last = redis.call('LINDEX', mkey, -1)
local position = last and tonumber(string.match(last, '^{"position":(%d+),')) + 1 or 0
local result = {'ok', position}
if #ARGV < 5 then return result end
local previewId = redis.call('HGET', sessionKey(sid), 'previewId')
local stale = not previewId and #ARGV >= firstRecord
for c = 5, firstRecord - 1, 2 do
  local record = redis.call('LINDEX', mkey, changed[c])
  if ARGV[c + 1] ~= '{}' then record = string.sub(record, 1, -2) .. ',' .. string.sub(ARGV[c + 1], 2) end
  redis.call('LSET', mkey, changed[c], record)
  result[#result + 1] = record
  stale = stale or ARGV[c] == previewId
end
for i = firstRecord, #ARGV do push(sid, '{"position":' .. position + i - firstRecord .. ',' .. string.sub(ARGV[i], 2)) end
if stale then refreshPreview(sid) end
touch(sid, ARGV[3])
return result
`)

/** ARGV: prefix, session id, updatedAt → how many messages went, or nil when the session is missing. */
export const clearMessages = script(`
if not exists(sid) then return false end
local count = dropMessages(sid)
redis.call('HDEL', sessionKey(sid), 'preview', 'previewId')
touch(sid, ARGV[3])
return count
`)

/**
 * ARGV: prefix, then pairs of id and the updatedAt it must still have (or '' for no guard) → the ids
 * deleted. A guarded one must also still be unkept.
 */
export const deleteSessions = script(`
local gone = {}
for i = 2, #ARGV, 2 do
  local score = redis.call('ZSCORE', SESSIONS, ARGV[i])
  local due = ARGV[i + 1] == '' or (tonumber(score) == tonumber(ARGV[i + 1]) and redis.call('HGET', sessionKey(ARGV[i]), 'kept') ~= 'true')
  if score and due then
    dropSession(ARGV[i])
    gone[#gone + 1] = ARGV[i]
  end
end
return gone
`)

/**
 * ARGV: prefix, '1' to replace or '0', then one JSON object per session, every value a string:
 * {"id": …, "fields": [field, value, …] (updatedAt among them), "records": […]}. → nil, or
 * {'session' | 'message', id} for the first id found taken (nothing written). Creating a session is
 * restoring it empty.
 */
export const restoreSessions = script(`${PREVIEWS}
local batch, replaced = {}, {}
for i = 3, #ARGV do
  batch[#batch + 1] = cjson.decode(ARGV[i])
  if exists(batch[#batch].id) then
    if ARGV[2] ~= '1' then return {'session', batch[#batch].id} end
    replaced[batch[#batch].id] = true
  end
end
for _, entry in ipairs(batch) do
  for _, record in ipairs(entry.records) do
    -- Stores written before the index lost its positions hold "<session id>:<index>": the session is what comes before the colon.
    local owner = redis.call('HGET', OWNERS, idOf(record))
    if owner and not replaced[string.match(owner, '^[^:]+')] then return {'message', idOf(record)} end
  end
end
for id in pairs(replaced) do dropSession(id) end
for _, entry in ipairs(batch) do
  redis.call('HSET', sessionKey(entry.id), unpack(entry.fields))
  for _, record in ipairs(entry.records) do push(entry.id, record) end
  refreshPreview(entry.id)
  redis.call('ZADD', IDS, 0, entry.id)
  redis.call('ZADD', SESSIONS, redis.call('HGET', sessionKey(entry.id), 'updatedAt'), entry.id)
end
return false
`)

/** ARGV: prefix → per session: id, its fields, its message count. */
export const summaries = script(`
local rows = {}
for _, id in ipairs(redis.call('ZRANGE', SESSIONS, 0, -1)) do rows[#rows + 1] = {id, redis.call('HGETALL', sessionKey(id)), redis.call('LLEN', messagesKey(id))} end
return rows
`)
