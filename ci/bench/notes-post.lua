-- wrk script: the POST note cell. Creates notes with POST /notes and deletes each one it created
-- with DELETE /notes/{id}, so that a store of 64 notes (zzz's notes API) does not fill up.
--   wrk ... -s ci/bench/notes-post.lua http://ADDR/notes
-- A request is a DELETE of the oldest note created and not yet deleted, if there is one, and
-- otherwise a POST: about half the requests are each, and the store holds about as many notes
-- as half the connections (more connections than twice the store's room: some POSTs are
-- answered 409 Store full). Every response is counted by status; done() prints the counts
-- ("status 201: N"), which ci/bench/report.py reads.
local body = '{"title":"Buy milk","text":"Two litres, semi-skimmed, from the corner shop.","done":false}'

-- Ids of created notes, oldest first: queue[first .. last].
local queue, first, last = {}, 1, 0
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  post = wrk.format("POST", "/notes", { ["Content-Type"] = "application/json" }, body)
end

function request()
  if first <= last then
    local id = queue[first]
    queue[first] = nil
    first = first + 1
    return wrk.format("DELETE", "/notes/" .. id)
  end
  return post
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    local id = body:match('^{"id":(%d+),')
    if id then
      last = last + 1
      queue[last] = id
    end
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  for _, status in ipairs(keys) do
    io.write(string.format("status %d: %d\n", status, total[status]))
  end
end
