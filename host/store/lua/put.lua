
local cur = redis.call('HGET', KEYS[1], 'n')
if ARGV[1] == 'absent' then
  if cur then return -1 end
elseif ARGV[1] == 'matches' then
  if cur ~= ARGV[2] then return -1 end
end
local n = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'n', string.format('%d', n))
redis.call('ZADD', KEYS[2], 0, ARGV[4])
local ttl = tonumber(ARGV[5])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
return n
