-- Exactly $BENCH_LIMIT submits in total (split over $BENCH_THREADS threads), then the thread stops.
-- After its share is sent a thread sends GET /healthz until its last submit is answered.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
local body = '{"prompt":"A dreamy lo-fi beat with soft piano and rain on the window","style":"lo-fi","title":"Rainy Afternoon","make_instrumental":true}'
local share, sent, answered = 0, 0, 0
local submit, health

local created = 0
function setup(thread)
  thread:set("index", created)
  created = created + 1
end

function init(args)
  local limit = tonumber(os.getenv("BENCH_LIMIT"))
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  share = math.floor(limit / threads)
  if (index or 0) == 0 then share = share + (limit - share * threads) end
  submit = wrk.format("POST", "/suno/submit/music", {["Content-Type"] = "application/json"}, body)
  health = wrk.format("GET", "/healthz")
end

function request()
  if sent < share then
    sent = sent + 1
    return submit
  end
  return health
end

function response(status, headers, body)
  -- Every answer that is not the health check answers a submit (errors included).
  if not (body and body:find('"status":"ok"', 1, true)) then answered = answered + 1 end
  if answered >= share then wrk.thread:stop() end
end
