// Visitors on the site (#/visitors): who has a page with the widget open
// now, live from the manager socket (visitor_online / visitor_offline): the
// name or an anonymous label, the page they are on, how long they have been
// on the site (ticking), pages seen and open tabs. "Start dialog" opens a
// small composer in the row; its message goes to the visitor's contact and
// the dialog opens in the inbox.

import { h, setChildren, reconcile } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { describeError } from '../api.js';
import { paths } from '../router.js';
import { contactDisplayName, newClientMessageId } from '../format.js';
import { contactAvatar, spinner, emptyState, submitOnEnter, whileBusy } from './common.js';
import { t, plural, locale } from '../i18n.js';

const DURATION_TICK_MS = 5_000;

export function mountVisitors(container, scope) {
  const countLine = h('p', { class: 'page-description' });
  const body = h('div', { class: 'visitors-body' });
  container.append(
    h('section', { class: 'visitors-page', 'aria-label': t('sidebar.visitors') },
      h('header', { class: 'visitors-header' }, h('div', {}, h('h1', {}, t('sidebar.visitors')), countLine)),
      h('div', { class: 'visitors-scroll' }, body),
    ),
  );

  const rows = h('div', { class: 'visitor-rows', role: 'rowgroup' });
  const table = h('div', { class: 'table-card visitors-table', role: 'table', 'aria-label': t('visitors.table_label') },
    h('div', { class: 'visitor-grid visitor-head', role: 'row' },
      ['visitors.visitor', 'visitors.current_page', 'visitors.on_site', 'visitors.pages', 'visitors.tabs'].map((label) => h('span', { role: 'columnheader' }, t(label))),
      h('span', { role: 'columnheader' }, h('span', { class: 'visually-hidden' }, t('visitors.actions'))),
    ),
    rows,
  );
  // Rows whose composer is open stay when their visitor leaves, so a half-written message is not lost.
  const composing = new Map();
  const view = { rows, composing, rerender: () => render(store.visitors.peek()) };

  const render = (state) => {
    const list = store.sortedVisitors(state.byId);
    countLine.textContent = !state.loaded ? t('visitors.intro')
      : list.length === 0 ? t('visitors.nobody_now')
      : plural('visitors.on_site_now', list.length);
    if (!state.loaded && state.error) {
      return setChildren(body, emptyState('alert', t('visitors.load_failed'), state.error,
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => store.loadVisitors() }, t('app.try_again'))));
    }
    if (!state.loaded) return setChildren(body, spinner(t('visitors.loading')));
    const gone = [...composing.keys()].filter((id) => !state.byId.has(id)).map((id) => ({ ...composing.get(id).visitor, gone: true }));
    const items = [...list, ...gone];
    if (items.length === 0) {
      return setChildren(body, emptyState('globe', t('visitors.nobody_title'), t('visitors.nobody_text'),
        h('a', { class: 'btn btn-secondary', href: paths.settings('widget') }, icon('code'), t('visitors.get_snippet'))));
    }
    if (body.firstChild !== table) setChildren(body, table);
    reconcile(rows, items, (visitor) => visitor.contact_id, (visitor) => visitorRow(visitor, view), (element, visitor) => updateRow(element, visitor));
  };

  scope.effect(() => {
    const state = store.visitors.value;
    untracked(() => render(state));
  });
  const ticker = setInterval(() => {
    for (const element of body.querySelectorAll('.visitor-duration[data-since]')) element.textContent = timeOnSite(element.dataset.since);
  }, DURATION_TICK_MS);
  scope.onDispose(() => clearInterval(ticker));
  if (!store.visitors.peek().loaded && !store.visitors.peek().loading) store.loadVisitors();
}

// ---------------------------------------------------------------- rows

function visitorRow(visitor, view) {
  const cells = h('div', { class: 'visitor-grid visitor-cells', role: 'row' });
  const composerSlot = h('div', { class: 'visitor-composer', hidden: true });
  const element = h('div', { class: 'visitor-row', dataset: { contactId: visitor.contact_id } }, cells, composerSlot);
  element.__view = view;
  element.__cells = cells;
  element.__composerSlot = composerSlot;
  updateRow(element, visitor);
  return element;
}

