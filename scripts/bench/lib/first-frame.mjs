// Time from clicking "play" on a movie's page to the first video frame on screen, for the
// "frontend" benchmark scenario (issue 12's ≤ 1.5 s). The same steps as e2e/watch.test.mjs's
// player test, timed inside the page so no polling delay is counted:
//   - each run is a new user (registered through the API, so nothing to resume) in a new
//     browser context (empty HTTP cache: the cold case), tokens in localStorage as the app
//     keeps them;
//   - open /movies/<id> and wait for the play button; then either ("settled") wait for the
//     network to go idle (the page prefetches the player's code while the visitor reads, as a
//     visitor would give it time to), or ("at once") click as soon as the button is enabled;
//   - click play; the click's event.timeStamp is the start;
//   - "first frame": the presentationTime of the first requestVideoFrameCallback of the page's
//     <video> (registered by a MutationObserver the moment the element is inserted, so no frame
//     is missed); "playing": the first moment (timeupdate/playing events) with currentTime > 0 and
//     readyState >= 2, the condition the e2e test waits for. Both on the page's performance clock.
//
//   node first-frame.mjs BASE_URL MOVIE_ID [RUNS=7]  -> one JSON line per run on stdout
//   (RUNS runs "settled", then RUNS runs "at once")
import { chromium } from '../../../e2e/node_modules/playwright-core/index.mjs';

const [base, movieId, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 7);
const chrome = process.env.CHROME_PATH || '/usr/bin/chromium';

// Installed before the app's scripts run, in every document of the context.
function probe() {
  const t = { click: null, frame: null, playing: null };
  window.__firstFrame = t;
  document.addEventListener('click', (e) => {
    if (t.click === null && e.target instanceof Element && e.target.closest('[data-testid="play"]')) t.click = e.timeStamp;
  }, true);
  const watch = (v) => {
    if (v.__probed) return;
    v.__probed = true;
    if ('requestVideoFrameCallback' in v) {
      v.requestVideoFrameCallback((now, meta) => {
        if (t.frame === null) t.frame = meta.presentationTime ?? now;
      });
    }
    const check = () => {
      if (t.playing === null && v.currentTime > 0 && v.readyState >= 2) t.playing = performance.now();
    };
    for (const ev of ['timeupdate', 'playing', 'loadeddata']) v.addEventListener(ev, check);
  };
  new MutationObserver(() => document.querySelectorAll('video').forEach(watch))
    .observe(document, { childList: true, subtree: true });
}

async function register(i) {
  const name = `ff${Date.now().toString(36)}${i}`;
  const res = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: name, email: `${name}@example.com`, password: 'benchpassword1' }),
  });
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`);
  return (await res.json()).tokens;
}

const browser = await chromium.launch({
  executablePath: chrome,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (let n = 0; n < 2 * runs; n++) {
    const wait = n < runs ? 'settled' : 'at once';
    const i = (n % runs) + 1;
    const tokens = await register(n);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript((t) => {
      try { localStorage.setItem('luojia.tokens', t); } catch { /* about:blank */ }
    }, JSON.stringify(tokens));
    await context.addInitScript(probe);
    const page = await context.newPage();
    await page.goto(`${base}/movies/${movieId}`);
    const play = page.getByTestId('play');
    await page.locator('[data-testid="play"]:not([disabled])').waitFor();
    if (wait === 'settled') await page.waitForLoadState('networkidle');
    await play.click();
    await page.waitForURL(`**/watch/${movieId}`);
    await page.waitForFunction(() => {
      const t = window.__firstFrame;
      return t.click !== null && t.frame !== null && t.playing !== null;
    }, null, { timeout: 30_000 });
    const t = await page.evaluate(() => window.__firstFrame);
    console.log(JSON.stringify({
      label: 'first_frame', wait, run: i,
      first_frame_ms: Math.round(t.frame - t.click),
      playing_ms: Math.round(t.playing - t.click),
    }));
    console.error(`[first-frame] ${wait} run ${i}: first frame ${Math.round(t.frame - t.click)} ms, playing ${Math.round(t.playing - t.click)} ms`);
    await context.close();
  }
} finally {
  await browser.close();
}
