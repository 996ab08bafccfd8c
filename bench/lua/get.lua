-- Plain GET of the URL given to wrk; only adds the JSON report.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
