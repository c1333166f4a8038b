-- Windows of one shard past their lateness horizon become small tombstones:
-- values dropped (memory stays bounded), revisions kept so that a reading
-- arriving later is refused (dead-lettered) instead of re-opening the day, and
-- the input offsets taken ('p<partition>'), so a redelivery is known as one.
-- KEYS[1] retire index; ARGV: window_key_prefix, watermark, limit, tombstone_ttl_s
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local retired = 0
for _, member in ipairs(due) do
  local key = ARGV[1] .. member
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
    redis.call('EXPIRE', key, tonumber(ARGV[4]))
    redis.call('ZREM', KEYS[1], member)
    retired = retired + 1
  elseif h[1] ~= 'c' and h[1] ~= 's' then
    redis.call('ZREM', KEYS[1], member)
  end
end
return retired
