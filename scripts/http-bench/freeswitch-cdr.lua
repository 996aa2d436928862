-- wrk script for scripts/http-bench.sh: POSTs a different FreeSWITCH mod_xml_cdr document per
-- request. Each one is a template (a real CDR, read at start) with every UUID and the caller
-- number rewritten (inbound ones sent to the hotline), so requests are different calls from
-- different customers, as in real traffic (not one customer with thousands of calls). Counts sent and 2xx answers per thread;
-- done() prints them for the script's check against the database.
--   wrk -s freeswitch-cdr.lua URL -- TOKEN TEMPLATE...

local hex = "%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x"
local templates = {}
local token = ""
local threads = {}
-- Globals, not locals: setup() sets thread_id in each thread, and done() reads sent and ok
-- through thread:get, which sees only globals.
thread_id = 0
counter = 0
sent = 0
ok = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local function escape(text)
  return (text:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- A template is cut once, at start, into literal pieces and holes (each UUID, each caller
-- number), so that a request costs one table.concat rather than pattern matching over 10 KB:
-- the client must not be what limits the figure.
local function compile(body, caller)
  local pieces, holes, uuids = {}, {}, {}
  local uuid_count = 0
  local position = 1
  while true do
    local us, ue = body:find(hex, position)
    local cs, ce
    if caller then cs, ce = body:find(caller, position) end
    local s, e, hole
    if us and (not cs or us <= cs) then
      s, e = us, ue
      local old = body:sub(us, ue)
      if not uuids[old] then uuid_count = uuid_count + 1; uuids[old] = uuid_count end
      hole = uuids[old]
    elseif cs then
      s, e, hole = cs, ce, 0
    else
      break
    end
    table.insert(pieces, body:sub(position, s - 1))
    table.insert(holes, hole)
    position = e + 1
  end
  table.insert(pieces, body:sub(position))
  return { pieces = pieces, holes = holes, uuids = uuid_count }
end

function init(args)
  token = args[1]
  hotline = os.getenv("HOTLINE") or "96116"
  -- Several wrk processes at once (one per server instance) set WRK_PROCESS = 0, 1, 2…: their
  -- threads then make different calls from different customers (at most 3 threads a process).
  thread_id = thread_id + 3 * tonumber(os.getenv("WRK_PROCESS") or "0")
  math.randomseed(os.time() * 100 + thread_id)
  for i = 2, #args do
    local file = assert(io.open(args[i], "rb"))
    local body = file:read("*a")
    file:close()
    local caller = body:match("<caller_id_number>([^<]*)<")
    -- An inbound template becomes a call to the hotline (96116 in samples/firstcontact.yaml)
    -- from the public context, so that every request is a customer's call to derive.
    if body:match("<direction>inbound<") then
      local destination = body:match("<destination_number>([^<]*)<")
      if destination then
        body = body:gsub("<destination_number>" .. escape(destination) .. "<", "<destination_number>" .. hotline .. "<")
      end
      body = body:gsub("<context>[^<]*<", "<context>public<")
    end
    -- CALL_TIMES=now (the default) moves every time the document carries (`*_epoch`, `*_uepoch`,
    -- which the decoder reads before `*_stamp`) so that the call ends when wrk starts: a PBX posts
    -- a call as it hangs up, and serve's clock is the wall clock. CALL_TIMES=corpus keeps the
    -- corpus's 2014–2015 times: every post is then a backfill (older than clock − lateness), the
    -- path the figures in BENCHMARKS.md before 2026-12-07 measured.
    if (os.getenv("CALL_TIMES") or "now") == "now" then
      local ended = tonumber(body:match("<end_epoch>(%d+)<") or body:match("<start_epoch>(%d+)<"))
      if ended then
        local shift = os.time() - ended
        body = body:gsub("<([%w_]-_u?epoch)>(%d+)<", function(name, value)
          local time = tonumber(value)
          if time == 0 then return nil end  -- 0 means "never" (no answer, no hold)
          local by = name:sub(-7) == "_uepoch" and shift * 1000000 or shift
          return string.format("<%s>%.0f<", name, time + by)
        end)
      end
    end
    table.insert(templates, compile(body, caller and escape(caller)))
  end
  assert(#templates > 0, "no templates")
end

function request()
  counter = counter + 1
  sent = sent + 1
  local template = templates[(counter % #templates) + 1]
  local uuids = {}
  for n = 1, template.uuids do
    uuids[n] = string.format("%08x-%04x-4%03x-8%03x-%012x", counter, thread_id, n, 0, math.random(0, 2 ^ 40))
  end
  -- 11-digit mobile numbers: "13", the thread, an 8-digit counter (unique per run).
  local caller = string.format("13%d%08d", thread_id % 10, counter % 100000000)
  local out = {}
  for i, piece in ipairs(template.pieces) do
    out[#out + 1] = piece
    local hole = template.holes[i]
    if hole then out[#out + 1] = hole == 0 and caller or uuids[hole] end
  end
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/xml",
  }, table.concat(out))
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local total_sent, total_ok = 0, 0
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    total_ok = total_ok + thread:get("ok")
  end
  io.write(string.format("bench: sent %d, 2xx %d\n", total_sent, total_ok))
  io.write(string.format("bench: p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
