import {createHash} from 'node:crypto'

/** The key names under the URL's prefix (see README: key layout), for the adapter and for the scripts alike. */
export const KEYS = {ids: 'session-ids', messages: 'messages:', owners: 'message-ids', session: 'session:', sessions: 'sessions'}

/**
 * The Lua scripts behind every write: Redis runs a script whole, with no other command in between,
 * which is what makes an append from one process and an append from another take different
 * positions. ARGV[1] is always the key prefix, from which every key is built; in a script about one
 * session, ARGV[2] is its id (`sid`).
 *
 * A message is stored as JSON whose head the adapter writes in a fixed form,
 * `{"position":N,"id":"<ULID>","status":"<status>"` followed by the other fields, so that a script
 * can assign the position and complete a question by splicing text: it never decodes and re-encodes
 * a record (Redis's cjson would turn an empty array in metadata into an object).
 */
const COMMON = `
local P, sid = ARGV[1], ARGV[2]
local SESSIONS, IDS, OWNERS = P .. '${KEYS.sessions}', P .. '${KEYS.ids}', P .. '${KEYS.owners}'
local function sessionKey(id) return P .. '${KEYS.session}' .. id end
local function messagesKey(id) return P .. '${KEYS.messages}' .. id end
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
local function dropSession(id)
  dropMessages(id)
  redis.call('DEL', sessionKey(id))
  redis.call('ZREM', SESSIONS, id)
  redis.call('ZREM', IDS, id)
end
local function exists(id) return redis.call('EXISTS', sessionKey(id)) == 1 end
-- The message's owner entry is "<session id>:<index in the list>"; nil unless it is in session sid.
local function indexIn(sid, messageId)
  local owner = redis.call('HGET', OWNERS, messageId)
  if not owner or string.sub(owner, 1, #sid + 1) ~= sid .. ':' then return nil end
  return tonumber(string.sub(owner, #sid + 2))
end
`

export interface Script {
  sha: string
  source: string
}

