-- Apply one micro-batch of updates to the windows of one shard, atomically.
-- KEYS[1] open index (zset: member -> deadline), KEYS[2] inflight index
-- (zset: member -> wall-clock ms when a claim or outbox must be recovered),
-- KEYS[3..] the window hashes, in the order of the windows in ARGV.
-- ARGV: now_ms, lease_ms, token_prefix, kind, then per window:
--   a header "member<US>n_slots<US>deadline<US>n_updates<US>offsets" (US = \31,
--     which no entity id may hold), offsets "partition,highest offset;" each
--   meter updates: ONE argument "slot,kwh,temperature;" per slot (temperature
--     "" = none), one entry per slot (the caller keeps the last value of each)
--   ticket updates: sale_id, slot, amount per sale      -- once per sale_id
-- Few arguments per window keep the call cheap to build and to parse.
-- A meter window's fields are read with one HMGET and written with one HSET:
-- a micro-batch touches a thousand windows, and each Redis call costs ~1 us.
-- The window keeps the highest offset it took per partition ('p<partition>'),
-- also as a tombstone: a partition is read in order, so updates at or below it
-- for a retired window are a redelivery (unchanged), not a late reading.
-- Returns per window its outcome ('open', 'unchanged', 'busy', 'late') or, when
-- claimed, {'claimed', revision, alert_revision, alert_active, token}.
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
  local member, n_slots, deadline, n_updates, packed_offsets =
    string.match(ARGV[a], '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31(.*)$')
  n_updates = tonumber(n_updates)
  a = a + 1
  -- one read: state, slot count, slots wanted, the partitions' offsets, the slots
  local names = {'st', 'c', 'n'}
  local taken_offsets = {}
  for partition, offset in string.gmatch(packed_offsets, '(%d+),(%d+);') do
    names[#names + 1] = 'p' .. partition
    taken_offsets[#taken_offsets + 1] = offset
  end
  local n_offsets = #taken_offsets
  local first_slot = #names + 1
  local kwhs, temps = {}, {}
  if is_meter then
    for slot, kwh, temp in string.gmatch(ARGV[a], '([^,;]+),([^,;]+),([^;]*);') do
      names[#names + 1] = 's' .. slot
      names[#names + 1] = 't' .. slot
      kwhs[#kwhs + 1] = kwh
      temps[#temps + 1] = temp
    end
    a = a + 1
  end
  local old = redis.call('HMGET', key, unpack(names))
  local state = old[1]
  if state == 'x' then
    local taken = n_offsets > 0
    for i = 1, n_offsets do
      local before = old[3 + i]
      if not before or tonumber(taken_offsets[i]) > tonumber(before) then taken = false end
    end
    results[w] = taken and 'unchanged' or 'late'
    if not is_meter then a = a + 3 * n_updates end
  else
    local sets = {}
    local count, wanted = tonumber(old[2] or '0'), tonumber(old[3] or n_slots)
    if not state then
      for _, v in ipairs({'st', 'o', 'n', n_slots, 'rev', -1, 'arev', -1, 'act', 0}) do
        sets[#sets + 1] = v
      end
      redis.call('ZADD', KEYS[1], 'NX', deadline, member)
      state = 'o'
    end
    for i = 1, n_offsets do
      local taken, before = taken_offsets[i], old[3 + i]
      if not before or tonumber(taken) > tonumber(before) then
        sets[#sets + 1] = names[3 + i]
        sets[#sets + 1] = taken
      end
    end
    local changed = false
    local added = 0
    if is_meter then
      for i = 1, #kwhs do
        local s_at = first_slot + 2 * (i - 1)
        if old[s_at] ~= kwhs[i] then
          if not old[s_at] then added = added + 1 end
          sets[#sets + 1] = names[s_at]
          sets[#sets + 1] = kwhs[i]
          changed = true
        end
        if temps[i] ~= '' and old[s_at + 1] ~= temps[i] then
          sets[#sets + 1] = names[s_at + 1]
          sets[#sets + 1] = temps[i]
          changed = true
        end
      end
    else
      for _ = 1, n_updates do
        -- a sale counts once: its id is remembered in the window's sales hash
        if redis.call('HSETNX', key .. ':sales', ARGV[a], ARGV[a + 2]) == 1 then
          local field = 's' .. ARGV[a + 1]
          if redis.call('HEXISTS', key, field) == 0 then added = added + 1 end
          redis.call('HINCRBYFLOAT', key, field, ARGV[a + 2])
          changed = true
        end
        a = a + 3
      end
    end
    count = count + added
    sets[#sets + 1] = 'c'
    sets[#sets + 1] = count
    redis.call('HSET', key, unpack(sets))
    local outcome = 'open'
    if not changed then
      outcome = 'unchanged'
    elseif state == 'c' then
      -- being scored elsewhere: that scorer re-claims after its commit
      redis.call('HSET', key, 'dirty', 1)
      outcome = 'busy'
    elseif state == 's' or (is_meter and count >= wanted) then
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
      results[w] = outcome
    end
  end
end
return results
