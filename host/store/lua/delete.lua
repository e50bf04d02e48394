
local cur = redis.call('HGET', KEYS[1], 'n')
if ARGV[1] == 'absent' then
  if cur then return -1 end
  return 0
elseif ARGV[1] == 'matches' then
  if cur ~= ARGV[2] then return -1 end
end
if not cur then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
