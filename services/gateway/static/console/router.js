// Hash routes of the console, parsed into { name, id? } and kept in a signal.
//   #/dialogs            inbox, no dialog open
//   #/dialogs/<id>       inbox with a dialog open
//   #/contacts/<id>      a contact (from the search), with "Write"
//   #/settings/templates | managers | sessions
//   #/invite/<token>     set a password from an invitation

import { signal } from './signals.js';

const SETTINGS_PAGES = new Set(['templates', 'managers', 'sessions']);

export function parseHash(hash = location.hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (first === 'dialogs' && second) return { name: 'dialog', id: second };
  if (first === 'contacts' && second) return { name: 'contact', id: second };
  if (first === 'settings') return { name: 'settings', page: SETTINGS_PAGES.has(second) ? second : 'templates' };
  if (first === 'invite' && second) return { name: 'invite', token: second };
  return { name: 'inbox' };
}

export const route = signal(parseHash());

window.addEventListener('hashchange', () => {
  route.value = parseHash();
});

export function navigate(hash) {
  if (location.hash === hash) route.value = parseHash(hash);
  else location.hash = hash;
}

export const paths = {
  inbox: () => '#/dialogs',
  dialog: (id) => `#/dialogs/${encodeURIComponent(id)}`,
  contact: (id) => `#/contacts/${encodeURIComponent(id)}`,
  settings: (page) => `#/settings/${page}`,
};
