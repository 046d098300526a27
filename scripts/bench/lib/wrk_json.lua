-- wrk script: optional request body, and one machine-readable summary line at the end.
--
-- Environment:
--   BENCH_LABEL, BENCH_ROUND   copied into the summary
--   BENCH_METHOD               e.g. POST (default: GET, or whatever -H/-m gave)
--   BENCH_BODY                 request body
--   BENCH_CONTENT_TYPE         Content-Type for the body (default application/json)
--   BENCH_COUNT_STATUS=1       count responses per HTTP status (calls Lua on every
--                              response, so keep it for slow routes)
--
-- Output: a line "WRK_JSON {...}" with requests, duration, rps, latency percentiles (µs),
-- wrk's error counters (errors.status = responses with status >= 400) and, when counted,
-- responses per status code.

local method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
if method and method ~= "" then
    wrk.method = method
end
if body and body ~= "" then
    wrk.body = body
    wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json"
end

local count_status = os.getenv("BENCH_COUNT_STATUS") == "1"
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

if count_status then
    function init(args)
        statuses = {}
    end

    function response(status, headers, body)
        local key = tostring(status)
        statuses[key] = (statuses[key] or 0) + 1
    end
end

local function json_string(s)
    return '"' .. tostring(s):gsub('[%c"\\]', function(c)
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end

function done(summary, latency, requests)
    local counts = {}
    if count_status then
        for _, t in ipairs(threads) do
            local st = t:get("statuses")
            if st then
                for k, v in pairs(st) do
                    counts[k] = (counts[k] or 0) + v
                end
            end
        end
    end
    local parts = {}
    for k, v in pairs(counts) do
        table.insert(parts, json_string(k) .. ":" .. string.format("%d", v))
    end
    local secs = summary.duration / 1e6
    local e = summary.errors
    local out = string.format(
        '{"label":%s,"round":%s,"threads":%d,"requests":%d,"bytes":%d,' ..
        '"duration_s":%.6f,"rps":%.3f,' ..
        '"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d},' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"status_counts":%s}',
        json_string(os.getenv("BENCH_LABEL") or ""),
        tonumber(os.getenv("BENCH_ROUND") or "0") or 0,
        #threads,
        summary.requests, summary.bytes, secs, summary.requests / secs,
        latency.mean, latency.stdev, latency.min, latency.max,
        latency:percentile(50), latency:percentile(75), latency:percentile(90),
        latency:percentile(99), latency:percentile(99.9),
        e.connect, e.read, e.write, e.status, e.timeout,
        count_status and ("{" .. table.concat(parts, ",") .. "}") or "null")
    io.write("WRK_JSON " .. out .. "\n")
end
