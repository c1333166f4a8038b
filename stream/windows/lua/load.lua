-- Read claimed windows for scoring, with each entity's history.
-- KEYS: the window hashes ('<tag>w:<day>:<entity>'); the entity's history hash
-- (day -> 48 float32 model values) is '<tag>h:<entity>', its history
-- temperatures (day -> mean) '<tag>ht:<entity>'.
-- ARGV[1] history days wanted; ARGV[1 + i] the member ('<day>:<entity>') of window i.
-- Returns per window {n_slots, values, temperatures, history_days,
-- history_rows, history_temperatures}: values and temperatures n_slots packed
-- doubles (NaN = missing; temperatures false when none was ever given);
-- history_days the earlier days kept, oldest first, joined by ','; the rows
-- their model values concatenated; the temperatures one double per day (NaN =
-- none). Strings that numpy reads as they are.
local limit = tonumber(ARGV[1])
local out = {}

local function history(hist_key, temps_key, day)
  if limit <= 0 then return '', '', '' end
  local flat = redis.call('HGETALL', hist_key)
  local days, rows = {}, {}
  for i = 1, #flat, 2 do
    if flat[i] < day then  -- earlier days only: a re-score never sees its own future
      days[#days + 1] = flat[i]
      rows[flat[i]] = flat[i + 1]
    end
  end
  if #days == 0 then return '', '', '' end
  table.sort(days)
  if #days > limit then
    local kept = {}
    for i = #days - limit + 1, #days do kept[#kept + 1] = days[i] end
    days = kept
  end
  local values = {}
  for i, d in ipairs(days) do values[i] = rows[d] end
  local temps = redis.call('HMGET', temps_key, unpack(days))
  local packed = {}
  for i = 1, #days do packed[i] = struct.pack('<d', tonumber(temps[i]) or NAN) end
  return table.concat(days, ','), table.concat(values), table.concat(packed)
end

for w = 1, #KEYS do
  local key, member = KEYS[w], ARGV[1 + w]
  local tag = string.sub(key, 1, #key - #member - 2)
  local day, entity = string.sub(member, 1, 10), string.sub(member, 12)
  local h = redis.call('HMGET', key, 'n', 'v', 'tv')
  local n = tonumber(h[1] or '0')
  local values, temps = h[2], h[3]
  if n > 0 and not values then
    values, temps = legacy_slots(key, n)
  end
  local days, rows, day_temps = history(tag .. 'h:' .. entity, tag .. 'ht:' .. entity, day)
  out[w] = {n, values or '', temps or false, days, rows, day_temps}
end
return out
