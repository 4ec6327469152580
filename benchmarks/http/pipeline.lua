-- wrk script for the HTTP benchmark's pipelined scenario: every write carries `depth`
-- `GET /` requests back to back (depth = first script argument, default 16). wrk counts each
-- response, and its latency, separately.
--   wrk -t1 -c64 -d10s --latency -s pipeline.lua http://127.0.0.1:PORT/ -- 16

local batch

function init(args)
  local depth = tonumber(args[1]) or 16
  batch = string.rep(wrk.format("GET", "/"), depth)
end

function request()
  return batch
end
