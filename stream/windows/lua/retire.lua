-- Windows of some shards past their lateness horizon become small tombstones:
-- values dropped (memory stays bounded), revisions kept so that a reading
-- arriving later is refused (dead-lettered) instead of re-opening the day, and
-- the input offsets taken ('p<partition>'), so a redelivery is known as one.
-- KEYS: per shard its retire index; ARGV: watermark, limit (per shard),
--   tombstone_ttl_s, then per shard its window key prefix.
local retired = 0
for s = 1, #KEYS do
  local retire_index, prefix = KEYS[s], ARGV[3 + s]
  local due = redis.call('ZRANGEBYSCORE', retire_index, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
  for _, member in ipairs(due) do
    local key = prefix .. member
    local h = redis.call('HMGET', key, 'st', 'ob', 'rev', 'arev', 'act')
    if h[1] == 's' and not h[2] then
      local kept = {'st', 'x', 'rev', h[3], 'arev', h[4], 'act', h[5]}
      local fields = redis.call('HKEYS', key)
      for _, field in ipairs(fields) do
        if string.match(field, '^p%d+$') then
          kept[#kept + 1] = field
          kept[#kept + 1] = redis.call('HGET', key, field)
        end
      end
      redis.call('DEL', key, key .. ':sales')
      redis.call('HSET', key, unpack(kept))
      redis.call('EXPIRE', key, tonumber(ARGV[3]))
      redis.call('ZREM', retire_index, member)
      retired = retired + 1
    elseif h[1] ~= 'c' and h[1] ~= 's' then
      redis.call('ZREM', retire_index, member)
    end
  end
end
return retired
