-- wrk script: POST /auth/login (JSON) for a rotating set of accounts.
--
--   wrk ... -s login.lua URL -- PREFIX COUNT PASSWORD XFF [PACE_MS]
--
-- Identifiers are PREFIX1@bench.example ... PREFIXCOUNT@bench.example, taken
-- in turn from a random start.  Every attempt comes from a random client
-- address (X-Forwarded-For, which the gateway trusts from 127.0.0.1 through
-- realip): XFF "users" draws it from 10.0.0.0/8 (customers), "flood" from
-- 198.18.0.0/15 (a credential-stuffing botnet).  PACE_MS > 0 makes each
-- connection wait that long before each attempt (a paced flood).  done()
-- prints the status histogram and one JSON line with wrk's numbers.

dofile(os.getenv("BENCH_DIR") .. "/stats.lua")     -- bench_report()

local prefix, count, password, xff, pace
local i = 0
statuses = {}

function init(args)
   prefix = args[1] or "u"
   count = tonumber(args[2] or "1")
   password = args[3] or "Pass-word1"
   xff = args[4] or "flood"
   pace = tonumber(args[5] or "0")
   math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
   i = math.random(count) - 1
end

function request()
   i = i % count + 1
   local addr
   if xff == "flood" then
      addr = string.format("198.%d.%d.%d", 18 + math.random(0, 1),
                           math.random(0, 255), math.random(1, 254))
   else
      addr = string.format("10.%d.%d.%d", math.random(0, 255),
                           math.random(0, 255), math.random(1, 254))
   end
   local body = string.format('{"identifier":"%s%d@bench.example",' ..
                              '"password":"%s"}', prefix, i, password)
   local host = wrk.headers["Host"] or ""
   return wrk.format("POST", "/auth/login", {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
      ["Origin"] = "http://" .. host,
      ["Sec-Fetch-Site"] = "same-origin",
      ["X-Forwarded-For"] = addr,
   }, body)
end

function delay()
   return pace
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      local s = t:get("statuses")
      for k, v in pairs(s) do
         total[k] = (total[k] or 0) + v
      end
   end
   local parts = {}
   for k, v in pairs(total) do
      parts[#parts + 1] = string.format('"%d":%d', k, v)
   end
   io.write('STATUS {' .. table.concat(parts, ",") .. '}\n')
   bench_report(summary, latency)
end
