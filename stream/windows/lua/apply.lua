-- Apply one micro-batch of updates to windows, atomically.
-- KEYS: the window hashes, in the order of the windows in the batch. A
-- window's shard indexes share its hash tag: '<tag>w:<member>' has its open
-- index (zset: member -> deadline) at '<tag>open' and its inflight index
-- (zset: member -> wall-clock ms when a claim or outbox must be recovered) at
-- '<tag>inflight'.
-- ARGV: now_ms, lease_ms, token_prefix, kind, then the batch, one string of
-- little-endian structs per window (the struct library's formats):
--   member  'H' byte length, then the bytes ('<day>:<entity>')
--   'BdH'   n_slots, deadline (event time), number of offsets (partitions)
--   'Id'    per offset: input partition, highest offset taken
--   'H'     number of updates, then per update
--             meters: 'Bdd' real slot, kWh, temperature (NaN = none given);
--               one per slot, the caller keeps the last value of each
--             tickets: 'H' sale_id length, its bytes, 'Bd' slot, amount
-- One string instead of arguments per window: the client packs five
-- arguments, not hundreds. The window's fields are read with one HMGET and
-- written with one HSET (the slots packed, see _slots.lua).
-- The window keeps the highest offset it took per partition ('p<partition>'),
-- also as a tombstone: a partition is read in order, so updates at or below it
-- for a retired window are a redelivery (unchanged), not a late reading.
-- Returns per window its outcome ('open', 'unchanged', 'busy', 'late') or, when
-- claimed, {'claimed', revision, alert_revision, alert_active, token}.
local now = tonumber(ARGV[1])
local lease_until = now + tonumber(ARGV[2])
local token_prefix = ARGV[3]
local is_meter = ARGV[4] == 'meter'
local batch = ARGV[5]
local results = {}
local pos = 1
for w = 1, #KEYS do
  local key = KEYS[w]
  local member_length
  member_length, pos = struct.unpack('<H', batch, pos)
  local member = string.sub(batch, pos, pos + member_length - 1)
  pos = pos + member_length
  local tag = string.sub(key, 1, #key - member_length - 2)
  local open_index, inflight_index = tag .. 'open', tag .. 'inflight'
  local n_slots, deadline, n_offsets
  n_slots, deadline, n_offsets, pos = struct.unpack('<BdH', batch, pos)
  -- one read: state, slot count, slots wanted, the packed slots, revisions, offsets
  local names = {'st', 'c', 'n', 'v', 'tv', 'rev', 'arev', 'act'}
  local first_offset = #names
  local taken_offsets = {}
  for i = 1, n_offsets do
    local partition, offset
    partition, offset, pos = struct.unpack('<Id', batch, pos)
    names[first_offset + i] = 'p' .. partition
    taken_offsets[i] = offset
  end
  local n_updates
  n_updates, pos = struct.unpack('<H', batch, pos)
  local old = redis.call('HMGET', key, unpack(names))
  local state = old[1]
  local changed, temps_changed = false, false
  local value_changes, temp_changes = {}, {}
  local added = 0
  local sets = {}
  local count, wanted = tonumber(old[2] or '0'), tonumber(old[3] or n_slots)
  local values, temps = old[4], old[5]
  local rev, arev, act = old[6], old[7], old[8]
  if state == 'x' then
    values = empty_slots(wanted)  -- read past its updates below, never written
  elseif not state then
    rev, arev, act = -1, -1, 0
    for _, v in ipairs({'st', 'o', 'n', n_slots, 'rev', -1, 'arev', -1, 'act', 0}) do
      sets[#sets + 1] = v
    end
    redis.call('ZADD', open_index, 'NX', deadline, member)
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
  if is_meter then
    for _ = 1, n_updates do
      local slot, kwh, temp
      slot, kwh, temp, pos = struct.unpack('<Bdd', batch, pos)
      local before = slot_value(values, slot)
      if before ~= kwh then  -- NaN before: a slot not seen yet
        if before ~= before then added = added + 1 end
        value_changes[#value_changes + 1] = {slot, kwh}
        changed = true
      end
      if temp == temp and (not temps or slot_value(temps, slot) ~= temp) then
        temp_changes[#temp_changes + 1] = {slot, temp}
        changed, temps_changed = true, true
      end
    end
  else
    local sums = {}  -- slot -> its sum so far in this batch
    for _ = 1, n_updates do
      local id_length, sale_id, slot, amount
      id_length, pos = struct.unpack('<H', batch, pos)
      sale_id = string.sub(batch, pos, pos + id_length - 1)
      slot, amount, pos = struct.unpack('<Bd', batch, pos + id_length)
      -- a sale counts once: its id is remembered in the window's sales hash
      if state ~= 'x' and redis.call('HSETNX', key .. ':sales', sale_id, amount) == 1 then
        local before = sums[slot] or slot_value(values, slot)
        if before ~= before then
          added = added + 1
          before = 0
        end
        sums[slot] = before + amount
        changed = true
      end
    end
    for slot, sum in pairs(sums) do value_changes[#value_changes + 1] = {slot, sum} end
  end
  if state == 'x' then
    local taken = n_offsets > 0
    for i = 1, n_offsets do
      local before = old[first_offset + i]
      if not before or taken_offsets[i] > tonumber(before) then taken = false end
    end
    results[w] = taken and 'unchanged' or 'late'
  else
    state = state or 'o'
    for i = 1, n_offsets do
      local before = old[first_offset + i]
      if not before or taken_offsets[i] > tonumber(before) then
        sets[#sets + 1] = names[first_offset + i]
        sets[#sets + 1] = taken_offsets[i]
      end
    end
    if #value_changes > 0 then
      sets[#sets + 1] = 'v'
      sets[#sets + 1] = with_slots(values, wanted, value_changes)
    end
    if temps_changed then
      sets[#sets + 1] = 'tv'
      sets[#sets + 1] = with_slots(temps or empty_slots(wanted), wanted, temp_changes)
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
