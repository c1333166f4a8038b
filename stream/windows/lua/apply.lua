-- Apply one micro-batch of updates to the windows of one shard, atomically.
-- KEYS[1] open index (zset: member -> deadline), KEYS[2] inflight index
-- (zset: member -> wall-clock ms when a claim or outbox must be recovered),
-- KEYS[3..] the window hashes, in the order of the windows in ARGV.
-- ARGV: now_ms, lease_ms, token_prefix, kind, then per window:
--   member, n_slots, deadline, n_updates, n_offsets, offsets..., updates...
--   offset: partition, highest input offset among the updates
--   meter update: slot, kwh, temperature ("" = none)   -- last value wins
--   ticket update: sale_id, slot, amount                 -- once per sale_id
-- The window keeps the highest offset it took per partition ('p<partition>'),
-- also as a tombstone: a partition is read in order, so updates at or below it
-- for a retired window are a redelivery (unchanged), not a late reading.
-- Returns per window {outcome, revision, alert_revision, alert_active, token}.
local now = tonumber(ARGV[1])
local lease_until = now + tonumber(ARGV[2])
local token_prefix = ARGV[3]
local is_meter = ARGV[4] == 'meter'
local results = {}
local a = 5
local w = 0
while a <= #ARGV do
  w = w + 1
  local key = KEYS[2 + w]
  local member, n_slots, deadline, n_updates = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local offsets, n_offsets = a + 5, tonumber(ARGV[a + 4])
  a = offsets + 2 * n_offsets
  local state = redis.call('HGET', key, 'st')
  if state == 'x' then
    local taken = n_offsets > 0
    for o = offsets, a - 1, 2 do
      local before = redis.call('HGET', key, 'p' .. ARGV[o])
      if not before or tonumber(ARGV[o + 1]) > tonumber(before) then taken = false end
    end
    results[w] = {taken and 'unchanged' or 'late', -1, -1, 0, ''}
    a = a + 3 * n_updates
  else
    if not state then
      redis.call('HSET', key, 'st', 'o', 'n', n_slots, 'c', 0, 'rev', -1, 'arev', -1, 'act', 0)
      redis.call('ZADD', KEYS[1], 'NX', deadline, member)
      state = 'o'
    end
    for o = offsets, a - 1, 2 do
      local field = 'p' .. ARGV[o]
      local before = redis.call('HGET', key, field)
      if not before or tonumber(ARGV[o + 1]) > tonumber(before) then
        redis.call('HSET', key, field, ARGV[o + 1])
      end
    end
    local changed = false
    local added = 0
    for _ = 1, n_updates do
      if is_meter then
        local field = 's' .. ARGV[a]
        local old = redis.call('HGET', key, field)
        if old ~= ARGV[a + 1] then
          if not old then added = added + 1 end
          redis.call('HSET', key, field, ARGV[a + 1])
          changed = true
        end
        local tfield = 't' .. ARGV[a]
        if ARGV[a + 2] ~= '' then
          if redis.call('HGET', key, tfield) ~= ARGV[a + 2] then
            redis.call('HSET', key, tfield, ARGV[a + 2])
            changed = true
          end
        end
      else
        -- a sale counts once: its id is remembered in the window's sales hash
        if redis.call('HSETNX', key .. ':sales', ARGV[a], ARGV[a + 2]) == 1 then
          local field = 's' .. ARGV[a + 1]
          if redis.call('HEXISTS', key, field) == 0 then added = added + 1 end
          redis.call('HINCRBYFLOAT', key, field, ARGV[a + 2])
          changed = true
        end
      end
      a = a + 3
    end
    if added > 0 then redis.call('HINCRBY', key, 'c', added) end
    local outcome = 'open'
    if not changed then
      outcome = 'unchanged'
    elseif state == 'c' then
      -- being scored elsewhere: that scorer re-claims after its commit
      redis.call('HSET', key, 'dirty', 1)
      outcome = 'busy'
    elseif state == 's' or (is_meter and tonumber(redis.call('HGET', key, 'c')) >= tonumber(redis.call('HGET', key, 'n'))) then
      outcome = 'claimed'
    end
    if outcome == 'claimed' then
      local token = token_prefix .. w
      redis.call('HSET', key, 'st', 'c', 'tok', token, 'lease', lease_until)
      redis.call('ZADD', KEYS[2], lease_until, member)
      redis.call('ZREM', KEYS[1], member)
      local h = redis.call('HMGET', key, 'rev', 'arev', 'act')
      results[w] = {outcome, tonumber(h[1]) + 1, tonumber(h[2]), tonumber(h[3]), token}
    else
      results[w] = {outcome, -1, -1, 0, ''}
    end
  end
end
return results
