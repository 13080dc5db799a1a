-- wrk script: every request a different path, read from a list written by
-- the `bench_queries` example (one path per line, as the service serves it).
--   wrk -t2 -c32 -d10s -s diverse.lua http://127.0.0.1:18100/ -- paths.txt THREADS
-- The URL's path is the prefix (`/products/` through the gateway). Each
-- thread walks its own slice of the list, so no two requests of a run are
-- the same unless a slice runs out; `done` prints the share of the list used
-- and says so if a slice wrapped around.

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    local file, count = args[1], tonumber(args[2] or "1")
    paths = {}
    for line in io.lines(file) do
        paths[#paths + 1] = line
    end
    share = math.floor(#paths / count)
    first = id * share
    sent = 0
    prefix = string.gsub(wrk.path, "/$", "")
end

function request()
    local index = first + (sent % share) + 1
    sent = sent + 1
    return wrk.format("GET", prefix .. paths[index])
end

function done(summary, latency, requests)
    local most, slice = 0, 0
    for _, thread in ipairs(threads) do
        local n = thread:get("sent")
        if n > most then
            most = n
        end
        slice = thread:get("share")
    end
    if most > slice then
        io.write(string.format("diverse: a thread sent %d requests from a slice of %d: some repeated\n", most, slice))
    else
        io.write(string.format("diverse: every request different (largest thread: %d of %d paths)\n", most, slice))
    end
end
