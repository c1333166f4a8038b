-- Kafka acknowledged these windows' outboxes: forget them, unless a later
-- revision's outbox replaced one meanwhile (that one still has to go out).
-- KEYS: the window hashes ('<tag>w:<member>'; the shard's inflight index is
-- '<tag>inflight'). ARGV: per window: member, revision
for w = 1, #KEYS do
  local key, member, revision = KEYS[w], ARGV[2 * w - 1], ARGV[2 * w]
  if redis.call('HGET', key, 'obrev') == revision then
    redis.call('HDEL', key, 'ob', 'obrev')
  end
  local h = redis.call('HMGET', key, 'st', 'ob')
  if h[1] ~= 'c' and not h[2] then
    redis.call('ZREM', string.sub(key, 1, #key - #member - 2) .. 'inflight', member)
  end
end
return 1
