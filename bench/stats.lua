-- wrk script: no request()/response() hooks, so wrk keeps its fast path
-- (one pre-built request); done() prints the run's numbers as one JSON line
-- that bench/run reads: requests, duration, errors and latency percentiles.
-- (No top-level return: wrk runs scripts with luaL_dofile and would find
-- the returned value on its Lua stack.)

function bench_report(summary, latency)
   local e = summary.errors
   local p = {}
   for _, q in ipairs({50, 75, 90, 99, 99.9}) do
      p[#p + 1] = string.format('"%s":%d', tostring(q), latency:percentile(q))
   end
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"lat_mean_us":%.1f,"lat_max_us":%d,"pct_us":{%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.max, table.concat(p, ",")))
end

done = bench_report
