// Getting a manager's attention while the console is in a background tab:
// the number of dialogs waiting for them (theirs and unassigned ones with
// unread messages) in the tab's title and on its icon, and a desktop
// notification for a visitor's message when the manager allowed them on
// this computer (the choice is kept in localStorage).

import { effect } from './signals.js';
import * as store from './store.js';
import { contactDisplayName } from './format.js';
import { previewText } from './attachments.js';
import { paths, navigate } from './router.js';
import { t, language } from './i18n.js';

const DESKTOP_KEY = 'console.desktop';
const ICON_PATH = 'M9 10h14a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-8l-5 4v-4H9a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2z';

/** Dialogs waiting for me: open, mine or nobody's, with unread messages. */
export function waitingCount(dialogs, myId) {
  let count = 0;
  for (const dialog of dialogs.values()) {
    if (dialog.status === 'closed') continue;
    if (dialog.manager_id && dialog.manager_id !== myId) continue;
    if ((dialog.unread_count || 0) > 0) count += 1;
  }
  return count;
}

/** The tab's icon: the console's, with a red badge of `count` when there is one. */
export function iconFor(count) {
  const badge = count > 0
    ? `<circle cx='24' cy='8' r='8' fill='%23ef4444'/><text x='24' y='11.5' font-size='${count > 9 ? 9 : 11}' font-family='Arial' font-weight='700' text-anchor='middle' fill='white'>${count > 99 ? '99' : count}</text>`
    : '';
  return `data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%234f46e5'/%3E%3Cpath d='${ICON_PATH}' fill='white'/%3E${badge}%3C/svg%3E`;
}

/** Keeps the title (in the console's language) and the icon in step with the waiting dialogs. */
export function watchAttention() {
  const link = document.querySelector('link[rel="icon"]');
  let shown = null;
  effect(() => {
    const count = store.session.value.phase === 'signed_in' ? waitingCount(store.dialogs.value, store.me()?.id) : 0;
    const spoken = language.value;
    if (shown && count === shown.count && spoken === shown.spoken) return;
    shown = { count, spoken };
    const title = t('attention.title');
    document.title = count > 0 ? `(${count}) ${title}` : title;
    if (link) link.href = iconFor(count);
  });
  store.onIncomingVisitorMessage(notifyDesktop);
}

export function desktopSupported() {
  return 'Notification' in window;
}

/** `granted`, `denied` or `default` (not asked yet), or `off` when I turned them off here. */
export function desktopState() {
  if (!desktopSupported()) return 'unsupported';
  if (Notification.permission === 'granted' && readChoice() === 'off') return 'off';
  return Notification.permission;
}

/** Asks the browser (on a click) and remembers that I want them. */
export async function allowDesktop() {
  if (!desktopSupported()) return 'unsupported';
  writeChoice('on');
  return Notification.requestPermission();
}

export function turnDesktopOff() {
  writeChoice('off');
}

function notifyDesktop(message, dialog) {
  if (desktopState() !== 'granted' || !document.hidden) return;
  const title = t('attention.wrote', { name: contactDisplayName(dialog.contact_name, dialog.contact_id) });
  const notification = new Notification(title, { body: previewText(message).slice(0, 200), tag: `dialog-${dialog.id}` });
  notification.onclick = () => {
    window.focus();
    navigate(paths.dialog(dialog.id));
    notification.close();
  };
}

function readChoice() {
  try {
    return localStorage.getItem(DESKTOP_KEY);
  } catch {
    return null;
  }
}

function writeChoice(value) {
  try {
    localStorage.setItem(DESKTOP_KEY, value);
  } catch {
    // Private mode: the choice lasts this tab.
  }
}
