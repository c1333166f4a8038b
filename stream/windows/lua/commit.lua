-- Commit verdicts of claimed windows, with their outboxes.
-- KEYS: per window: the window hash, its shard's inflight and retire indexes,
--   its entity's history hash and history temperatures hash.
-- ARGV: now_ms, lease_ms, token_prefix, history_days, keep_temperatures ('1' or
--   ''), then per window: member, day, token, revision, alert_revision,
--   alert_active, retire_at, outbox, history_value
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
local results = {}
local a = 6

-- keep the latest `keep` days of a day-keyed hash
local function trim(hash, keep)
  if redis.call('HLEN', hash) > keep then
    local days = redis.call('HKEYS', hash)
    table.sort(days)
    for i = 1, #days - keep do redis.call('HDEL', hash, days[i]) end
  end
end

local w = 0
while a <= #ARGV do
  w = w + 1
  local key, inflight_index, retire_index = KEYS[5 * w - 4], KEYS[5 * w - 3], KEYS[5 * w - 2]
  local hist, hist_t = KEYS[5 * w - 1], KEYS[5 * w]
  local member, day, token = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local h = redis.call('HMGET', key, 'st', 'tok', 'dirty', 'n', 'tv', 'v')
  if h[1] ~= 'c' or h[2] ~= token then
    results[w] = {'lost', ''}
  else
    redis.call('HSET', key, 'st', 's', 'rev', ARGV[a + 3], 'arev', ARGV[a + 4], 'act', ARGV[a + 5],
      'ob', ARGV[a + 7], 'obrev', ARGV[a + 3])
    redis.call('HDEL', key, 'tok', 'lease', 'dirty')
    redis.call('ZADD', retire_index, ARGV[a + 6], member)
    -- until Kafka acknowledges the outbox, the inflight index lets anyone re-publish it
    redis.call('ZADD', inflight_index, lease_until, member)
    redis.call('HSET', hist, day, ARGV[a + 8])
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
  a = a + 9
end
return results
