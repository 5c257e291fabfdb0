import {createHash} from 'node:crypto'

/**
 * The Lua scripts behind every write: Redis runs a script whole, with no other command in between,
 * which is what makes an append from one process and an append from another take different
 * positions. ARGV[1] is always the key prefix; every key is built from it (see README: key layout).
 *
 * A message is stored as JSON whose head the adapter writes in a fixed form,
 * `{"position":N,"id":"<ULID>","status":"<status>"` followed by the other fields, so that a script
 * can assign the position and complete a question by splicing text: it never decodes and re-encodes
 * a record (Redis's cjson would turn an empty array in metadata into an object).
 */
const COMMON = `
local P = ARGV[1]
local SESSIONS, IDS, OWNERS = P .. 'sessions', P .. 'session-ids', P .. 'message-ids'
local function sessionKey(id) return P .. 'session:' .. id end
local function messagesKey(id) return P .. 'messages:' .. id end
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

/** ARGV: prefix, id, updatedAt, field, value, ... → 1, or 0 when the id is taken. */
export const insertSession = script(`
if redis.call('EXISTS', sessionKey(ARGV[2])) == 1 then return 0 end
redis.call('HSET', sessionKey(ARGV[2]), unpack(ARGV, 4))
redis.call('ZADD', IDS, 0, ARGV[2])
touch(ARGV[2], ARGV[3])
return 1
`)

/** ARGV: prefix, id, updatedAt or '', field, value, ... → the session's fields, or nil when it is missing. */
export const updateSession = script(`
if redis.call('EXISTS', sessionKey(ARGV[2])) == 0 then return false end
if #ARGV > 3 then redis.call('HSET', sessionKey(ARGV[2]), unpack(ARGV, 4)) end
if ARGV[3] ~= '' then touch(ARGV[2], ARGV[3]) end
return redis.call('HGETALL', sessionKey(ARGV[2]))
`)

/**
 * ARGV: prefix, session id, updatedAt, id of the question it completes or '', then four per message:
 * id, status, "u" + preview for a user message or "-", the JSON after the head.
 * → {'ok', first position} or {'missing', 'session' | 'message'}.
 */
export const appendMessages = script(`
local sid = ARGV[2]
local mkey = messagesKey(sid)
if redis.call('EXISTS', sessionKey(sid)) == 0 then return {'missing', 'session'} end
local question
if ARGV[4] ~= '' then
  question = indexIn(sid, ARGV[4])
  if not question then return {'missing', 'message'} end
end
local count = redis.call('LLEN', mkey)
local position = 0
if count > 0 then position = tonumber(string.match(redis.call('LINDEX', mkey, -1), '^{"position":(%d+),')) + 1 end
local first = position
if #ARGV < 5 then return {'ok', first} end
if question then
  local old = redis.call('LINDEX', mkey, question)
  local _, open = string.find(old, '^{"position":%d+,"id":"[0-9A-Z]+","status":"')
  local close = string.find(old, '"', open + 1, true)
  redis.call('LSET', mkey, question, string.sub(old, 1, open) .. 'complete' .. string.sub(old, close))
end
local previewed = redis.call('HEXISTS', sessionKey(sid), 'previewId') == 1
for i = 5, #ARGV, 4 do
  redis.call('RPUSH', mkey, '{"position":' .. position .. ',"id":"' .. ARGV[i] .. '","status":"' .. ARGV[i + 1] .. '"' .. ARGV[i + 3])
  redis.call('HSET', OWNERS, ARGV[i], sid .. ':' .. count)
  if not previewed and string.sub(ARGV[i + 2], 1, 1) == 'u' then
    redis.call('HSET', sessionKey(sid), 'preview', string.sub(ARGV[i + 2], 2), 'previewId', ARGV[i])
    previewed = true
  end
  position, count = position + 1, count + 1