/** Rebuilds a row's cells only when what they show has changed; the composer stays as it is. */
function updateRow(element, visitor) {
  const signature = JSON.stringify([visitor.name, visitor.email, visitor.label, visitor.page_url, visitor.page_title, visitor.visit_started_at, visitor.pages_seen, visitor.tabs, Boolean(visitor.gone)]);
  element.__visitor = visitor;
  const composing = element.__view.composing;
  if (!visitor.gone && composing.has(visitor.contact_id)) composing.set(visitor.contact_id, { visitor });
  if (element.__signature === signature) return;
  element.__signature = signature;
  element.classList.toggle('is-gone', Boolean(visitor.gone));
  const name = visitorName(visitor);
  const startButton = h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'start-dialog' }, onclick: () => openComposer(element) }, icon('chat'), t('visitors.start_dialog'));
  setChildren(
    element.__cells,
    h('div', { class: 'visitor-who', role: 'cell' },
      contactAvatar(visitor.name, visitor.contact_id, { size: 'sm', online: !visitor.gone }),
      h('div', { class: 'visitor-who-text' },
        h('div', { class: ['visitor-name', !(visitor.name || '').trim() && 'is-anonymous'] }, name),
        h('div', { class: 'visitor-email' }, visitor.gone ? t('visitors.left') : visitor.email || t('visitors.no_email')),
      ),
    ),
    h('div', { class: 'visitor-page', role: 'cell' }, pageCell(visitor)),
    h('div', { class: 'visitor-time', role: 'cell' },
      visitor.gone ? '—' : h('span', { class: 'visitor-duration', dataset: { since: visitor.visit_started_at || '' }, title: visitor.visit_started_at ? t('visitors.since', { time: new Date(visitor.visit_started_at).toLocaleTimeString(locale()) }) : '' }, timeOnSite(visitor.visit_started_at))),
    h('div', { class: 'visitor-number', role: 'cell', dataset: { field: 'pages' } }, String(visitor.pages_seen ?? '—')),
    h('div', { class: 'visitor-number', role: 'cell', dataset: { field: 'tabs' } }, String(visitor.tabs ?? '—')),
    h('div', { class: 'visitor-actions', role: 'cell' }, startButton),
  );
}

function pageCell(visitor) {
  const url = httpUrl(visitor.page_url);
  return [
    h('div', { class: 'visitor-page-title' }, visitor.page_title || t('visitors.untitled')),
    url
      ? h('a', { class: 'visitor-page-url', href: url, target: '_blank', rel: 'noopener', title: visitor.page_url }, h('span', {}, visitor.page_url), icon('external'))
      : h('span', { class: 'visitor-page-url' }, visitor.page_url || '—'),
  ];
}

/** Only http(s) addresses become links: a page address comes from the visitor's browser. */
function httpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Their name, else "Visitor 4F2A" in the manager's language (the server's `label` is English). */
function visitorName(visitor) {
  return contactDisplayName(visitor.name, visitor.contact_id);
}

/** "40 s", "12 min", "1 h 05 min". */
export function timeOnSite(since, now = Date.now()) {
  const started = Date.parse(since);
  if (!started) return '—';
  const seconds = Math.max(0, Math.floor((now - started) / 1000));
  if (seconds < 60) return t('visitors.seconds', { count: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t('visitors.minutes', { count: minutes });
  return t('visitors.hours_minutes', { hours: Math.floor(minutes / 60), minutes: String(minutes % 60).padStart(2, '0') });
}

// ---------------------------------------------------------------- start a dialog

function openComposer(element) {
  const slot = element.__composerSlot;
  const view = element.__view;
  const contactId = element.__visitor.contact_id;
  if (!slot.hidden) {
    slot.querySelector('textarea')?.focus();
    return;
  }
  const textarea = h('textarea', { class: 'composer-input', rows: 2, 'aria-label': t('contact_view.first_message'), placeholder: t('visitors.write_to', { name: visitorName(element.__visitor) }) });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary btn-small', dataset: { action: 'send-first' } }, h('span', {}, t('composer.send')), icon('send'));
  const close = () => {
    view.composing.delete(contactId);
    slot.hidden = true;
    slot.replaceChildren();
    element.classList.remove('is-composing');
    view.rerender();
  };
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: close }, t('common.cancel'));
  const form = h('form', { class: 'composer inline-composer' },
    textarea,
    error,
    h('div', { class: 'composer-bar' }, h('span', { class: 'composer-hint' }, t('visitors.hint')), cancel, send),
  );
  // One id per text: a retry of the same text is stored once.
  let clientMessageId = newClientMessageId();
  textarea.addEventListener('input', () => {
    clientMessageId = newClientMessageId();
  });
  const submit = async () => {
    const text = textarea.value.trim();
    if (!text || send.disabled) return;
    error.textContent = '';
    try {
      await whileBusy(send, store.writeToContact(contactId, text, clientMessageId));
      view.composing.delete(contactId);
    } catch (failure) {
      error.textContent = failure.fields?.text || describeError(failure);
    }
  };
  submitOnEnter(form, textarea, submit, close);
  view.composing.set(contactId, { visitor: element.__visitor });
  element.classList.add('is-composing');
  slot.append(form);
  slot.hidden = false;
  textarea.focus();
}
