-- Record what one worker saw of its input partitions (see stream/watermark.py).
-- KEYS[1] times hash   partition -> highest event time read (never lowered)
-- KEYS[2] data hash    partition -> wall-clock ms when it last brought data
-- KEYS[3] status hash  partition -> "<caught_up 0|1>:<wall-clock ms of the report>"
-- ARGV: now_ms, n, then n (partition, time) pairs, then (partition, caught_up) pairs
-- Returns the three hashes after the update (HGETALL each): the caller's watermark
-- needs them, and would otherwise ask in a second round trip.
local now = ARGV[1]
local n = tonumber(ARGV[2])
local a = 3
for _ = 1, n do
  local old = tonumber(redis.call('HGET', KEYS[1], ARGV[a]) or '-1')
  if tonumber(ARGV[a + 1]) > old then
    redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 1])
  end
  redis.call('HSET', KEYS[2], ARGV[a], now)
  a = a + 2
end
while a <= #ARGV do
  redis.call('HSET', KEYS[3], ARGV[a], ARGV[a + 1] .. ':' .. now)
  a = a + 2
end
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),
  redis.call('HGETALL', KEYS[3])}
