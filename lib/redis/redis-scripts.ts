import type { Redis } from 'ioredis';

/**
 * Lua scripts, each touching one stream key (so they work on Redis Cluster), each atomic. Registered with
 * ioredis's defineCommand, which sends EVALSHA and falls back to EVAL after a server restart flushed them.
 */
const SCRIPTS = {
  /**
   * Resets the idle time of the listed entries that this consumer still owns, without counting a
   * delivery (XCLAIM ... JUSTID). Owning is checked first: an entry another instance took over is left
   * with it. ARGV: group, consumer, idleMs (0 to keep alive; high to release it for reclaim), ids...
   */
  ebTouch: `
local key, group, consumer, idle = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local touched = 0
for i = 4, #ARGV do
  local p = redis.call('XPENDING', key, group, ARGV[i], ARGV[i], 1, consumer)
  if #p == 1 then
    redis.call('XCLAIM', key, group, consumer, 0, ARGV[i], 'IDLE', idle, 'JUSTID')
    touched = touched + 1
  end
end
return touched`,
  /**
   * Takes up an entry this consumer owns again, for its next delivery after a backoff: returns
   * {fields or false, delivery count}, or nil when another instance owns it now.
   * An entry trimmed meanwhile comes back with false fields. ARGV: group, consumer, id.
   */
  ebRedeliver: `
local key, group, consumer, id = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local p = redis.call('XPENDING', key, group, id, id, 1, consumer)
if #p == 0 then return nil end
local claimed = redis.call('XCLAIM', key, group, consumer, 0, id)
local entry = claimed[1]
if entry == nil or entry == false then return {false, p[1][4] + 1} end
return {entry[2], p[1][4] + 1}`,
  /**
   * Trims the stream by MINID below the oldest entry some group still needs: its oldest pending entry,
   * else the entry after the last one delivered to it. With no group at all nothing is trimmed.
   * ARGV: floor id ('' for none): never trim at or above it (minimum retention). Returns entries removed.
   */
  ebTrim: `
local key, floor = KEYS[1], ARGV[1]
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return {tonumber(ms), tonumber(seq)}
end
local function less(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end
if redis.call('EXISTS', key) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', key)
if #groups == 0 then return 0 end
local lowest = nil
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local needed
  if info['pending'] > 0 then
    needed = parse(redis.call('XPENDING', key, info['name'])[2])
  else
    needed = parse(info['last-delivered-id'])
    needed[2] = needed[2] + 1
  end
  if lowest == nil or less(needed, lowest) then lowest = needed end
end
if floor ~= '' then
  local f = parse(floor)
  if less(f, lowest) then lowest = f end
end
return redis.call('XTRIM', key, 'MINID', string.format('%.0f-%.0f', lowest[1], lowest[2]))`,
  /**
   * Removes consumers of a group that hold no pending entry and were idle longer than ARGV[2] ms:
   * instances that stopped long ago (every instance has a consumer name of its own). Checked and removed
   * atomically, so no consumer with pending entries is ever deleted (that would drop the entries). ARGV: group, idle ms.
   */
  ebPrune: `
local key, group, idle = KEYS[1], ARGV[1], tonumber(ARGV[2])
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', key, group)) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['pending'] == 0 and info['idle'] > idle then
    redis.call('XGROUP', 'DELCONSUMER', key, group, info['name'])
    removed = removed + 1
  end
end
return removed`,
} as const;

export interface StreamScripts {
  ebPrune(key: string, group: string, idleMs: number): Promise<number>;
  ebTouch(key: string, group: string, consumer: string, idleMs: number, ...ids: string[]): Promise<number>;
  ebRedeliver(key: string, group: string, consumer: string, id: string): Promise<[string[] | null, number] | null>;
  ebTrim(key: string, floor: string): Promise<number>;
}

/** The client with the scripts defined (once per client). */
export function withScripts(client: Redis): Redis & StreamScripts {
  const scripted = client as Redis & StreamScripts & { __ebScripts?: true };
  if (scripted.__ebScripts !== true) {
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua });
    Object.defineProperty(scripted, '__ebScripts', { value: true });
  }
  return scripted;
}
