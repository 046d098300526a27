// vue-i18n with one JSON file per feature and language:
// locales/<lang>/<feature>.json becomes messages[<lang>][<feature>], so a feature adds its
// own file without touching anyone else's. `i18n.spec.ts` checks both languages hold the same keys.
import { createI18n } from 'vue-i18n';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';
const STORAGE_KEY = 'luojia.locale';

type Messages = Record<string, unknown>;

const files = import.meta.glob<Messages>('./locales/*/*.json', { eager: true, import: 'default' });

/** `{ 'zh-CN': { common: {...}, auth: {...} }, en: {...} }` from the glob above. */
export function mergeMessages(modules: Record<string, Messages>): Record<string, Messages> {
  const out: Record<string, Messages> = {};
  for (const [path, content] of Object.entries(modules)) {
    const match = /\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
    if (!match) continue;
    const [, locale, feature] = match as unknown as [string, string, string];
    (out[locale] ??= {})[feature] = content;
  }
  return out;
}

export const messages = mergeMessages(files);

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export function storedLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLocale(saved)) return saved;
  } catch {
    /* storage blocked: fall through */
  }
  return DEFAULT_LOCALE;
}

export function rememberLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    /* storage blocked: the choice lasts for this visit */
  }
}

/**
 * The app's date formats (`d(date, name)`), the same names in every language: `short` a
 * date, `time` hours and minutes, `dateTime` both, `day` a chat's day separator (with the
 * year: `dayYear`).
 */
const DATE_FORMATS = {
  short: { year: 'numeric', month: 'short', day: 'numeric' },
  time: { hour: '2-digit', minute: '2-digit' },
  dateTime: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' },
  day: { month: 'long', day: 'numeric', weekday: 'short' },
  dayYear: { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' },
} as const;

export const i18n = createI18n({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages: messages as never,
  datetimeFormats: { 'zh-CN': DATE_FORMATS, en: DATE_FORMATS },
  missingWarn: false,
  fallbackWarn: false,
});

/** Switch the language now, remember it, and tell the document. */
export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  rememberLocale(locale);
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}
