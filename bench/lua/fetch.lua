-- GET $BENCH_PREFIX{id} over many ids (one per line in $BENCH_IDS), in a random order per thread.
-- Status reads use the prefix /suno/fetch/; their reference, /healthz?task=, goes through this
-- same request() hook so wrk spends the same per-request work on both sides (it shares the cores).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local ids = {}
local prefix = os.getenv("BENCH_PREFIX") or "/suno/fetch/"
function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  math.randomseed(os.time() + tonumber(tostring(ids):match("0x(%x+)") or "0", 16) % 100000)
end
function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)])
end
