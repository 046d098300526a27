import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCALES, mergeMessages } from './index';

const dir = join(__dirname, 'locales');

function load(): Record<string, Record<string, unknown>> {
  const modules: Record<string, Record<string, unknown>> = {};
  for (const locale of readdirSync(dir)) {
    for (const file of readdirSync(join(dir, locale))) {
      if (!file.endsWith('.json')) continue;
      modules[`./locales/${locale}/${file}`] = JSON.parse(readFileSync(join(dir, locale, file), 'utf8'));
    }
  }
  return mergeMessages(modules);
}

function keys(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe('i18n', () => {
  const messages = load();

  it('has every supported language', () => {
    expect(Object.keys(messages).sort()).toEqual([...LOCALES].sort());
  });

  it('has the same keys in every language', () => {
    const [first, ...rest] = LOCALES;
    const reference = new Set(keys(messages[first]));
    for (const locale of rest) {
      const other = new Set(keys(messages[locale]));
      const missingHere = [...reference].filter((k) => !other.has(k));
      const missingThere = [...other].filter((k) => !reference.has(k));
      expect({ locale, missingHere, missingThere }).toEqual({ locale, missingHere: [], missingThere: [] });
    }
  });

  it('has no empty messages', () => {
    for (const locale of LOCALES) {
      const empty = keys(messages[locale]).filter((k) => {
        const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], messages[locale]);
        return typeof v !== 'string' || v.trim() === '';
      });
      expect({ locale, empty }).toEqual({ locale, empty: [] });
    }
  });

  it('translates every API error code', async () => {
    const schema = readFileSync(join(__dirname, '../api/schema.d.ts'), 'utf8');
    const match = /ErrorCode:\s*([^;]+);/.exec(schema);
    expect(match).not.toBeNull();
    const codes = [...(match?.[1] ?? '').matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(5);
    for (const locale of LOCALES) {
      const errors = (messages[locale]?.errors ?? {}) as Record<string, string>;
      expect({ locale, missing: codes.filter((c) => !(c! in errors)) }).toEqual({ locale, missing: [] });
    }
  });
});
