-- GET /suno/fetch/{id} over many ids (one per line in $BENCH_IDS), in a random order per thread.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local ids = {}
function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  math.randomseed(os.time() + tonumber(tostring(ids):match("0x(%x+)") or "0", 16) % 100000)
end
function request()
  return wrk.format("GET", "/suno/fetch/" .. ids[math.random(#ids)])
end
