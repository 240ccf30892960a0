/**
 * Server-side steps of the Redis feature store, each atomic and all sent in one pipeline. Counter
 * hashes are a cache (cache-aside over the durable counters): a step increments a hash only when
 * it exists, because a missing hash means "not cached", not zero; the next read fills it from the
 * durable store, which counts every event.
 *
 * The click step finds the counter keys from the impression's mapping, so the store needs Redis
 * with one shard (ElastiCache cluster mode disabled): in a cluster those keys are undeclared.
 */

/** KEYS: user hash, ad hash, impression key. ARGV: mapping (`<user bytes>:<user><ad>`), TTL ms. */
export const RECORD_IMPRESSION_LUA = `
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'i', 1) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HINCRBY', KEYS[2], 'i', 1) end
return 1
`;

/**
 * KEYS: impression key. ARGV: user hash prefix, ad hash prefix.
 * Returns {user, ad} credited, or nil when the impression is unknown or its mapping expired.
 */
export const RECORD_CLICK_LUA = `
local m = redis.call('GET', KEYS[1])
if not m then return nil end
local colon = string.find(m, ':', 1, true)
local n = tonumber(string.sub(m, 1, colon - 1))
local user = string.sub(m, colon + 1, colon + n)
local ad = string.sub(m, colon + n + 1)
local uk = ARGV[1] .. user
local ak = ARGV[2] .. ad
if redis.call('EXISTS', uk) == 1 then redis.call('HINCRBY', uk, 'c', 1) end
if redis.call('EXISTS', ak) == 1 then redis.call('HINCRBY', ak, 'c', 1) end
return {user, ad}
`;

/**
 * KEYS: counter hash. ARGV: impressions, clicks, TTL ms. Fills a hash only if it is still absent,
 * so a fill never overwrites counts another fill (and increments since) put there. The TTL makes
 * Redis re-read the durable counters now and then, which bounds any drift between the two.
 */
export const FILL_COUNTER_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'i', ARGV[1], 'c', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`;

/** The mapping value: the user's byte length first, so ids may hold any character. */
export function impressionMapping(userKey: string, adId: string): string {
  return `${Buffer.byteLength(userKey)}:${userKey}${adId}`;
}

/**
 * KEYS: counter hash. ARGV: impressions, clicks, TTL ms. Raises each field to the given total,
 * never lowers it: the stream consumer writes totals DynamoDB returned, and counters only grow, so
 * totals arriving out of order (two shards, a retry) cannot move a cached counter backwards. A
 * hash it creates gets the TTL (the cache re-reads DynamoDB now and then); an existing one keeps its own.
 */
export const RAISE_COUNTER_LUA = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local i = tonumber(redis.call('HGET', KEYS[1], 'i') or '-1')
local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '-1')
if tonumber(ARGV[1]) > i then redis.call('HSET', KEYS[1], 'i', ARGV[1]) end
if tonumber(ARGV[2]) > c then redis.call('HSET', KEYS[1], 'c', ARGV[2]) end
if created then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;