function script(body: string): Script {
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
 * ARGV: prefix, session id, updatedAt, id of the question it completes or '', how many messages it
 * hides, then two per hidden message: id, id of the message superseding it or ''; then two per
 * message: the record after `{"position":N,`, and its preview if it is a user message or ''.
 * → {'ok', first position} or {'missing', 'session' | 'message'}.
 *
 * A message is hidden by appending its two fields at the end of its record: JSON.parse keeps the
 * last of two equal keys, so the splice overrides the nulls the record was written with.
 */
export const appendMessages = script(`
if not exists(sid) then return {'missing', 'session'} end
local mkey, question = messagesKey(sid), nil
if ARGV[4] ~= '' then
  question = indexIn(sid, ARGV[4])
  if not question then return {'missing', 'message'} end
end
local hideCount = tonumber(ARGV[5])
local hidden = {}
for h = 0, hideCount - 1 do
  local index = indexIn(sid, ARGV[6 + 2 * h])
  if not index then return {'missing', 'message'} end
  hidden[#hidden + 1] = {index, ARGV[7 + 2 * h]}
end
local firstMessage = 6 + 2 * hideCount
local count = redis.call('LLEN', mkey)
local position = 0
if count > 0 then position = tonumber(string.match(redis.call('LINDEX', mkey, -1), '^{"position":(%d+),')) + 1 end
local first = position
if #ARGV < firstMessage and hideCount == 0 then return {'ok', first} end
if question then
  local old = redis.call('LINDEX', mkey, question)
  local _, open = string.find(old, '^{"position":%d+,"id":"[0-9A-Z]+","status":"')
  local close = string.find(old, '"', open + 1, true)
  redis.call('LSET', mkey, question, string.sub(old, 1, open) .. 'complete' .. string.sub(old, close))
end
for _, hide in ipairs(hidden) do
  local by = 'null'
  if hide[2] ~= '' then by = '"' .. hide[2] .. '"' end
  local old = redis.call('LINDEX', mkey, hide[1])
  redis.call('LSET', mkey, hide[1], string.sub(old, 1, -2) .. ',"hiddenAt":' .. ARGV[3] .. ',"supersededBy":' .. by .. '}')
end
local previewed = redis.call('HEXISTS', sessionKey(sid), 'previewId') == 1
for i = firstMessage, #ARGV, 2 do
  local record = '{"position":' .. position .. ',' .. ARGV[i]
  redis.call('RPUSH', mkey, record)
  redis.call('HSET', OWNERS, idOf(record), sid .. ':' .. count)
  if not previewed and ARGV[i + 1] ~= '' then
    redis.call('HSET', sessionKey(sid), 'preview', ARGV[i + 1], 'previewId', idOf(record))
    previewed = true
  end
  position, count = position + 1, count + 1
end
touch(sid, ARGV[3])
return {'ok', first}
`)

/**
 * ARGV: prefix, session id, message id → {'found', record}. With more: the record as read, the record
 * as changed, updatedAt and preview: writes only if the record is still as it was read → {'ok'} or
 * {'changed'} (read again). Either → {'missing', 'session' | 'message'}.
 */
export const updateMessage = script(`
if not exists(sid) then return {'missing', 'session'} end
local index = indexIn(sid, ARGV[3])
if not index then return {'missing', 'message'} end
local record = redis.call('LINDEX', messagesKey(sid), index)
if #ARGV == 3 then return {'found', record} end
if record ~= ARGV[4] then return {'changed'} end
redis.call('LSET', messagesKey(sid), index, ARGV[5])
if redis.call('HGET', sessionKey(sid), 'previewId') == ARGV[3] then redis.call('HSET', sessionKey(sid), 'preview', ARGV[7]) end
touch(sid, ARGV[6])
return {'ok'}
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
 * ARGV: prefix, '1' to replace or '0', then per session: id, updatedAt, field count, fields and
 * values, message count, records. → nil, or {'session' | 'message', id} for the first id found
 * taken (nothing written). Creating a session is restoring it empty.
 */
export const restoreSessions = script(`
local batch, replaced, i = {}, {}, 3
while i <= #ARGV do
  local entry = {id = ARGV[i], updatedAt = ARGV[i + 1], fields = i + 3, fieldCount = tonumber(ARGV[i + 2])}
  entry.first = entry.fields + entry.fieldCount + 1
  i = entry.first + tonumber(ARGV[entry.first - 1])
  entry.last = i - 1
  batch[#batch + 1] = entry
end
for _, entry in ipairs(batch) do
  if exists(entry.id) then
    if ARGV[2] ~= '1' then return {'session', entry.id} end
    replaced[entry.id] = true
  end
end
for _, entry in ipairs(batch) do
  for m = entry.first, entry.last do
    local owner = redis.call('HGET', OWNERS, idOf(ARGV[m]))
    if owner and not replaced[string.match(owner, '^[^:]+')] then return {'message', idOf(ARGV[m])} end
  end
end
for id in pairs(replaced) do dropSession(id) end
for _, entry in ipairs(batch) do
  redis.call('HSET', sessionKey(entry.id), unpack(ARGV, entry.fields, entry.first - 2))
  for m = entry.first, entry.last do
    redis.call('RPUSH', messagesKey(entry.id), ARGV[m])
    redis.call('HSET', OWNERS, idOf(ARGV[m]), entry.id .. ':' .. (m - entry.first))
  end
  redis.call('ZADD', IDS, 0, entry.id)
  touch(entry.id, entry.updatedAt)
end
return false
`)

/** ARGV: prefix → per session: id, its fields, its message count. */
export const summaries = script(`
local rows = {}
for _, id in ipairs(redis.call('ZRANGE', SESSIONS, 0, -1)) do rows[#rows + 1] = {id, redis.call('HGETALL', sessionKey(id)), redis.call('LLEN', messagesKey(id))} end
return rows
`)
