-- POST /suno/submit/music with a realistic body; every request creates a durable task.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.path = "/suno/submit/music"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"prompt":"A dreamy lo-fi beat with soft piano and rain on the window","style":"lo-fi","title":"Rainy Afternoon","make_instrumental":true}'
