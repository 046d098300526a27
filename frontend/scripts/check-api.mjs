// Fails when src/api/schema.d.ts is not what `npm run gen:api` makes from ../openapi.yaml.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = new URL('..', import.meta.url);
const spec = new URL('../openapi.yaml', root);
const generated = astToString(await openapiTS(spec));
const current = readFileSync(fileURLToPath(new URL('src/api/schema.d.ts', root)), 'utf8');
// The CLI adds a header comment; compare the bodies.
const body = (s) => s.slice(s.indexOf('export '));
if (body(generated).trim() !== body(current).trim()) {
  console.error('src/api/schema.d.ts is stale: run `npm run gen:api` in frontend/ and commit it.');
  process.exit(1);
}
console.log('src/api/schema.d.ts is up to date');
