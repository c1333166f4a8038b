-- Read one window's slots in order, for scoring.
-- KEYS[1] the window hash. Returns {n_slots, s0 .. s(n-1), t0 .. t(n-1)}, a
-- missing slot or temperature as nil. Cheaper than HGETALL parsed field by
-- field in Python, and than an HMGET whose ~100 field names the client packs.
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local out = {n}
if n > 0 then
  local names = {}
  for i = 0, n - 1 do names[#names + 1] = 's' .. i end
  for i = 0, n - 1 do names[#names + 1] = 't' .. i end
  local got = redis.call('HMGET', KEYS[1], unpack(names))
  for i = 1, #got do out[i + 1] = got[i] end
end
return out
