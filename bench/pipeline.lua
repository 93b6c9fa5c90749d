-- bench/pipeline.lua - HTTP/1.1 pipelining for wrk.
--
-- Each write carries DEPTH requests for PATH; wrk counts every response.
--   wrk -s bench/pipeline.lua http://127.0.0.1:PORT -- 16 /index.html
-- Arguments (after --): depth (default 16), path (default /index.html).

local depth = 16
local path = "/index.html"
local batch

function init(args)
  if args[1] ~= nil then depth = tonumber(args[1]) or depth end
  if args[2] ~= nil then path = args[2] end
  if depth < 1 then depth = 1 end
  local one = wrk.format("GET", path)
  local parts = {}
  for i = 1, depth do parts[i] = one end
  batch = table.concat(parts)
end

function request()
  return batch
end
