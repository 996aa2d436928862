-- wrk script for scripts/route-bench.sh: GET /v1/route?format=text for a random caller, nine in
-- ten from the file of numbers with an open contact, one in ten a number the store never saw;
-- counts the answers by route.
--   wrk -s route.lua URL -- TOKEN CALLERS_FILE
thread_id = 0
agent = 0
queue = 0
other = 0
local threads = {}
local callers = {}
local url = ""

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  for line in io.lines(args[2]) do table.insert(callers, line) end
  math.randomseed(thread_id * 7919)
  url = wrk.path
end

function request()
  local caller
  if math.random(10) == 1 then
    caller = string.format("139%08d", math.random(0, 99999999))
  else
    caller = callers[math.random(#callers)]
  end
  return wrk.format("GET", url .. "?format=text&device_prefix=PJSIP/&caller=" .. caller)
end

function response(status, headers, body)
  if status ~= 200 then
    other = other + 1
  elseif string.sub(body, 1, 11) == "route=agent" then
    agent = agent + 1
  else
    queue = queue + 1
  end
end

function done(summary, latency, requests)
  local a, q, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("agent")
    q = q + t:get("queue")
    o = o + t:get("other")
  end
  io.write(string.format("bench: route=agent %d, route=queue %d, not 200 %d\n", a, q, o))
end
