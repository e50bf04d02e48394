
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local live = {}
for _, m in ipairs(members) do
  if redis.call('EXISTS', ARGV[4] .. m) == 1 then
    live[#live + 1] = m
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return {#members, members[#members] or '', live}
