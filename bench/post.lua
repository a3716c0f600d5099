-- wrk script for bench/*.sh.
-- usage: wrk -t1 -c32 -d10s --latency -s post.lua URL -- [body.json]
-- With a body file: POSTs that JSON body on every request; without: plain GETs.
-- done() prints one machine-readable RESULT line (latencies in ms). non2xx is wrk's own
-- status counter (responses with status >= 400, counted without a Lua response() hook,
-- which would slow wrk down); socket errors are reported separately.
function init(args)
  if args[1] ~= nil and args[1] ~= "" then
    local f = assert(io.open(args[1], "rb"))
    wrk.body = f:read("*a"); f:close()
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end
function done(s, lat, req)
  local e = s.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f reqs=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    s.requests / (s.duration / 1e6), lat:percentile(50) / 1000, lat:percentile(99) / 1000,
    lat.max / 1000, s.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
