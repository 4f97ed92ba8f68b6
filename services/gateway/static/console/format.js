// Formatting of names, initials, colours and times for display, in the
// manager's language (i18n.js): times and dates by Intl.

import { t, locale } from './i18n.js';

const SHORT_ID_LENGTH = 4;

/**
 * The contact's name, or "Visitor 4F2A" when the name is empty: the label
 * the server gives a visitor on the site (GET /visitors), so that one visitor
 * reads the same in the visitors list and the inbox. The short id is the end
 * of the contact's id: ids are UUIDv7, whose start is a time shared by every
 * visitor of the same minute.
 */
export function contactDisplayName(name, contactId) {
  const trimmed = (name || '').trim();
  if (trimmed) return trimmed;
  return t('format.visitor', { id: String(contactId || '').replace(/-/g, '').slice(-SHORT_ID_LENGTH).toUpperCase() });
}

/** Up to two initials of a name ("Anna Petrova" → "AP"); "?" when empty. */
export function initials(name) {
  // The first letter (or digit) of the first and last words; punctuation and
  // markup-like characters are no one's initial.
  const letter = (word) => Array.from(word).find((c) => /[\p{L}\p{N}]/u.test(c)) || '';
  const words = String(name || '').trim().split(/\s+/).filter((word) => letter(word));
  if (words.length === 0) return '?';
  const first = letter(words[0]);
  const second = words.length > 1 ? letter(words[words.length - 1]) : '';
  return (first + second).toUpperCase();
}

const AVATAR_HUES = [210, 260, 330, 20, 160, 190, 290, 40, 120, 0];

/** A stable pastel colour pair for an id, for avatars. */
export function avatarColors(seed) {
  let hash = 0;
  for (const char of String(seed || '')) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const hue = AVATAR_HUES[hash % AVATAR_HUES.length];
  return { background: `hsl(${hue} 70% 92%)`, color: `hsl(${hue} 45% 35%)` };
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Short relative time for lists: "now", "5m", "3h", "Yesterday", "Mon", "12 Mar", "12 Mar 2024". */
export function relativeTime(value, now = Date.now()) {
  if (!value) return '';
  const time = new Date(value);
  const elapsed = now - time.getTime();
  if (elapsed < MINUTE) return t('format.now');
  if (elapsed < HOUR) return t('format.minutes_short', { count: Math.floor(elapsed / MINUTE) });
  if (isSameDay(time, new Date(now))) return t('format.hours_short', { count: Math.floor(elapsed / HOUR) });
  if (isSameDay(time, new Date(now - DAY))) return t('format.yesterday');
  if (elapsed < 6 * DAY) return time.toLocaleDateString(locale(), { weekday: 'short' });
  const sameYear = time.getFullYear() === new Date(now).getFullYear();
  return time.toLocaleDateString(locale(), sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

/** Longer relative time for details: "just now", "5 minutes ago", "3 hours ago", else a date. */
export function relativeTimeLong(value, now = Date.now()) {
  if (!value) return '—';
  const elapsed = now - new Date(value).getTime();
  if (elapsed < MINUTE) return t('format.just_now');
  const ago = new Intl.RelativeTimeFormat(locale(), { numeric: 'always' });
  if (elapsed < HOUR) return ago.format(-Math.floor(elapsed / MINUTE), 'minute');
  if (elapsed < DAY) return ago.format(-Math.floor(elapsed / HOUR), 'hour');
  if (elapsed < 7 * DAY) return ago.format(-Math.floor(elapsed / DAY), 'day');
  return dateTime(value);
}

export function clockTime(value) {
  return new Date(value).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
}

export function dateTime(value) {
  if (!value) return '—';
  return new Date(value).toLocaleString(locale(), { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Label for the day separators of a conversation: "Today", "Yesterday", "Wednesday, 12 March 2025". */
export function dayLabel(value, now = Date.now()) {
  const time = new Date(value);
  if (isSameDay(time, new Date(now))) return t('format.today');
  if (isSameDay(time, new Date(now - DAY))) return t('format.yesterday');
  return time.toLocaleDateString(locale(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

export function dayKey(value) {
  const time = new Date(value);
  return `${time.getFullYear()}-${time.getMonth() + 1}-${time.getDate()}`;
}

function isSameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A channel's name: "Site chat", "E-mail", "Telegram", ... (an unknown one as it is). */
export function channelLabel(channel) {
  return ['site', 'email', 'telegram', 'vk', 'facebook'].includes(channel) ? t(`channels.${channel}`) : String(channel || '');
}

/** A role's name: "Owner", "Admin", "Manager". */
export function roleLabel(role) {
  return ['owner', 'admin', 'manager'].includes(role) ? t(`roles.${role}`) : String(role || '');
}

/** A new id for a message the console sends (the server dedupes on it). */
export function newClientMessageId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** "Chrome 126 on Windows" from a User-Agent; anything else is shown as it is. */
export function describeDevice(device) {
  const text = String(device || '').trim();
  if (!text) return t('format.unknown_device');
  if (!/^Mozilla\//.test(text)) return text;
  const browser =
    match(text, /Edg(?:e|A|iOS)?\/(\d+)/, 'Edge') ||
    match(text, /OPR\/(\d+)/, 'Opera') ||
    match(text, /YaBrowser\/(\d+)/, 'Yandex Browser') || // in every language
    match(text, /Firefox\/(\d+)/, 'Firefox') ||
    match(text, /(?:Headless)?Chrome\/(\d+)/, /HeadlessChrome/.test(text) ? 'Headless Chrome' : 'Chrome') || // in every language
    match(text, /Version\/(\d+).*Safari/, 'Safari') ||
    t('format.browser');
  const system =
    (/iPhone|iPad/.test(text) && 'iOS') ||
    (/Android/.test(text) && 'Android') ||
    (/Windows/.test(text) && 'Windows') ||
    (/Mac OS X/.test(text) && 'macOS') ||
    (/CrOS/.test(text) && 'ChromeOS') ||
    (/Linux/.test(text) && 'Linux') ||
    null;
  return system ? t('format.browser_on_system', { browser, system }) : browser;
}

function match(text, pattern, name) {
  const found = pattern.exec(text);
  return found ? `${name} ${found[1]}` : null;
}
