// Files in messages, as the console knows them: the server's limits
// (checked here first, so nothing doomed is uploaded), where a file and an
// image's thumbnail are fetched, a size in the manager's words, the box a
// thumbnail takes before it loads, and the line a list shows for a message
// that carries files and no text.

import { t, locale } from './i18n.js';

/** At most this many files in one message (the server's limit). */
export const MAX_FILES = 10;
/** The largest file, in MiB and in bytes (the server's limit). */
export const MAX_FILE_MIB = 20;
export const MAX_FILE_BYTES = MAX_FILE_MIB * 1024 * 1024;

/** The file itself: an image is shown, anything else saved under its name. */
export const fileUrl = (attachment) => `/api/v1/attachments/${encodeURIComponent(attachment.id)}`;
/** An image's small copy, for the message list. */
export const thumbnailUrl = (attachment) => fileUrl(attachment) + '/thumbnail';

/** Whether the server found it an image (it has a size in pixels and a thumbnail). */
export const isImage = (attachment) => attachment.width > 0 && attachment.height > 0;

/** "512 B", "14 KB", "1.2 MB", in the manager's language. */
export function formatSize(bytes) {
  const number = (value) => new Intl.NumberFormat(locale(), { maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
  if (bytes < 1024) return t('attachments.size_bytes', { size: number(bytes) });
  if (bytes < 1024 * 1024) return t('attachments.size_kb', { size: number(bytes / 1024) });
  return t('attachments.size_mb', { size: number(bytes / (1024 * 1024)) });
}

/**
 * The box an image's thumbnail is shown in: its proportions, at most
 * maxWidth wide and maxHeight high (a sliver of an image is cropped to at
 * least 48 px a side), so the thread does not jump when it loads.
 */
export function thumbnailBox(attachment, maxWidth = 240, maxHeight = 320) {
  const scale = Math.min(1, maxWidth / attachment.width, maxHeight / attachment.height);
  const width = Math.max(48, Math.round(attachment.width * scale));
  const height = Math.max(48, Math.round(attachment.height * scale));
  return { width, ratio: `${width} / ${height}` };
}

/** A message as a list's one line: its text, or "📎" and its first file's name (as the server's dialog preview). */
export function previewText(message) {
  const first = message.attachments?.[0];
  return !message.text && first ? '📎 ' + first.name : message.text;
}
