/**
 * Server-side steps of the Redis feature store, each atomic and all sent in one pipeline. Counter
 * hashes are a cache (cache-aside over the durable counters): a step increments a hash only when
 * it exists, because a missing hash means "not cached", not zero; the next read fills it from the
 * durable store, which counts every event.
 *
 * A hash holds the all-time `i` and `c`, the hourly buckets of the windows `i:<hour>` and
 * `c:<hour>` (counters.ts), and `t`: the oldest live hour it was last trimmed to. Each step that
 * touches a hash drops the buckets older than the oldest live hour it is given, scanning the
 * fields only when that hour moved past `t` (about once an hour per hash).
 *
 * The click step finds the counter keys from the impression's mapping, so the store needs Redis
 * with one shard (ElastiCache cluster mode disabled): in a cluster those keys are undeclared.
 */

const TRIM = `
local function trim(key, oldest)
  if tonumber(redis.call('HGET', key, 't') or '-1') >= oldest then return end
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local h = string.match(f, '^[ic]:(%d+)$')
    if h and tonumber(h) < oldest then redis.call('HDEL', key, f) end
  end
  redis.call('HSET', key, 't', oldest)
end
`;

/** Adds one event to a cached hash: its all-time field, and its bucket unless `bucket` is ''. */
const COUNT = `
local function count(key, field, bucket, oldest)
  if redis.call('EXISTS', key) == 0 then return end
  redis.call('HINCRBY', key, field, 1)
  if bucket ~= '' then redis.call('HINCRBY', key, bucket, 1) end
  trim(key, oldest)
end
`;

/**
 * KEYS: user hash, ad hash, impression key. ARGV: mapping (`<user bytes>:<user><ad>`), TTL ms,
 * bucket field (`i:<hour>`, '' for an event too old for a window), oldest live hour.
 */
export const RECORD_IMPRESSION_LUA = `${TRIM}${COUNT}
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
local oldest = tonumber(ARGV[4])
count(KEYS[1], 'i', ARGV[3], oldest)
count(KEYS[2], 'i', ARGV[3], oldest)
return 1
`;

/**
 * KEYS: impression key. ARGV: user hash prefix, ad hash prefix, bucket field (`c:<hour>` or ''),
 * oldest live hour. Returns {user, ad} credited, or nil when the impression is unknown or its
 * mapping expired.
 */
export const RECORD_CLICK_LUA = `${TRIM}${COUNT}
local m = redis.call('GET', KEYS[1])
if not m then return nil end
local colon = string.find(m, ':', 1, true)
local n = tonumber(string.sub(m, 1, colon - 1))
local user = string.sub(m, colon + 1, colon + n)
local ad = string.sub(m, colon + n + 1)
local oldest = tonumber(ARGV[4])
count(ARGV[1] .. user, 'c', ARGV[3], oldest)
count(ARGV[2] .. ad, 'c', ARGV[3], oldest)
return {user, ad}
`;

/**
 * KEYS: counter hash. ARGV: impressions, clicks, TTL ms, oldest live hour, then bucket field and
 * count pairs. Fills a hash only if it is still absent, so a fill never overwrites counts another
 * fill (and increments since) put there. The TTL makes Redis re-read the durable counters now and
 * then, which bounds any drift between the two.
 */
export const FILL_COUNTER_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'i', ARGV[1], 'c', ARGV[2], 't', ARGV[4])
  for k = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[k], ARGV[k + 1]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`;

/** The mapping value: the user's byte length first, so ids may hold any character. */
export function impressionMapping(userKey: string, adId: string): string {
  return `${Buffer.byteLength(userKey)}:${userKey}${adId}`;
}

/**
 * KEYS: counter hash. ARGV: impressions, clicks, TTL ms, oldest live hour, then bucket field and
 * count pairs. Raises each field (all-time and buckets) to the given total, never lowers it: the
 * stream consumer writes totals DynamoDB returned, and counters and a bucket only grow, so totals
 * arriving out of order (two shards, a retry) cannot move a cached counter backwards. A hash it
 * creates gets the TTL (the cache re-reads DynamoDB now and then); an existing one keeps its own.
 */
export const RAISE_COUNTER_LUA = `${TRIM}
local created = redis.call('EXISTS', KEYS[1]) == 0
local function raise(field, value)
  if tonumber(value) > tonumber(redis.call('HGET', KEYS[1], field) or '-1') then
    redis.call('HSET', KEYS[1], field, value)
  end
end
raise('i', ARGV[1])
raise('c', ARGV[2])
for k = 5, #ARGV, 2 do raise(ARGV[k], ARGV[k + 1]) end
trim(KEYS[1], tonumber(ARGV[4]))
if created then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;
