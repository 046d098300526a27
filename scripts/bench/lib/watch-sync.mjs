// Watch together in real browsers, for the "watch" benchmark scenario (issue 13): headless
// Chromium pages in one room, through nginx in front of two backend instances that share the
// database and Redis (e2e/lib.mjs startCluster: the production topology), the built web app.
//
// What is measured, per page, is the frame on screen: the app's sync binding logs every
// presented frame (requestVideoFrameCallback) as its `mediaTime` and the wall-clock instant it
// is shown (`performance.timeOrigin + expectedDisplayTime`). The server runs on this machine,
// so the server clock IS the wall clock: each frame is compared with the room's timeline at
// that instant, expected(t) = position_ms + (t − anchor_time) × rate, with the true offset 0
// (the page's own offset estimate is logged with the frame and undone: err + offset × rate).
// Two pages' drift is the difference of their errors for frames shown ≤ 20 ms apart (both
// against the same timeline, so it is their position difference mapped to one instant).
//
// Phases (one room; the host's page on instance 0, the others alternating; each steady window
// starts 3 s after the last play or seek):
//   steady-2      host + 1 guest, MEASURE_S of steady playback
//   seek-2        SEEKS host seeks (+10 s / −10 s): click → every page playing within 100 ms of
//                 the others for 1 s (looked for up to 3 s after the click)
//   steady-5      host + 4 guests
//   seek-5        the same seeks with five pages
//   reconnect     RECONNECTS times a guest goes offline 5 s (context.setOffline); the host seeks
//                 while it is away; time from back online until it is within 100 ms of the
//                 others, and its error in its first second on the new position
//   cpu-4x        steady, one guest under 4× CPU throttling (CDP Emulation.setCPUThrottlingRate)
//   delay-75ms    steady, one guest reloaded through a TCP proxy that delays every chunk 75 ms
//                 each way (HTTP and WebSocket alike)
//
//   node watch-sync.mjs [MEASURE_S=60] [SEEKS=6] [RECONNECTS=3]  -> JSON lines on stdout
//   (WATCH_DEBUG=1: each page's position around every seek on stderr)
import { chromium } from '../../../e2e/node_modules/playwright-core/index.mjs';
import { freePort, openOn, startCluster } from '../../../e2e/lib.mjs';
import { pairDrift, stats } from '../../../e2e/sync-measure.mjs';
import { api, ingestMovie, register } from '../../../e2e/watch-lib.mjs';
import { startDelayProxy } from './delay-proxy.mjs';
import { writeFileSync } from 'node:fs';