end
touch(sid, ARGV[3])
return {'ok', first}
`)

/** ARGV: prefix, session id, message id → {'ok', index, record} or {'missing', 'session' | 'message'}. */
export const findMessage = script(`
if redis.call('EXISTS', sessionKey(ARGV[2])) == 0 then return {'missing', 'session'} end
local index = indexIn(ARGV[2], ARGV[3])
if not index then return {'missing', 'message'} end
return {'ok', index, redis.call('LINDEX', messagesKey(ARGV[2]), index)}
`)

/**
 * ARGV: prefix, session id, message id, index, record as read, record as changed, updatedAt, preview.
 * Writes only if the record is still as it was read → 'ok', 'changed' (read again) or 'missing'.
 */
export const replaceMessage = script(`
local sid = ARGV[2]
if redis.call('EXISTS', sessionKey(sid)) == 0 then return 'missing' end
if redis.call('LINDEX', messagesKey(sid), ARGV[4]) ~= ARGV[5] then return 'changed' end
redis.call('LSET', messagesKey(sid), ARGV[4], ARGV[6])
if redis.call('HGET', sessionKey(sid), 'previewId') == ARGV[3] then redis.call('HSET', sessionKey(sid), 'preview', ARGV[8]) end
touch(sid, ARGV[7])
return 'ok'
`)

/** ARGV: prefix, session id, updatedAt → how many messages went, or nil when the session is missing. */
export const clearMessages = script(`
if redis.call('EXISTS', sessionKey(ARGV[2])) == 0 then return false end
local count = dropMessages(ARGV[2])
redis.call('HDEL', sessionKey(ARGV[2]), 'preview', 'previewId')
touch(ARGV[2], ARGV[3])
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
 * values, message count, then id and record per message. → nil, or {'session' | 'message', id}
 * for the first id found taken (nothing written).
 */
export const restoreSessions = script(`
local batch, replaced, i = {}, {}, 3
while i <= #ARGV do
  local entry = {id = ARGV[i], updatedAt = ARGV[i + 1], fields = i + 3, fieldCount = tonumber(ARGV[i + 2])}
  i = entry.fields + entry.fieldCount
  entry.messages, entry.messageCount = i + 1, tonumber(ARGV[i])
  i = entry.messages + 2 * entry.messageCount
  batch[#batch + 1] = entry
end
for _, entry in ipairs(batch) do
  if redis.call('EXISTS', sessionKey(entry.id)) == 1 then
    if ARGV[2] ~= '1' then return {'session', entry.id} end
    replaced[entry.id] = true
  end
end
for _, entry in ipairs(batch) do
  for m = 0, entry.messageCount - 1 do
    local owner = redis.call('HGET', OWNERS, ARGV[entry.messages + 2 * m])
    if owner and not replaced[string.match(owner, '^[^:]+')] then return {'message', ARGV[entry.messages + 2 * m]} end
  end
end
for id in pairs(replaced) do dropSession(id) end
for _, entry in ipairs(batch) do
  redis.call('HSET', sessionKey(entry.id), unpack(ARGV, entry.fields, entry.fields + entry.fieldCount - 1))
  for m = 0, entry.messageCount - 1 do
    redis.call('RPUSH', messagesKey(entry.id), ARGV[entry.messages + 2 * m + 1])
    redis.call('HSET', OWNERS, ARGV[entry.messages + 2 * m], entry.id .. ':' .. m)
  end
  redis.call('ZADD', IDS, 0, entry.id)
  touch(entry.id, entry.updatedAt)
end
return false
`)

/**
 * ARGV: prefix, first and last rank (newest first, -1 for the end) → per session: id, its fields,
 * its message count, and the ids at most one before and one after it in byte order.
 */
export const summaries = script(`
local rows = {}
for _, id in ipairs(redis.call('ZREVRANGE', SESSIONS, ARGV[2], ARGV[3])) do
  local rank = redis.call('ZRANK', IDS, id)
  local around = redis.call('ZRANGE', IDS, math.max(rank - 1, 0), rank + 1)
  rows[#rows + 1] = {id, redis.call('HGETALL', sessionKey(id)), redis.call('LLEN', messagesKey(id)), around}
end
return rows
`)
