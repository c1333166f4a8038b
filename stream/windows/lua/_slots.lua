-- Packed slots, shared by the scripts that read or write a window's values
-- (prepended to apply, load and commit by the store).
-- A window keeps its slots as two fields of n_slots little-endian doubles:
-- 'v' the values (a meter's kWh, the sum of a half hour's sales) and 'tv' the
-- temperatures, NaN where there is none ('tv' only once a reading carried one).
-- Two fields instead of 2 x n_slots: the hash stays a dozen entries, so HMGET
-- and HSET no longer scan a ~100-entry listpack per field (18 us a call), and
-- load hands Python two strings that numpy reads as they are.
local NAN = 0 / 0

local function empty_slots(n)
  return string.rep(struct.pack('<d', NAN), n)
end

local formats = {}
local function format_of(n)
  local f = formats[n]
  if not f then
    f = '<' .. string.rep('d', n)
    formats[n] = f
  end
  return f
end

-- The slots as a Lua table (1-based) and back: one unpack and one pack per
-- window, whatever the number of updates (splicing the string per update
-- cost 1.6 us each).
local function unpacked(blob, n)
  if n == 0 then return {} end
  return {struct.unpack(format_of(n), blob)}
end

local function packed(t, n)
  if n == 0 then return '' end
  return struct.pack(format_of(n), unpack(t, 1, n))
end

local function slot_value(blob, slot)  -- slot: 0-based
  return (struct.unpack('<d', blob, slot * 8 + 1))
end

-- The blob with ``changes`` ({slot (0-based), value} pairs) written: a few are
-- spliced in (1.6 us each), many by one unpack and pack of the whole (3.3 us).
local function with_slots(blob, n, changes)
  if #changes <= 2 then
    for _, c in ipairs(changes) do
      local at = c[1] * 8
      blob = string.sub(blob, 1, at) .. struct.pack('<d', c[2]) .. string.sub(blob, at + 9)
    end
    return blob
  end
  local t = unpacked(blob, n)
  for _, c in ipairs(changes) do t[c[1] + 1] = c[2] end
  return packed(t, n)
end

-- A window written by a worker of an earlier release keeps one field per slot
-- ('s<i>' values, 't<i>' temperatures, as text): read them as packed slots.
local function legacy_slots(key, n)
  if n == 0 then return '', false end
  local names = {}
  for i = 0, n - 1 do names[#names + 1] = 's' .. i end
  for i = 0, n - 1 do names[#names + 1] = 't' .. i end
  local got = redis.call('HMGET', key, unpack(names))
  local values, temps, any_temp = {}, {}, false
  for i = 1, n do
    values[i] = struct.pack('<d', tonumber(got[i]) or NAN)
    local t = tonumber(got[n + i])
    if t then any_temp = true end
    temps[i] = struct.pack('<d', t or NAN)
  end
  return table.concat(values), any_temp and table.concat(temps) or false
end

-- Rewrite a legacy window in the packed form (the first write of this release).
local function drop_legacy_fields(key, n)
  local names = {}
  for i = 0, n - 1 do
    names[#names + 1] = 's' .. i
    names[#names + 1] = 't' .. i
  end
  if #names > 0 then redis.call('HDEL', key, unpack(names)) end
end
