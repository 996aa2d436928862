-- wrk script for scripts/sync-bench.sh: POSTs one Asterisk Master.csv line per request, a
-- different caller and uniqueid each time (a new customer's call), and counts sent and 2xx.
--   wrk -s asterisk-line.lua URL -- TOKEN
thread_id = 0
counter = 0
sent = 0
ok = 0
local threads = {}
local token = ""

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  token = args[1]
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "text/csv"
end

function request()
  counter = counter + 1
  sent = sent + 1
  local n = thread_id * 10000000 + counter
  local caller = string.format("139%08d", n % 100000000)
  local unique = string.format("17957%05d.%d", thread_id, counter)
  local line = string.format('"","%s","96116","from-trunk","""X"" <%s>","PJSIP/trunk-%08d","","Queue","billing,t,,,300","2026-11-27 10:07:09","2026-11-27 10:07:10","2026-11-27 10:09:18",129,128,"ANSWERED","DOCUMENTATION","%s","","","%s",%d\n',
    caller, caller, n % 100000000, unique, unique, counter)
  return wrk.format(nil, nil, nil, line)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local s, o = 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    o = o + t:get("ok")
  end
  io.write(string.format("bench: sent %d, 2xx %d\n", s, o))
end
