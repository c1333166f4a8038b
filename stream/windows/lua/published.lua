-- Kafka acknowledged these windows' outboxes: forget them, unless a later
-- revision's outbox replaced one meanwhile (that one still has to go out).
-- KEYS: per window: the window hash, its shard's inflight index.
-- ARGV: per window: member, revision
for w = 1, #ARGV / 2 do
  local key, inflight_index = KEYS[2 * w - 1], KEYS[2 * w]
  local member, revision = ARGV[2 * w - 1], ARGV[2 * w]
  if redis.call('HGET', key, 'obrev') == revision then
    redis.call('HDEL', key, 'ob', 'obrev')
  end
  local h = redis.call('HMGET', key, 'st', 'ob')
  if h[1] ~= 'c' and not h[2] then
    redis.call('ZREM', inflight_index, member)
  end
end
return 1
