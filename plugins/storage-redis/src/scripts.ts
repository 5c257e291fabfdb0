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
 * What a preview that moves needs: records decoded (only then; the hot paths never decode one), the
 * first question still in the conversation, and its preview as the adapter writes one.
 */
const PREVIEWS = `
local function isSet(value) return value ~= nil and value ~= cjson.null end
-- cjson refuses the escape of a lone surrogate, which JSON.stringify writes for one: such a record is
-- read with U+FFFD in its place (what SQLite stores for one). An escape is one when an odd run of backslashes starts it.
local function decode(text)
  local ok, value = pcall(cjson.decode, text)
  if ok then return value end
  return cjson.decode((string.gsub(text, '(\\\\+)u[dD][89a-fA-F]%x%x', function(slashes)
    if #slashes % 2 == 1 then return string.sub(slashes, 2) .. '\\\\ufffd' end
  end)))
end
local function firstQuestion()
  for _, record in ipairs(redis.call('LRANGE', messagesKey(sid), 0, -1)) do
    local message = decode(record)
    if message.role == 'user' and not isSet(message.hiddenAt) then return message end
  end
end
-- The first ${PREVIEW_LENGTH} UTF-16 units of UTF-8 text as JSON (the adapter's previewFields, JavaScript's
-- slice): a character outside the BMP counts two, and one cut in two leaves its high surrogate.
local function previewText(text)
  local i, units = 1, 0
  while i <= #text and units < ${PREVIEW_LENGTH} do
    local lead = string.byte(text, i)
    local width = lead < 0x80 and 1 or lead < 0xE0 and 2 or lead < 0xF0 and 3 or 4
    if width == 4 and units == ${PREVIEW_LENGTH} - 1 then
      local b2, b3, b4 = string.byte(text, i + 1, i + 3)
      local point = (lead % 8) * 262144 + (b2 % 64) * 4096 + (b3 % 64) * 64 + b4 % 64
      local head = cjson.encode(string.sub(text, 1, i - 1))
      return string.sub(head, 1, -2) .. string.format('\\\\u%04x"', 0xD800 + math.floor((point - 0x10000) / 1024))
    end
    units = units + (width == 4 and 2 or 1)
    i = i + width
  end
  return cjson.encode(string.sub(text, 1, i - 1))
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
 * ARGV: prefix, session id, updatedAt; a message id and preview ('' ''), which the session takes if
 * its preview is that message's (an update) or it has none and there are new messages (an append);
 * how many messages change, then per change its id and the changed fields' text; then each new
 * message's text without its position, which goes after the opening brace. All changed messages are
 * found before the first write. A change that hides the preview's question (an edit, an undo) moves
 * the preview to the first question still in the conversation, or removes it when there is none.
 * → {'ok', first new position, each changed record...} or {'missing', 'session' | 'message'}.
 * Nothing to change or append writes nothing.
 */
export const writeMessages = script(`${PREVIEWS}
if not exists(sid) then return {'missing', 'session'} end
local mkey, changed, firstRecord = messagesKey(sid), {}, 7 + 2 * tonumber(ARGV[6])
for c = 7, firstRecord - 1, 2 do
  changed[c] = indexOf(ARGV[c])
  if not changed[c] then return {'missing', 'message'} end
end
local last = redis.call('LINDEX', mkey, -1)
local position = last and tonumber(string.match(last, '^{"position":(%d+),')) + 1 or 0
local result = {'ok', position}
if firstRecord == 7 and #ARGV < 7 then return result end
for c = 7, firstRecord - 1, 2 do
  local record = redis.call('LINDEX', mkey, changed[c])
  if ARGV[c + 1] ~= '{}' then record = string.sub(record, 1, -2) .. ',' .. string.sub(ARGV[c + 1], 2) end
  redis.call('LSET', mkey, changed[c], record)
  result[#result + 1] = record
end
for i = firstRecord, #ARGV do push(sid, '{"position":' .. position + i - firstRecord .. ',' .. string.sub(ARGV[i], 2)) end
local previewId, previewHidden = redis.call('HGET', sessionKey(sid), 'previewId'), false
for c = 7, firstRecord - 1, 2 do
  if ARGV[c] == previewId and isSet(decode(ARGV[c + 1]).hiddenAt) then previewHidden = true end
end
if previewHidden then
  local question = firstQuestion()
  if question then
    redis.call('HSET', sessionKey(sid), 'preview', previewText(question.content), 'previewId', question.id)
  else
    redis.call('HDEL', sessionKey(sid), 'preview', 'previewId')
  end
elseif ARGV[4] ~= '' and (previewId == ARGV[4] or (not previewId and #ARGV >= firstRecord)) then
  redis.call('HSET', sessionKey(sid), 'preview', ARGV[5], 'previewId', ARGV[4])
end
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
export const restoreSessions = script(`
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
