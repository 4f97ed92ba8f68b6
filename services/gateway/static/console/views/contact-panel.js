// The contact panel (right sidebar): the contact's details (name, e-mail,
// phone, custom fields, first and last seen, channels) and a second tab with
// the timeline of their events filtered by kind.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { signal, untracked } from '../signals.js';
import { contactDisplayName, channelLabel } from '../format.js';
import { contactAvatar, timeAgo, spinner, emptyState } from './common.js';
import { openContactEditor } from './contact-edit.js';
import { TIMELINE_KINDS } from './conversation.js';
import { t } from '../i18n.js';

export function mountContactPanel(container, scope) {
  const panel = h('aside', { class: 'contact-panel', 'aria-label': t('contact_panel.contact') });
  container.append(panel);
  // Which contact: the open dialog's, or the one routed to. Re-rendered only when it changes.
  const contactId = signal(null);
  scope.effect(() => {
    store.route.value;
    store.thread.value;
    store.dialogs.value;
    contactId.value = untracked(() => store.currentContactId());
  });
  scope.effect(() => {
    const id = contactId.value;
    const contact = id ? store.contacts.value.get(id) : null;
    const tab = store.contactPanelTab.value;
    const timeline = tab === 'timeline' ? store.timeline.value : null;
    untracked(() => renderPanel(panel, id, contact, tab, timeline));
  });
}

function renderPanel(panel, contactId, contact, tab, timeline) {
  if (!contactId) return setChildren(panel);
  const tabs = h(
    'div',
    { class: 'panel-tabs', role: 'tablist' },
    tabButton('details', t('contact_panel.details'), tab, () => { store.contactPanelTab.value = 'details'; }),
    tabButton('timeline', t('contact_panel.timeline'), tab, () => store.showTimeline(store.timeline.peek().contactId === contactId ? store.timeline.peek().kind : '')),
    h('button', { type: 'button', class: 'icon-button panel-close', 'aria-label': t('contact_panel.hide'), onclick: () => document.body.classList.remove('show-contact-panel') }, icon('x')),
  );
  const body = h('div', { class: 'panel-body' });
  if (!contact) body.append(spinner(t('contact_panel.loading')));
  else if (tab === 'timeline') renderTimeline(body, contactId, timeline);
  else renderDetails(body, contact);
  setChildren(panel, tabs, body);
}

function tabButton(value, label, current, onclick) {
  return h('button', { type: 'button', role: 'tab', class: ['panel-tab', current === value && 'is-selected'], 'aria-selected': String(current === value), dataset: { tab: value }, onclick }, label);
}

function renderDetails(body, contact) {
  const name = contactDisplayName(contact.name, contact.id);
  const custom = Object.entries(contact.custom_fields || {});
  body.append(
    h(
      'div',
      { class: 'contact-card' },
      contactAvatar(contact.name, contact.id, { size: 'lg' }),
      h('div', { class: 'contact-card-name', dataset: { field: 'name' } }, name),
      contact.email ? h('div', { class: 'contact-card-sub' }, contact.email) : null,
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'edit-contact' }, onclick: () => openContactEditor(contact.id) }, icon('edit'), t('contact_edit.title')),
    ),
    h(
      'section',
      { class: 'panel-section' },
      h('h3', {}, t('conversation.contact_details')),
      detailRow('mail', t('login.email'), contact.email, 'email'),
      detailRow('phone', t('contact_edit.phone'), contact.phone, 'phone'),
      h('div', { class: 'detail-row' }, icon('clock'), h('span', { class: 'detail-label' }, t('contact_panel.first_seen')), h('span', { class: 'detail-value' }, contact.first_seen_at ? timeAgo(contact.first_seen_at, { long: true }) : '—')),
      h('div', { class: 'detail-row' }, icon('eye'), h('span', { class: 'detail-label' }, t('contact_panel.last_seen')), h('span', { class: 'detail-value' }, contact.last_seen_at ? timeAgo(contact.last_seen_at, { long: true }) : '—')),
      h(
        'div',
        { class: 'detail-row' },
        icon('globe'),
        h('span', { class: 'detail-label' }, t('contact_panel.channels')),
        h('span', { class: 'detail-value chips' }, (contact.channels || []).length ? contact.channels.map((channel) => h('span', { class: 'chip' }, channelLabel(channel))) : '—'),
      ),
    ),
    h(
      'section',
      { class: 'panel-section' },
      h('h3', {}, t('contact_edit.custom_fields')),
      custom.length
        ? h('dl', { class: 'custom-fields' }, custom.map(([key, value]) => [h('dt', {}, key), h('dd', {}, String(value))]))
        : h('div', { class: 'panel-muted' }, t('contact_panel.no_custom_fields')),
    ),
  );
}

function detailRow(iconName, label, value, fieldName) {
  return h(
    'div',
    { class: 'detail-row' },
    icon(iconName),
    h('span', { class: 'detail-label' }, label),
    h('span', { class: ['detail-value', 'is-single-line', !value && 'is-empty'], title: value || '', dataset: { field: fieldName } }, value || t('contact_panel.not_set')),
  );
}

const KIND_ICONS = Object.fromEntries(TIMELINE_KINDS.map(({ kind, icon: iconName }) => [kind, iconName]));
const KINDS = Object.fromEntries(TIMELINE_KINDS.map((option) => [option.kind, option]));

function renderTimeline(body, contactId, timeline) {
  const kind = timeline?.contactId === contactId ? timeline.kind : '';
  body.append(
    h(
      'div',
      { class: 'timeline-filters', role: 'radiogroup', 'aria-label': t('contact_panel.event_kind') },
      TIMELINE_KINDS.map((option) =>
        h('button', {
          type: 'button', role: 'radio', class: ['filter-chip', option.kind === kind && 'is-selected'],
          'aria-checked': String(option.kind === kind), dataset: { kind: option.kind || 'all' },
          onclick: () => store.showTimeline(option.kind),
        }, t(option.label)),
      ),
    ),
  );
  if (!timeline || timeline.contactId !== contactId) {
    body.append(spinner(t('contact_panel.loading_events')));
    return;
  }
  if (timeline.events.length === 0 && timeline.loading) return body.append(spinner(t('contact_panel.loading_events')));
  if (timeline.error && timeline.events.length === 0) return body.append(emptyState('alert', t('contact_panel.events_failed'), timeline.error));
  if (timeline.events.length === 0) return body.append(emptyState(KIND_ICONS[kind] || 'clock', t('contact_panel.no_events'), t(KINDS[kind].empty)));
  body.append(
    h(
      'ol',
      { class: 'timeline' },
      timeline.events.map((event) =>
        h(
          'li',
          { class: 'timeline-event', dataset: { kind: event.kind } },
          h('span', { class: 'timeline-icon' }, icon(KIND_ICONS[event.kind] || 'clock')),
          h('div', { class: 'timeline-body' }, h('div', { class: 'timeline-summary' }, event.summary), h('div', { class: 'timeline-meta' }, KINDS[event.kind] ? t(KINDS[event.kind].label) : event.kind, ' · ', timeAgo(event.occurred_at, { long: true }))),
        ),
      ),
    ),
  );
  if (timeline.loading) body.append(spinner(t('dialog_list.loading_more')));
  else if (timeline.nextCursor) body.append(h('button', { type: 'button', class: 'btn btn-ghost btn-block', onclick: () => store.loadMoreTimeline() }, t('contact_panel.show_older')));
}

