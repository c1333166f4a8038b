-- Commit verdicts of claimed windows, with their outboxes.
-- KEYS: the window hashes. Each window's other keys share its hash tag:
--   '<tag>w:<day>:<entity>' has its shard's inflight and retire indexes at
--   '<tag>inflight' and '<tag>retire', its entity's history at '<tag>h:<entity>'
--   and history temperatures at '<tag>ht:<entity>'.
-- ARGV: now_ms, lease_ms, token_prefix, history_days, keep_temperatures ('1' or
--   ''), then the commits, one string of little-endian structs per window:
--   'H' member length, the member; 'H' token length, the token;
--   'iiBd' revision, alert_revision, alert_active, retire_at;
--   'I' outbox length, the outbox; 'H' history value length, the value (48 float32)
-- Beside the history (day -> 48 float32 model values) a second hash keeps the
-- mean temperature of each day whose readings carried one, so the level model
-- can judge an earlier day under its own weather. A hash of its own: a worker
-- of an earlier release reads and trims the history as it always did.
-- A commit whose token no longer matches (the lease expired and another worker
-- re-claimed) is refused: only one verdict per revision is ever published.
-- Returns per window {status, token}: status 'ok' | 'lost' | 'reclaimed'
-- ('reclaimed': values changed while scoring; score again under the new token).
local now = tonumber(ARGV[1])
local lease_until = now + tonumber(ARGV[2])
local token_prefix = ARGV[3]
local keep = tonumber(ARGV[4])
local keep_temperatures = ARGV[5] == '1'
local batch = ARGV[6]
local results = {}
local pos = 1

-- a length-prefixed string of the batch
local function text(format)
  local length
  length, pos = struct.unpack(format, batch, pos)
  local value = string.sub(batch, pos, pos + length - 1)
  pos = pos + length
  return value
end

-- keep the latest `keep` days of a day-keyed hash
local function trim(hash, keep)
  if redis.call('HLEN', hash) > keep then
    local days = redis.call('HKEYS', hash)
    table.sort(days)
    for i = 1, #days - keep do redis.call('HDEL', hash, days[i]) end
  end
end

for w = 1, #KEYS do
  local key = KEYS[w]
  local member = text('<H')
  local token = text('<H')
  local revision, alert_revision, alert_active, retire_at
  revision, alert_revision, alert_active, retire_at, pos = struct.unpack('<iiBd', batch, pos)
  local outbox = text('<I')
  local history_value = text('<H')
  local tag = string.sub(key, 1, #key - #member - 2)
  local day, entity = string.sub(member, 1, 10), string.sub(member, 12)
  local h = redis.call('HMGET', key, 'st', 'tok', 'dirty', 'n', 'tv', 'v')
  if h[1] ~= 'c' or h[2] ~= token then
    results[w] = {'lost', ''}
  else
    redis.call('HSET', key, 'st', 's', 'rev', revision, 'arev', alert_revision, 'act', alert_active,
      'ob', outbox, 'obrev', revision)
    redis.call('HDEL', key, 'tok', 'lease', 'dirty')
    redis.call('ZADD', tag .. 'retire', retire_at, member)
    -- until Kafka acknowledges the outbox, the inflight index lets anyone re-publish it
    redis.call('ZADD', tag .. 'inflight', lease_until, member)
    local hist = tag .. 'h:' .. entity
    redis.call('HSET', hist, day, history_value)
    trim(hist, keep)
    local n = tonumber(h[4] or '0')
    local temps = h[5]
    if not temps and not h[6] then
      local _
      _, temps = legacy_slots(key, n)
    end
    if keep_temperatures and temps then
      local sum, count = 0, 0
      local slot_temps = unpacked(temps, n)
      for i = 1, n do
        local t = slot_temps[i]
        if t == t then sum, count = sum + t, count + 1 end
      end
      if count > 0 then
        local hist_t = tag .. 'ht:' .. entity
        redis.call('HSET', hist_t, day, string.format('%.17g', sum / count))
        trim(hist_t, keep)
      end
    end
    if h[3] then
      local new_token = token_prefix .. w
      redis.call('HSET', key, 'st', 'c', 'tok', new_token, 'lease', lease_until)
      results[w] = {'reclaimed', new_token}
    else
      results[w] = {'ok', ''}
    end
  end
end
return results
