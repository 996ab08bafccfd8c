-- POST the body in $BENCH_BODY (a webhook payload) to the URL given to wrk.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local f = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
