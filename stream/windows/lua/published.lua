-- Kafka acknowledged these windows' outboxes: forget them, unless a later
-- revision's outbox replaced one meanwhile (that one still has to go out).
-- KEYS[1] inflight index; ARGV: window_key_prefix, then member, revision pairs
for i = 2, #ARGV, 2 do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('HGET', key, 'obrev') == ARGV[i + 1] then
    redis.call('HDEL', key, 'ob', 'obrev')
  end
  local h = redis.call('HMGET', key, 'st', 'ob')
  if h[1] ~= 'c' and not h[2] then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return 1
