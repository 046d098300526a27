// JavaScript and CSS each route ships, gzip-compressed, from the build's manifest:
//   npm run build && node scripts/bundle-report.mjs [--check | --json]
// "landing" is what `/` loads before anything is clicked: the entry, its static imports and
// the home view. Other rows count what a route adds on top of the entry. With --check, fails
// when the landing route ships more than 200 KB of gzip JavaScript, or when the player or admin
// code is part of the entry.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('.vite/manifest.json', dist), 'utf8'));
const size = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;

/** Every chunk key a chunk needs before it runs (static imports, transitively). */
function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const dep of manifest[key]?.imports ?? []) closure(dep, seen);
  return seen;
}

function weigh(keys) {
  let js = 0;
  let css = 0;
  const files = new Set();
  for (const k of keys) {
    const chunk = manifest[k];
    if (!chunk) continue;
    if (!files.has(chunk.file)) {
      files.add(chunk.file);
      js += size(chunk.file);
    }
    for (const c of chunk.css ?? []) {
      if (!files.has(c)) {
        files.add(c);
        css += size(c);
      }
    }
  }
  return { js, css };
}

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
const entry = closure(entryKey);
const views = Object.keys(manifest).filter((k) => /src\/views\/.*View\.vue$/.test(k)).sort();
const kb = (n) => (n / 1024).toFixed(1);

const rows = [['entry (every route)', weigh(entry)]];
for (const v of views) {
  const extra = [...closure(v)].filter((k) => !entry.has(k));
  rows.push([v.replace('src/views/', ''), weigh(extra)]);
}
const home = views.find((v) => v.endsWith('/HomeView.vue'));
const landing = weigh(new Set([...entry, ...closure(home)]));

if (process.argv.includes('--json')) {
  // One JSON line per row, for the benchmark report (scripts/bench/frontend.sh).
  const line = (route, w, extra = {}) =>
    console.log(JSON.stringify({ label: 'bundle', route, js_gzip: w.js, css_gzip: w.css, ...extra }));
  line('landing', landing, { entry_has: ['artplayer', 'hls.js', 'views/admin', 'components/player'].filter((h) => [...entry].join(' ').includes(h)) });
  for (const [name, w] of rows) line(name, w);
  process.exit(0);
}

console.log('| route | JS gzip (KB) | CSS gzip (KB) |');
console.log('|---|---:|---:|');
console.log(`| **landing \`/\`** (entry + home) | **${kb(landing.js)}** | **${kb(landing.css)}** |`);
for (const [name, w] of rows) console.log(`| ${name} | +${kb(w.js)} | +${kb(w.css)} |`);

if (process.argv.includes('--check')) {
  const problems = [];
  if (landing.js > 200 * 1024) problems.push(`landing route ships ${kb(landing.js)} KB gzip JS (limit 200)`);
  const entrySources = [...entry].join(' ');
  for (const heavy of ['artplayer', 'hls.js', 'views/admin', 'components/player']) {
    if (entrySources.includes(heavy)) problems.push(`${heavy} is part of the entry chunk`);
  }
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
}
