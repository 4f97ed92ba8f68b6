// The middle column: the dialogs of the chosen category and status (live,
// paged by next_cursor when scrolled to the bottom), ticked to close or mark
// as spam many at once, or the contacts found by the search bar.

import { h, setChildren, reconcile } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { createScope, untracked } from '../signals.js';
import { paths } from '../router.js';
import { contactDisplayName, channelLabel } from '../format.js';
import { contactAvatar, timeAgo, spinner, emptyState, iconButton, confirmAction } from './common.js';
import { t, plural } from '../i18n.js';

const LOAD_MORE_THRESHOLD_PX = 240;

const CATEGORY_TITLES = { mine: 'sidebar.mine', all: 'dialog_list.all_dialogs', new: 'sidebar.new' };

export function mountDialogList(container, scope) {
  const column = h('section', { class: 'list-column', 'aria-label': t('dialog_list.list_label') });
  container.append(column);
  let modeScope = createScope();
  scope.onDispose(() => modeScope.dispose());
  scope.effect(() => {
    const search = store.search.value;
    const current = store.route.value;
    if (search.open) {
      modeScope.dispose();
      column.dataset.mode = 'search';
      untracked(() => renderSearch(column, search, current));
    } else if (column.dataset.mode !== 'dialogs') {
      modeScope.dispose();
      modeScope = createScope();
      column.dataset.mode = 'dialogs';
      untracked(() => renderDialogs(column, modeScope));
    }
  });
}

// ---------------------------------------------------------------- dialogs

function renderDialogs(column, scope) {
  const title = h('h2', { class: 'list-title' });
  const subtitle = h('div', { class: 'list-subtitle' });
  const items = h('div', { class: 'dialog-items', role: 'list' });
  const footer = h('div', { class: 'list-footer' });
  const scroller = h('div', { class: 'list-scroll' }, items, footer);
  const bulkBar = h('div', { class: 'bulk-bar', role: 'toolbar', 'aria-label': t('dialog_list.selected_dialogs'), hidden: true });
  setChildren(column, h('header', { class: 'list-header' }, h('div', {}, title, subtitle)), bulkBar, scroller);
  scope.effect(() => renderBulkBar(bulkBar, store.selectedDialogs.value));
  // Another list, another selection.
  scope.effect(() => {
    store.filter.value;
    untracked(() => store.clearSelection());
  });

  const maybeLoadMore = () => {
    if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < LOAD_MORE_THRESHOLD_PX) store.loadMoreDialogs();
  };
  scroller.addEventListener('scroll', maybeLoadMore, { passive: true });

  scope.effect(() => {
    const filter = store.filter.value;
    const counts = store.counts.value;
    title.textContent = listTitle(filter, store.managers.value);
    const count = counts ? countFor(filter, counts) : null;
    subtitle.textContent = t(filter.status === 'open' ? 'sidebar.open' : 'sidebar.closed') + (count === null ? '' : ` · ${count}`);
  });

  scope.effect(() => {
    const list = store.dialogList.value;
    const map = store.dialogs.value;
    const current = store.route.value;
    const managers = store.managers.value;
    const selected = store.selectedDialogs.value;
    const activeId = current.name === 'dialog' ? current.id : null;
    const rows = list.ids.map((id) => map.get(id)).filter(Boolean);
    items.classList.toggle('is-selecting', selected.size > 0);
    reconcile(
      items,
      rows,
      (dialog) => dialog.id,
      (dialog) => dialogItem(dialog, activeId, managers, selected),
      (element, dialog) => updateDialogItem(element, dialog, activeId, managers, selected),
    );
    untracked(() => renderListFooter(footer, list, rows.length));
    requestAnimationFrame(maybeLoadMore);
  });
}

/** With dialogs ticked: how many, and what can be done with them at once. */
function renderBulkBar(bar, selected) {
  bar.hidden = selected.size === 0;
  if (bar.hidden) return setChildren(bar);
  const open = store.filter.peek().status === 'open';
  setChildren(
    bar,
    h('span', { class: 'bulk-count' }, plural('dialog_list.selected', selected.size)),
    open ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'bulk-close' }, onclick: () => store.bulkDialogs('close') }, icon('checkCircle'), t('common.close')) : null,
    h('button', { type: 'button', class: 'btn btn-secondary btn-small is-danger', dataset: { action: 'bulk-spam' }, onclick: confirmSpam }, icon('lock'), t('dialog_list.spam')),
    iconButton('x', t('dialog_list.clear_selection'), () => store.clearSelection(), { dataset: { action: 'bulk-cancel' } }),
  );
}

async function confirmSpam() {
  const count = store.selectedDialogs.peek().size;
  const confirmed = await confirmAction({
    title: plural('dialog_list.spam_title', count),
    text: t('dialog_list.spam_text'),
    confirmLabel: t('dialog_list.mark_spam'),
    danger: true,
  });
  if (confirmed) store.bulkDialogs('spam');
}

function listTitle(filter, managers) {
  if (filter.category === 'manager') return managers.find((manager) => manager.id === filter.managerId)?.name || t('roles.manager');
  return t(CATEGORY_TITLES[filter.category]);
}

function countFor(filter, counts) {
  if (filter.category === 'manager') return counts.managers[filter.managerId] || 0;
  return counts[filter.category];
}

