// Lighthouse (accessibility, best practices, performance) of the app's pages, for the
// "frontend" benchmark scenario. Signed-in pages use a Chromium profile whose localStorage
// holds the user's tokens, the way the app keeps them.
//
//   node lighthouse.mjs BASE_URL TOKENS_JSON MOVIE_ID LIGHTHOUSE_BIN  -> JSON lines on stdout
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from '../../../e2e/node_modules/playwright-core/index.mjs';

const run = promisify(execFile);
const [base, tokensJson, movieId, lighthouse] = process.argv.slice(2);
const chrome = process.env.CHROME_PATH || '/usr/bin/chromium';

const pages = [
  { page: 'home', path: '/', signedIn: false },
  { page: 'browse', path: '/browse', signedIn: false },
  { page: 'movie', path: `/movies/${movieId}`, signedIn: false },
  { page: 'login', path: '/login', signedIn: false },
  { page: 'player', path: `/watch/${movieId}`, signedIn: true },
  { page: 'my history', path: '/me/history', signedIn: true },
];

// A profile with the tokens in localStorage (Lighthouse is told not to reset storage).
const profile = mkdtempSync(join(tmpdir(), 'luojia-lh-profile-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chrome,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
const p = await context.newPage();
await p.goto(`${base}/`);
await p.evaluate((t) => localStorage.setItem('luojia.tokens', t), tokensJson);
await context.close();

for (const { page, path, signedIn } of pages) {
  const out = join(profile, `${page.replace(' ', '-')}.json`);
  const flags = ['--headless=new', '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'];
  if (signedIn) flags.push(`--user-data-dir=${profile}`);
  await run(lighthouse, [`${base}${path}`, '--quiet', '--output=json', `--output-path=${out}`,
    '--only-categories=accessibility,best-practices,performance',
    ...(signedIn ? ['--disable-storage-reset'] : []),
    `--chrome-flags=${flags.join(' ')}`], { env: { ...process.env, CHROME_PATH: chrome }, maxBuffer: 1 << 26 });
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const score = (c) => Math.round((report.categories[c]?.score ?? 0) * 100);
  const failing = Object.values(report.categories)
    .filter((c) => c.id !== 'performance')
    .flatMap((c) => c.auditRefs.filter((r) => r.weight > 0 && (report.audits[r.id]?.score ?? 1) < 1).map((r) => r.id));
  console.log(JSON.stringify({
    label: 'lighthouse', page, path, final_url: report.finalDisplayedUrl ?? report.finalUrl,
    accessibility: score('accessibility'), best_practices: score('best-practices'), performance: score('performance'),
    lcp_ms: report.audits['largest-contentful-paint']?.numericValue ?? null, failing_audits: failing,
    lighthouse_version: report.lighthouseVersion,
  }));
}
rmSync(profile, { recursive: true, force: true });