const MEASURE_S = Number(process.argv[2] ?? 60);
const SEEKS = Number(process.argv[3] ?? 6);
const RECONNECTS = Number(process.argv[4] ?? 3);
const SETTLE_MS = 3000;
const log = (m) => process.stderr.write(`[watch] ${m}\n`);
const out = (rec) => process.stdout.write(`${JSON.stringify(rec)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Frames shown since `from` (wall ms), with their error against the true timeline. */
async function framesOf(page, from, to = Infinity) {
  const fs = await page.evaluate(([a, b]) => window.__luojiaSync.frames.filter((f) => f.at >= a && f.at <= b), [from, to]);
  return fs.map((f) => ({ at: f.at, pos: f.pos, err: f.err + f.off * f.rate }));
}

/** Each page's position at wall time `t`, from its last frame (null if no frame within 80 ms). */
function positionsAt(frames, t) {
  return frames.map((fs) => {
    let lo = 0;
    let hi = fs.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fs[mid].at <= t) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0 || t - fs[best].at > 80) return null;
    return fs[best].pos + (t - fs[best].at);
  });
}

/** First wall time ≥ from at which `ok(positions)` holds for the next `holdMs` (5 ms grid). */
function firstSustained(frames, from, until, ok, holdMs = 1000) {
  let start = null;
  for (let t = from; t <= until; t += 5) {
    const p = positionsAt(frames, t);
    if (p.every((x) => x !== null) && ok(p)) {
      if (start === null) start = t;
      if (t - start >= holdMs) return start;
    } else start = null;
  }
  return null;
}

const spread = (p) => Math.max(...p) - Math.min(...p);

/** The 25 largest entries of a name → milliseconds map, as "name ms" strings. */
const top25 = (ms) => [...ms].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([n, v]) => `${n} ${v.toFixed(1)}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
});
const proxyPort = await freePort();
const cluster = await startCluster({
  instances: 2,
  env: {
    APP_RATE_LIMIT__REGISTER_PER_IP: '100000',
    APP_RATE_LIMIT__LOGIN_PER_IP: '100000',
  },
  // The delayed page comes from the proxy's origin.
  extraOrigins: [`http://127.0.0.1:${proxyPort}`],
});
let proxy = null;
try {
  const seconds = Math.round(4 * (MEASURE_S + 5) + 2 * SEEKS * 7 + RECONNECTS * 12 + 60);
  log(`ingesting a ${seconds} s test movie (854×480, 25 fps)`);
  const movie = await ingestMovie(cluster, { title: '同步测试片', seconds });
  const users = [];
  for (let i = 0; i < 5; i++) users.push(await register(cluster, `watch${i}${Date.now().toString(36)}`));
  const room = await api(cluster, 'POST', '/api/v1/rooms', {
    token: users[0].token,
    body: { name: '同步基准', movie_id: movie.id, visibility: 'unlisted', control_mode: 'host' },
  });
  for (const u of users.slice(1)) await api(cluster, 'POST', '/api/v1/rooms/join', { token: u.token, body: { invite_code: room.invite_code } });

  const pages = [];
  async function open(i, base = cluster.base) {
    const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
    await context.addInitScript((t) => localStorage.setItem('luojia.tokens', JSON.stringify(t)), users[i].tokens);
    const page = await context.newPage();
    await openOn(cluster, page, `${base}/rooms/${room.id}`, i % 2);
    await page.locator('video').waitFor({ state: 'attached', timeout: 30_000 });
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 3, null, { timeout: 30_000 });
    return page;
  }
  const engines = () => Promise.all(pages.map((p) => p.evaluate(() => window.__luojiaSync.engine())));
  /** Clicks a host control inside the page; returns the click's wall time. */
  const hostClick = (testid) =>
    pages[0].evaluate((id) => {
      const t = performance.timeOrigin + performance.now();
      document.querySelector(`[data-testid="${id}"]`).click();
      return t;
    }, testid);

  /** Each page's main-thread time (CDP Performance metrics, seconds) so far. */
  const cdps = new Map();
  async function mainThread() {
    return Promise.all(pages.map(async (p) => {
      if (!cdps.has(p)) {
        const c = await p.context().newCDPSession(p);
        await c.send('Performance.enable');
        cdps.set(p, c);
      }
      const { metrics } = await cdps.get(p).send('Performance.getMetrics');
      return Object.fromEntries(metrics.filter((m) => /Duration$/.test(m.name)).map((m) => [m.name, m.value]));
    }));
  }

  async function steady(scenario, special = null) {
    await sleep(SETTLE_MS);
    const from = Date.now();
    log(`${scenario}: ${pages.length} pages, ${MEASURE_S} s`);
    const busy0 = await mainThread();
    if (process.env.WATCH_STEADY_TRACE && pages.length === 2) {
      await browser.startTracing(pages[1], { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.invalidationTracking'] });
      await sleep(2000);
      writeFileSync('/tmp/watch-steady-trace.json', await browser.stopTracing());
      await sleep(MEASURE_S * 1000 - 2000);
    } else await sleep(MEASURE_S * 1000);
    const busy1 = await mainThread();
    // Share of wall time each page's main thread ran tasks, scripts among them.
    const mainThreadShare = busy1.map((b, i) => ({
      task: +((b.TaskDuration - busy0[i].TaskDuration) / MEASURE_S).toFixed(3),
      script: +((b.ScriptDuration - busy0[i].ScriptDuration) / MEASURE_S).toFixed(3),
      style_layout: +((b.RecalcStyleDuration + b.LayoutDuration - busy0[i].RecalcStyleDuration - busy0[i].LayoutDuration) / MEASURE_S).toFixed(3),
    }));
    log(`  main thread busy (share of wall time): ${JSON.stringify(mainThreadShare)}`);
    const frames = await Promise.all(pages.map((p) => framesOf(p, from, from + MEASURE_S * 1000)));
    const pairs = [];
    const specialPairs = [];
    for (let i = 0; i < pages.length; i++) {
      for (let j = i + 1; j < pages.length; j++) {
        const d = pairDrift(frames[i], frames[j]);
        pairs.push(...d);
        if (special !== null && (i === special || j === special)) specialPairs.push(...d);
      }
    }
    const rec = {
      label: 'steady',
      scenario,
      pages: pages.length,
      measured_s: MEASURE_S,
      special,
      timeline: frames.map((f) => stats(f.map((x) => x.err))),
      timeline_all: stats(frames.flat().map((x) => x.err)),
      drift: stats(pairs),
      drift_special: special !== null ? stats(specialPairs) : null,
      engines: await engines(),
      main_thread: mainThreadShare,
    };
    log(`  timeline p95 ${rec.timeline.map((s) => s.p95).join(' / ')} ms; drift ${JSON.stringify(rec.drift)}`);
    out(rec);
  }

  /** `n` host seeks (+10 s, −10 s alternately): click → every page playing within 100 ms of the
   * others for 1 s. */
  async function seekTrials(n) {
    for (let k = 0; k < n; k++) {
      const profiled = process.env.WATCH_PROFILE && pages.length === 5 && k === 3 ? pages[Number(process.env.WATCH_PROFILE)] : null;
      let prof = null;
      if (profiled) {
        prof = await profiled.context().newCDPSession(profiled);
        await prof.send('Profiler.enable');
        await prof.send('Profiler.setSamplingInterval', { interval: 200 });
        await prof.send('Profiler.start');
      }
      const traced = process.env.WATCH_TRACE && pages.length === 5 && k === 3 ? pages[Number(process.env.WATCH_TRACE)] : null;
      if (traced) await browser.startTracing(traced, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.invalidationTracking', 'blink', 'media'] });
      const t0 = await hostClick(k % 2 ? 'ctl-back' : 'ctl-forward');
      if (traced) {
        await sleep(1500);
        const buf = await browser.stopTracing();
        const { traceEvents } = JSON.parse(buf.toString());
        const main = traceEvents.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && traceEvents.some((x) => x.pid === e.pid && x.name === 'FunctionCall'));
        // Self time of complete events on the renderer's main thread, by name.
        const evs = traceEvents.filter((e) => main && e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
        const self = new Map();
        const stack = [];
        for (const e of evs) {
          while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
          if (stack.length) self.set(stack.at(-1).name, (self.get(stack.at(-1).name) ?? 0) - e.dur / 1000);
          self.set(e.name, (self.get(e.name) ?? 0) + e.dur / 1000);
          stack.push(e);
        }
        const top = top25(self);
        const long = evs.filter((e) => e.name === 'RunTask' && e.dur > 16_000).map((e) => Math.round(e.dur / 1000));
        log(`    trace of page ${process.env.WATCH_TRACE}, 1.5 s from the click, main thread self ms: ${JSON.stringify(top)}; tasks > 16 ms: ${JSON.stringify(long)}`);
        writeFileSync('/tmp/watch-trace.json', buf);
      }
      if (prof) {
        await sleep(1500);
        const { profile } = await prof.send('Profiler.stop');
        const self = new Map();
        const dt = profile.timeDeltas;
        const byId = new Map(profile.nodes.map((n) => [n.id, n]));
        profile.samples.forEach((id, i) => {
          const n = byId.get(id);
          const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
          self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
        });
        log(`    profile of page ${process.env.WATCH_PROFILE}, 1.5 s from the click (self ms): ${JSON.stringify(top25(self))}`);
      }
      await sleep(profiled || traced ? 3500 : 5000);
      const frames = await Promise.all(pages.map((p) => framesOf(p, t0 - 200)));
      const before = positionsAt(frames, t0 - 100).find((x) => x !== null) ?? 0;
      const target = before + (k % 2 ? -10_000 : 10_000);
      const at = firstSustained(frames, t0, t0 + 4000, (p) => spread(p) <= 100 && p.every((x) => Math.abs(x - target) < 5000));
      if (process.env.WATCH_DEBUG) {
        const traces = await Promise.all(pages.map((p) => p.evaluate((t) => window.__luojiaSync.trace.filter((x) => Number(x.split(' ')[0]) >= t - 50), t0)));
        const rel = (x) => `+${Number(x.split(' ')[0]) - Math.round(t0)} ${x.split(' ').slice(1).join(' ')}`;
        // When the command arrived at each page (its anchor_time relative to the click) and what the page did first.
        log(`    anchors: ${JSON.stringify(traces.map((tr) => {
          const i = tr.findIndex((x) => x.split(' ')[1] === 'anchor');
          if (i < 0) return null;
          const start = Number(tr[i].split(' ').at(-1)) - Math.round(t0);
          return `${rel(tr[i]).split(' ')[0]} (start +${start}) ${tr[i + 1] ? rel(tr[i + 1]) : ''}`;
        }))}`);
        if (k === 2 || k === 4) traces.forEach((tr, i) => log(`    page ${i}: ${tr.map(rel).join(' | ')}`));
        for (const dt of [-100, 200, 400, 600, 1000, 1500, 2000]) log(`    t0${dt >= 0 ? '+' : ''}${dt}: ${JSON.stringify(positionsAt(frames, t0 + dt).map((x) => x && Math.round(x - target)))}`);
      }
      const rec = { label: 'seek', trial: k, pages: pages.length, converge_ms: at === null ? null : Math.round(at - t0) };
      log(`  seek ${k}: ${rec.converge_ms} ms`);
      out(rec);
      await sleep(500);
    }
  }

  log('host + 1 guest, play');
  pages.push(await open(0));
  pages.push(await open(1));
  await hostClick('ctl-toggle');
  await sleep(1500);
  await steady('2 pages');
  // The same seeks with two pages: what the engine does when the machine is not oversubscribed
  // by five renderers decoding on two cores.
  await seekTrials(SEEKS);

  log('3 more guests');
  for (let i = 2; i < 5; i++) pages.push(await open(i));
  await steady('5 pages');

  await seekTrials(SEEKS);

  for (let k = 0; k < RECONNECTS; k++) {
    const who = 2;
    await pages[who].context().setOffline(true);
    await sleep(2000);
    await hostClick('ctl-forward');
    await sleep(3000);
    const on = Date.now();
    await pages[who].context().setOffline(false);
    await sleep(5000);
    const frames = await Promise.all(pages.map((p) => framesOf(p, on - 1000)));
    const target = positionsAt([frames[0]], on)[0];
    const landed = firstSustained(frames, on, on + 4000, (p) => spread(p) <= 100 && Math.abs(p[who] - target) < 5000);
    // Its first second on the new position: the frames after it first showed one within 2 s of the host.
    const first = frames[who].find((f) => f.at >= on && Math.abs(f.pos - positionsAt([frames[0]], f.at)[0]) < 2000);
    const landing = first ? frames[who].filter((f) => f.at >= first.at && f.at < first.at + 1000).map((f) => f.err) : [];
    const rec = { label: 'reconnect', trial: k, offline_ms: 5000, land_ms: landed === null ? null : Math.round(landed - on), landing: stats(landing) };
    log(`  reconnect ${k}: within 100 ms after ${rec.land_ms} ms, first second ${JSON.stringify(rec.landing)}`);
    out(rec);
    await sleep(2000);
  }

  log('one guest at 4x CPU');
  const cdp = await pages[3].context().newCDPSession(pages[3]);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await steady('5 pages, one at 4× CPU throttling', 3);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });

  log('one guest behind a 75 ms (each way) delay proxy');
  const nginxPort = Number(new URL(cluster.base).port);
  proxy = await startDelayProxy({ target: nginxPort, delayMs: 75, port: proxyPort });
  await pages[4].context().close();
  pages[4] = await open(4, `http://127.0.0.1:${proxyPort}`);
  const rtt = (await engines())[4].rtt;
  log(`  the proxied page's clock rtt: ${rtt} ms`);
  await steady('5 pages, one behind a 75 ms delay proxy', 4);

  if (process.env.WATCH_SCREENSHOT) await pages[0].screenshot({ path: process.env.WATCH_SCREENSHOT });
} finally {
  await browser.close().catch(() => {});
  await proxy?.stop();
  await cluster.stop();
}
