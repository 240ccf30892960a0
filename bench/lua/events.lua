-- wrk script: impressions with ids that never repeat, either 500 (or N) per POST /event/batch
-- or one per POST /event/impression.
-- Arguments (after `--`): prefix mode [per_request] [users] [ads] [ips]
--   prefix       unique per run and phase (ids are prefix-thread-request-index)
--   mode         "batch" (POST /event/batch) or "single" (POST /event/impression)
--   per_request  events per batch (default 500)
--   users, ads   pools the user_id and ad_id are drawn from (default 10 000 and 200)
--   ips          distinct IPs: -1 (default) a random 10.x.y.z per event (~16.7 M distinct, as real
--                traffic has), 0 no ip field, N > 0 one of N addresses
-- Each thread counts the events the server reported accepted / duplicate / rejected; done()
-- sums them over the threads and prints one line `WRK_JSON {...}`.

local prefix, mode, per_request, users, ads, ips = "run", "batch", 500, 10000, 200, -1
local devices = { "mobile", "desktop", "tablet" }
local locations = { "US-CA", "US-NY", "US-TX", "GB", "FR", "DE", "BR", "JP" }
local threads = {}
local counter = 0

-- globals, so that done() can read them through thread:get()
accepted, duplicate, rejected, non2xx, sent = 0, 0, 0, 0, 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  prefix = args[1] or prefix
  mode = args[2] or mode
  per_request = tonumber(args[3]) or per_request
  users = tonumber(args[4]) or users
  ads = tonumber(args[5]) or ads
  ips = tonumber(args[6]) or ips
  wrk.path = mode == "batch" and "/event/batch" or "/event/impression"
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

local function ip()
  if ips == 0 then
    return ""
  end
  if ips < 0 then
    return string.format(',"ip":"10.%d.%d.%d"', math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  local n = math.random(ips)
  return string.format(',"ip":"10.%d.%d.%d"', math.floor(n / 65536) % 256, math.floor(n / 254) % 256, n % 254 + 1)
end

local function event(id, ts, with_type)
  local u = math.random(users)
  return string.format(
    '{%s"impression_id":"%s","user_id":"user_%06d","ad_id":"ad_%05d","timestamp":"%s",' ..
      '"device_type":"%s","location":"%s"%s}',
    with_type and '"type":"impression",' or "",
    id, u, math.random(ads), ts,
    devices[(u % #devices) + 1], locations[(u % #locations) + 1], ip()
  )
end

function request()
  counter = counter + 1
  sent = sent + (mode == "batch" and per_request or 1)
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local base = prefix .. "-" .. (thread_id or 0) .. "-" .. counter
  if mode == "batch" then
    local parts = {}
    for i = 1, per_request do
      parts[i] = event(base .. "-" .. i, ts, true)
    end
    return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(parts, ",") .. "]}")
  end
  return wrk.format(nil, nil, nil, event(base, ts, false))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  local _, a = body:gsub('"accepted"', "")
  local _, d = body:gsub('"duplicate"', "")
  local _, r = body:gsub('"rejected"', "")
  accepted = accepted + a
  duplicate = duplicate + d
  rejected = rejected + r
end

function done(summary, latency, requests)
  local a, d, r, n, s = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + (t:get("sent") or 0)
    a = a + (t:get("accepted") or 0)
    d = d + (t:get("duplicate") or 0)
    r = r + (t:get("rejected") or 0)
    n = n + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"max":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f},' ..
      '"counters":{"accepted":%d,"duplicate":%d,"rejected":%d,"non2xx":%d,"sent":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9),
    a, d, r, n, s
  ))
end