function renderListFooter(footer, list, shown) {
  if (list.loading) return setChildren(footer, spinner(t(shown ? 'dialog_list.loading_more' : 'dialog_list.loading_dialogs')));
  if (list.error)
    return setChildren(footer, h('div', { class: 'list-error' }, list.error, ' ', h('button', { type: 'button', class: 'link-button', onclick: () => store.loadDialogList() }, t('app.try_again'))));
  if (list.loaded && shown === 0) {
    const { status, category } = store.filter.peek();
    const text = t(status === 'closed' ? 'dialog_list.closed_empty' : category === 'new' ? 'dialog_list.new_empty' : 'dialog_list.open_empty');
    return setChildren(footer, emptyState('inbox', t(status === 'closed' ? 'dialog_list.no_closed' : 'dialog_list.no_open'), text));
  }
  setChildren(footer);
}

function dialogItem(dialog, activeId, managers, selected) {
  const element = h('a', { class: 'dialog-item', role: 'listitem', dataset: { dialogId: dialog.id } });
  updateDialogItem(element, dialog, activeId, managers, selected);
  return element;
}

/** The tick that selects a dialog for a bulk action (it does not open it). */
function selectBox(dialog, name, checked) {
  const box = h('input', { type: 'checkbox', class: 'dialog-select', checked, 'aria-label': t('dialog_list.select_dialog', { name }) });
  box.addEventListener('click', (event) => {
    event.stopPropagation();
    event.preventDefault();
    store.toggleSelected(dialog.id);
  });
  return box;
}

/** Rebuilds a row only when what it shows has changed. */
function updateDialogItem(element, dialog, activeId, managers, selected) {
  const manager = dialog.manager_id ? managers.find((candidate) => candidate.id === dialog.manager_id) : null;
  const ticked = selected.has(dialog.id);
  const signature = JSON.stringify([dialog.contact_name, dialog.last_message_text, dialog.last_message_at, dialog.unread_count, dialog.status, dialog.manager_id, manager?.name, dialog.reply_channel, dialog.id === activeId, ticked]);
  if (element.__signature === signature) return;
  element.__signature = signature;
  const name = contactDisplayName(dialog.contact_name, dialog.contact_id);
  const unread = dialog.unread_count || 0;
  element.href = paths.dialog(dialog.id);
  element.className = ['dialog-item', dialog.id === activeId && 'is-active', unread > 0 && 'has-unread', ticked && 'is-selected'].filter(Boolean).join(' ');
  if (dialog.id === activeId) element.setAttribute('aria-current', 'true');
  else element.removeAttribute('aria-current');
  setChildren(
    element,
    selectBox(dialog, name, ticked),
    contactAvatar(dialog.contact_name, dialog.contact_id),
    h(
      'div',
      { class: 'dialog-item-body' },
      h('div', { class: 'dialog-item-top' }, h('span', { class: 'dialog-item-name' }, name), timeAgo(dialog.last_message_at || dialog.created_at)),
      h(
        'div',
        { class: 'dialog-item-middle' },
        h('span', { class: 'dialog-item-preview' }, dialog.last_message_text || t('conversation.no_messages')),
        unread > 0 ? h('span', { class: 'unread-badge', 'aria-label': plural('dialog_list.unread', unread) }, unread > 99 ? '99+' : String(unread)) : null,
      ),
      h(
        'div',
        { class: 'dialog-item-bottom' },
        manager
          ? h('span', { class: 'assignee' }, icon('user'), h('span', { class: 'assignee-name' }, manager.name))
          : h('span', { class: 'assignee is-unassigned' }, t(dialog.manager_id ? 'conversation.assigned' : 'conversation.unassigned')),
        // Where they last wrote from, when it is a messenger (the site chat goes unsaid).
        dialog.reply_channel && dialog.reply_channel !== 'site'
          ? h('span', { class: 'chip chip-channel', dataset: { channel: dialog.reply_channel } }, channelLabel(dialog.reply_channel))
          : null,
        dialog.status === 'closed' ? h('span', { class: 'chip chip-muted' }, t('conversation.status_closed')) : null,
      ),
    ),
  );
}

// ---------------------------------------------------------------- search results

function renderSearch(column, search, current) {
  const activeContact = current.name === 'contact' ? current.id : null;
  const header = h(
    'header',
    { class: 'list-header' },
    h('div', {}, h('h2', { class: 'list-title' }, t('dialog_list.search')), h('div', { class: 'list-subtitle search-query' }, t('dialog_list.search_query', { query: search.query }))),
    iconButton('x', t('dialog_list.close_search'), () => {
      store.closeSearch();
      const input = document.querySelector('.search-input');
      if (input) input.value = '';
    }),
  );
  const body = h('div', { class: 'list-scroll' });
  if (search.loading) body.append(spinner(t('dialog_list.searching')));
  else if (search.error) body.append(h('div', { class: 'list-error' }, search.error));
  else if (search.results.length === 0) body.append(emptyState('search', t('dialog_list.no_contacts'), t('dialog_list.no_contacts_hint')));
  else
    body.append(
      h('div', { class: 'dialog-items', role: 'list' }, search.results.map((contact) => contactItem(contact, contact.id === activeContact))),
    );
  setChildren(column, header, body);
}

function contactItem(contact, active) {
  const name = contactDisplayName(contact.name, contact.id);
  const details = [contact.email, contact.phone].filter(Boolean).join(' · ') || t('dialog_list.no_contact_details');
  return h(
    'a',
    { class: ['dialog-item', 'contact-item', active && 'is-active'], role: 'listitem', href: paths.contact(contact.id), dataset: { contactId: contact.id } },
    contactAvatar(contact.name, contact.id),
    h(
      'div',
      { class: 'dialog-item-body' },
      h('div', { class: 'dialog-item-top' }, h('span', { class: 'dialog-item-name' }, name), contact.last_seen_at ? timeAgo(contact.last_seen_at) : null),
      h('div', { class: 'dialog-item-middle' }, h('span', { class: 'dialog-item-preview' }, details)),
    ),
  );
}
