// The console's words and formats. Every string a manager reads is in a
// catalogue, one per language (i18n/<language>.json), by key: sections by
// screen, each string once. t('section.key', {name}) fills placeholders;
// plural('section.key', count) picks the form by Intl.PluralRules; times and
// dates go through Intl in the manager's language. The language is the one
// the manager chose (GET /api/v1/me), else the browser's when the console
// has it, else English; changing it re-renders the whole screen.

import en from './i18n/en.json' with { type: 'json' };
import ru from './i18n/ru.json' with { type: 'json' };
import { signal } from './signals.js';

/** The languages the console speaks, each named in itself. */
export const LANGUAGES = [
  { value: 'en', label: 'English' }, // in every language
  { value: 'ru', label: 'Русский' }, // in every language
];

const CATALOGUES = { en, ru };
/** Where a choice made before signing in is kept (this browser only). */
const STORAGE_KEY = 'console.language';

/** The language the console speaks now. */
export const language = signal(initialLanguage());

function initialLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage refused: the browser's language.
  }
  return CATALOGUES[stored] ? stored : browserLanguage();
}

/** The first of the browser's languages the console has, else English. */
export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language]) {
    const code = String(tag || '').toLowerCase().split('-')[0];
    if (CATALOGUES[code]) return code;
  }
  return 'en';
}

/** Speaks `code` from now on (null: the browser's language), here and in this browser's later visits. */
export function setLanguage(code) {
  const next = CATALOGUES[code] ? code : browserLanguage();
  try {
    if (CATALOGUES[code]) localStorage.setItem(STORAGE_KEY, code);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Kept for this page only.
  }
  document.documentElement.lang = next;
  language.value = next;
}
document.documentElement.lang = language.peek();

/** The locale for Intl: the browser's own tag when it is of this language (en-GB has 24-hour times), else the language. */
export function locale() {
  const current = language.peek();
  for (const tag of navigator.languages || [navigator.language]) {
    if (String(tag || '').toLowerCase().split('-')[0] === current) return tag;
  }
  return current;
}

function lookup(key) {
  const find = (catalogue) => key.split('.').reduce((node, part) => (node == null ? node : node[part]), catalogue);
  const words = find(CATALOGUES[language.peek()]);
  return words == null ? find(CATALOGUES.en) : words;
}

function fill(words, values) {
  return String(words).replace(/\{(\w+)\}/g, (all, name) => (values && values[name] != null ? String(values[name]) : all));
}

/** The words for key in the current language, with {placeholders} filled from values. */
export function t(key, values) {
  const words = lookup(key);
  if (words == null || typeof words === 'object') return key;
  return fill(words, values);
}

/** The plural form of key for count ({count} and other placeholders filled). */
export function plural(key, count, values = {}) {
  const forms = lookup(key);
  if (!forms || typeof forms !== 'object') return key;
  const words = forms[new Intl.PluralRules(locale()).select(count)] ?? forms.other;
  return fill(words, { ...values, count: new Intl.NumberFormat(locale()).format(count) });
}

/** Whether the catalogue has key (for codes the server may send that the console does not know). */
export function has(key) {
  return typeof lookup(key) === 'string';
}
