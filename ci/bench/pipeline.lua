-- wrk script: HTTP/1.1 pipelining as in TechEmpower's plaintext test.
--   wrk ... -s ci/bench/pipeline.lua http://ADDR/plaintext -- DEPTH
-- init builds one string of DEPTH copies of the request (default 16); every write sends it
-- whole, and wrk counts each of the DEPTH responses as a request.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
