-- wrk script: POST /predict with a user and an ad drawn from a pool (default 10 000 users x 200
-- ads) and request-time features, as an ad server sends them.
-- Arguments (after `--`): users ads
-- done() prints one line `WRK_JSON {...}` that bench/support.ts parses.

local users, ads = 10000, 200
local devices = { "mobile", "desktop", "tablet" }
local locations = { "US-CA", "US-NY", "US-TX", "GB", "FR", "DE", "BR", "JP" }
local threads = {}

wrk.method = "POST"
wrk.path = "/predict"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  users = tonumber(args[1]) or users
  ads = tonumber(args[2]) or ads
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  local u = math.random(users)
  local body = string.format(
    '{"user_id":"user_%06d","ad_id":"ad_%05d","features":{"device_type":"%s","location":"%s","site_id":"site_%04d","position":%d}}',
    u,
    math.random(ads),
    devices[(u % #devices) + 1],
    locations[(u % #locations) + 1],
    math.random(60),
    math.random(5)
  )
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"max":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)
  ))
end
