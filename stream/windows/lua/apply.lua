-- Apply one micro-batch of updates to windows, atomically.
-- KEYS: per window, in the order of the windows in ARGV: the window hash, its
-- shard's open index (zset: member -> deadline) and inflight index (zset:
-- member -> wall-clock ms when a claim or outbox must be recovered).
-- ARGV: now_ms, lease_ms, token_prefix, kind, then per window:
--   a header "member<US>n_slots<US>deadline<US>n_updates<US>offsets" (US = \31,
--     which no entity id may hold), offsets "partition,highest offset;" each
--   meter updates: ONE argument of 17 bytes per slot, struct '<Bdd': the real
--     slot, its kWh and its temperature (NaN = none given), one entry per slot
--     (the caller keeps the last value of each)
--   ticket updates: sale_id, slot, amount per sale      -- once per sale_id
-- Few arguments per window keep the call cheap to build and to parse; the
-- window's fields are read with one HMGET and written with one HSET (the
-- slots packed, see _slots.lua): a micro-batch touches a thousand windows.
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
  local key, open_index, inflight_index = KEYS[3 * w - 2], KEYS[3 * w - 1], KEYS[3 * w]
  local member, n_slots, deadline, n_updates, packed_offsets =
    string.match(ARGV[a], '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31(.*)$')
  n_updates = tonumber(n_updates)
  a = a + 1
  -- one read: state, slot count, slots wanted, the packed slots, revisions, offsets
  local names = {'st', 'c', 'n', 'v', 'tv', 'rev', 'arev', 'act'}
  local first_offset = #names
  local taken_offsets = {}
  for partition, offset in string.gmatch(packed_offsets, '(%d+),(%d+);') do
    names[#names + 1] = 'p' .. partition
    taken_offsets[#taken_offsets + 1] = offset
  end
  local n_offsets = #taken_offsets
  local updates = ''
  if is_meter then
    updates = ARGV[a]
    a = a + 1
  end
  local old = redis.call('HMGET', key, unpack(names))
  local state = old[1]
  if state == 'x' then
    local taken = n_offsets > 0
    for i = 1, n_offsets do
      local before = old[first_offset + i]
      if not before or tonumber(taken_offsets[i]) > tonumber(before) then taken = false end
    end
    results[w] = taken and 'unchanged' or 'late'
    if not is_meter then a = a + 3 * n_updates end
  else
    local sets = {}
    local count, wanted = tonumber(old[2] or '0'), tonumber(old[3] or n_slots)
    local values, temps = old[4], old[5]
    local rev, arev, act = old[6], old[7], old[8]
    if not state then
      rev, arev, act = -1, -1, 0
      for _, v in ipairs({'st', 'o', 'n', n_slots, 'rev', -1, 'arev', -1, 'act', 0}) do
        sets[#sets + 1] = v
      end
      redis.call('ZADD', open_index, 'NX', deadline, member)
      state = 'o'
      values = empty_slots(wanted)
    elseif not values then
      values, temps = legacy_slots(key, wanted)
      drop_legacy_fields(key, wanted)
      sets[#sets + 1] = 'v'
      sets[#sets + 1] = values
      if temps then
        sets[#sets + 1] = 'tv'
        sets[#sets + 1] = temps
      end
    end
    for i = 1, n_offsets do
      local taken, before = taken_offsets[i], old[first_offset + i]
      if not before or tonumber(taken) > tonumber(before) then
        sets[#sets + 1] = names[first_offset + i]
        sets[#sets + 1] = taken
      end
    end
    local changed, temps_changed = false, false
    local added = 0
    local slots = unpacked(values, wanted)
    if is_meter then
      local slot_temps = nil
      for at = 1, #updates, 17 do
        local slot, kwh, temp = struct.unpack('<Bdd', updates, at)
        local before = slots[slot + 1]
        if before ~= kwh then  -- NaN before: a slot not seen yet
          if before ~= before then added = added + 1 end
          slots[slot + 1] = kwh
          changed = true
        end
        if temp == temp then
          slot_temps = slot_temps or unpacked(temps or empty_slots(wanted), wanted)
          if slot_temps[slot + 1] ~= temp then
            slot_temps[slot + 1] = temp
            changed, temps_changed = true, true
          end
        end
      end
      if temps_changed then temps = packed(slot_temps, wanted) end
    else
      for _ = 1, n_updates do
        -- a sale counts once: its id is remembered in the window's sales hash
        if redis.call('HSETNX', key .. ':sales', ARGV[a], ARGV[a + 2]) == 1 then
          local slot = tonumber(ARGV[a + 1]) + 1
          local before = slots[slot]
          if before ~= before then
            added = added + 1
            before = 0
          end
          slots[slot] = before + tonumber(ARGV[a + 2])
          changed = true
        end
        a = a + 3
      end
    end
    if changed then
      sets[#sets + 1] = 'v'
      sets[#sets + 1] = packed(slots, wanted)
    end
    if temps_changed then
      sets[#sets + 1] = 'tv'
      sets[#sets + 1] = temps
    end
    count = count + added
    sets[#sets + 1] = 'c'
    sets[#sets + 1] = count
    local outcome = 'open'
    if not changed then
      outcome = 'unchanged'
    elseif state == 'c' then
      -- being scored elsewhere: that scorer re-claims after its commit
      sets[#sets + 1] = 'dirty'
      sets[#sets + 1] = 1
      outcome = 'busy'
    elseif state == 's' or (is_meter and count >= wanted) then
      outcome = 'claimed'
    end
    if outcome == 'claimed' then
      local token = token_prefix .. w
      for _, v in ipairs({'st', 'c', 'tok', token, 'lease', lease_until}) do
        sets[#sets + 1] = v
      end
      redis.call('ZADD', inflight_index, lease_until, member)
      redis.call('ZREM', open_index, member)
      results[w] = {outcome, tonumber(rev) + 1, tonumber(arev), tonumber(act), token}
    else
      results[w] = outcome
    end
    redis.call('HSET', key, unpack(sets))
  end
end
return results
