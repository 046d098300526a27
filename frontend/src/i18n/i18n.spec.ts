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

  it('leaves no Chinese text in components and code (it belongs in the locale files)', () => {
    const root = join(__dirname, '..');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'locales') walk(path);
        } else if (/\.(vue|ts)$/.test(entry.name) && !/\.spec\.ts$|\.d\.ts$/.test(entry.name)) {
          const code = readFileSync(path, 'utf8')
            .replace(/\/\*[\s\S]*?\*\//g, '')
            .replace(/\/\/.*$/gm, '')
            .replace(/<!--[\s\S]*?-->/g, '');
          if (/[\u4e00-\u9fff]/.test(code)) offenders.push(path.slice(root.length + 1));
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
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
