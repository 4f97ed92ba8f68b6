// Hash routes of the console, parsed into { name, id? } and kept in a signal.
//   #/dialogs            inbox, no dialog open
//   #/dialogs/<id>       inbox with a dialog open
//   ...?in=new&status=closed&manager=<id>   the inbox's list, on either (a
//                        reload or a shared link shows the same category)
//   #/contacts/<id>      a contact (from the search), with "Write"
//   #/visitors           who is on the shop's site now
//   #/settings/templates | managers | notifications | blocks | sessions | widget | integrations
//   #/invite/<token>     set a password from an invitation
//   #/forgot             ask for a link to set a new password
//   #/reset/<token>      set a new password from that link
//   #/unsubscribe/<token> stop alert e-mails (an alert's unsubscribe link)

import { signal } from './signals.js';

const SETTINGS_PAGES = new Set(['integrations', 'templates', 'managers', 'notifications', 'blocks', 'sessions', 'widget']);

/** The inbox's list named in a route's query, or null: { category, status, managerId }. */
function listOf(query) {
  const parameters = new URLSearchParams(query || '');
  const category = parameters.get('in');
  if (!['mine', 'all', 'new', 'manager'].includes(category)) return null;
  const managerId = parameters.get('manager');
  if (category === 'manager' && !managerId) return null;
  const status = parameters.get('status') === 'closed' ? 'closed' : 'open';
  return { category, status, managerId: category === 'manager' ? managerId : null };
}

/** The query naming a list, for the inbox's routes. */
export function listQuery({ category, status, managerId }) {
  const parameters = new URLSearchParams({ in: category });
  if (category === 'manager' && managerId) parameters.set('manager', managerId);
  if (status === 'closed') parameters.set('status', status);
  return `?${parameters}`;
}

let shownList = '';

/** The inbox's list now: its routes carry it from here on. */
export function showList(list) {
  shownList = listQuery(list);
  const [path, query = ''] = location.hash.split('?');
  if ((path === '#/dialogs' || path.startsWith('#/dialogs/') || path === '') && `?${query}` !== shownList) {
    history.replaceState(history.state, '', `${location.pathname}${location.search}${path || '#/dialogs'}${shownList}`);
    shownHash = location.hash;
  }
}

export function parseHash(hash = location.hash) {
  const [path, query] = hash.split('?');
  const parts = path.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  const list = listOf(query);
  if (first === 'dialogs' && second) return { name: 'dialog', id: second, list };
  if (first === 'contacts' && second) return { name: 'contact', id: second };
  if (first === 'visitors') return { name: 'visitors' };
  if (first === 'settings') return { name: 'settings', page: SETTINGS_PAGES.has(second) ? second : 'widget' };
  if (first === 'invite' && second) return { name: 'invite', token: second };
  if (first === 'reset' && second) return { name: 'reset', token: second };
  if (first === 'forgot') return { name: 'forgot' };
  if (first === 'unsubscribe' && second) return { name: 'unsubscribe', token: second };
  return { name: 'inbox', list };
}

export const route = signal(parseHash());

// A page with unsaved changes may hold a route change back: the guard
// answers whether to leave now; when it says no, the address goes back to
// the page's own, and the guard calls navigate() itself once the manager
// has confirmed.
let shownHash = location.hash;
let leaveGuard = null;

export function setLeaveGuard(guard) {
  leaveGuard = guard;
  return () => {
    if (leaveGuard === guard) leaveGuard = null;
  };
}

window.addEventListener('hashchange', () => {
  const next = parseHash();
  if (leaveGuard && !leaveGuard(location.hash)) {
    history.replaceState(history.state, '', shownHash || location.pathname + location.search);
    return;
  }
  shownHash = location.hash;
  route.value = next;
});

export function navigate(hash) {
  if (location.hash === hash) route.value = parseHash(hash);
  else location.hash = hash;
}

export const paths = {
  inbox: () => `#/dialogs${shownList}`,
  dialog: (id) => `#/dialogs/${encodeURIComponent(id)}${shownList}`,
  contact: (id) => `#/contacts/${encodeURIComponent(id)}`,
  visitors: () => '#/visitors',
  settings: (page) => `#/settings/${page}`,
};
