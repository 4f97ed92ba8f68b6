// The open dialog: a header with the contact's name and the four actions
// (Assign, Event filter, Edit contact, Close/Reopen), the history (messages,
// with the files they carry, and notes interleaved by time, older pages
// loaded when scrolled to the top) and the composer.

import { h, setChildren, reconcile, textWithLinks } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { contactDisplayName, clockTime, dayKey, dayLabel, channelLabel } from '../format.js';
import { avatar, contactAvatar, iconButton, spinner, emptyState, openPopover, menu, confirmAction } from './common.js';
import { mountComposer } from './composer.js';
import { messageAttachments } from './attachments.js';
import { mountHeldAnswers } from './held-answers.js';
import { openContactEditor } from './contact-edit.js';
import { t } from '../i18n.js';

const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 120;
const GROUP_WINDOW_MS = 5 * 60 * 1000;

/** The kinds of a contact's events: label and empty are catalogue keys (the list's name, and what it says when there are none). */
export const TIMELINE_KINDS = [
  { kind: '', label: 'conversation.all_events', empty: 'contact_panel.nothing_yet', icon: 'clock' },
  { kind: 'message', label: 'conversation.messages', empty: 'contact_panel.no_messages', icon: 'chat' },
  { kind: 'order', label: 'conversation.orders', empty: 'contact_panel.no_orders', icon: 'bag' },
  { kind: 'mailing', label: 'conversation.mailings', empty: 'contact_panel.no_mailings', icon: 'megaphone' },
  { kind: 'page_visit', label: 'conversation.page_visits', empty: 'contact_panel.no_page_visits', icon: 'eye' },
  { kind: 'widget_shown', label: 'conversation.widgets_shown', empty: 'contact_panel.no_widgets_shown', icon: 'widget' },
];

export function mountConversation(container, scope, dialogId) {
  const header = h('header', { class: 'conv-header' });
  const threadElement = h('div', { class: 'thread', role: 'log', 'aria-live': 'polite', 'aria-label': t('conversation.messages') });
  const threadTop = h('div', { class: 'thread-top' });
  const scroller = h('div', { class: 'thread-scroll' }, threadTop, threadElement);
  const closedNotice = h('div', { class: 'closed-notice', hidden: true });
  const heldSlot = h('div', { class: 'held-answers', hidden: true, 'aria-label': t('conversation.held_answers') });
  const composerSlot = h('div', { class: 'composer-slot' });
  container.append(h('section', { class: 'conversation', dataset: { dialogId } }, header, scroller, heldSlot, closedNotice, composerSlot));

  let headerSignature = null;
  scope.effect(() => {
    const dialog = store.dialogs.value.get(dialogId);
    const managers = store.managers.value;
    // The map changes with every message of every dialog: redraw only when this header would change.
    const signature = JSON.stringify([dialog?.contact_name, dialog?.status, dialog?.manager_id, managers]);
    if (signature === headerSignature) return;
    headerSignature = signature;
    untracked(() => renderHeader(header, dialog, managers));
    renderClosedNotice(closedNotice, dialog);
  });

  const view = { scroller, threadElement, threadTop, initialised: false };
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop < NEAR_TOP_PX) store.loadOlderMessages();
  }, { passive: true });
  scope.effect(() => {
    const thread = store.thread.value;
    const outbox = store.outbox.value;
    const managers = store.managers.value;
    if (thread.dialogId !== dialogId) return;
    untracked(() => renderThread(view, thread, outbox, managers));
  });

  mountHeldAnswers(heldSlot, scope, dialogId);
  mountComposer(composerSlot, scope, dialogId, () => scrollToBottom(scroller));
}

// ---------------------------------------------------------------- header

function renderHeader(header, dialog, managers) {
  if (!dialog) return setChildren(header, h('div', { class: 'conv-title' }, h('span', { class: 'skeleton skeleton-title' })));
  const name = contactDisplayName(dialog.contact_name, dialog.contact_id);
  const manager = managers.find((candidate) => candidate.id === dialog.manager_id);
  const closed = dialog.status === 'closed';
  const assignButton = iconButton('assign', t('conversation.assign'), null, { dataset: { action: 'assign' }, 'aria-haspopup': 'menu' });
  assignButton.onclick = () => openPopover(assignButton, (close) => assignMenu(dialog, managers, close), { className: 'assign-popover' });
  const eventsButton = iconButton('filter', t('conversation.event_filter'), null, { dataset: { action: 'events' }, 'aria-haspopup': 'menu' });
  eventsButton.onclick = () => openPopover(eventsButton, (close) => eventFilterMenu(close));
  const editButton = iconButton('edit', t('contact_edit.title'), () => openContactEditor(dialog.contact_id), { dataset: { action: 'edit-contact' } });
  // Only a visitor of the site can be blocked (not a messenger's user).
  const fromSite = !dialog.channels || dialog.channels.length === 0 || dialog.channels.includes('site');
  const blockButton = fromSite ? iconButton('lock', t('conversation.block_visitor'), () => confirmBlock(dialog, name), { dataset: { action: 'block' } }) : null;
  const closeButton = closed
    ? iconButton('reopen', t('conversation.reopen_dialog'), () => store.reopenDialog(dialog.id), { dataset: { action: 'reopen' } })
    : iconButton('checkCircle', t('conversation.close_dialog'), () => store.closeDialog(dialog.id), { dataset: { action: 'close' } });
  closeButton.classList.add(closed ? 'is-reopen' : 'is-close');

  setChildren(
    header,
    contactAvatar(dialog.contact_name, dialog.contact_id),
    h(
      'div',
      { class: 'conv-title' },
      h('h2', { class: 'conv-name' }, name),
      h(
        'div',
        { class: 'conv-subtitle' },
        h('span', { class: ['chip', closed ? 'chip-muted' : 'chip-open'], dataset: { status: dialog.status } }, t(closed ? 'conversation.status_closed' : 'conversation.status_open')),
        h('span', { class: 'conv-assignee', dataset: { managerId: dialog.manager_id || '' } },
          manager ? t('conversation.assigned_to', { name: manager.name }) : t(dialog.manager_id ? 'conversation.assigned' : 'conversation.unassigned')),
      ),
    ),
    h('div', { class: 'conv-actions', role: 'toolbar', 'aria-label': t('conversation.dialog_actions') }, assignButton, eventsButton, editButton, blockButton, closeButton),
    contactPanelToggle(),
  );
}

async function confirmBlock(dialog, name) {
  const confirmed = await confirmAction({
    title: t('conversation.block_title', { name }),
    text: t('conversation.block_text'),
    confirmLabel: t('conversation.block'),
    danger: true,
  });
  if (confirmed) store.blockContact(dialog.contact_id);
}

/** Below 1280 px the contact panel is hidden; this button slides it in. */
export function contactPanelToggle() {
  return iconButton('panel', t('conversation.contact_details'), () => document.body.classList.toggle('show-contact-panel'), { class: 'icon-button conv-panel-toggle' });
}

function assignMenu(dialog, managers, close) {
  const me = store.me();
  const active = managers.filter((manager) => manager.active).sort((a, b) => a.name.localeCompare(b.name));
  return h(
    'div',
    {},
    h('div', { class: 'menu-header' }, h('div', { class: 'menu-title' }, t('conversation.assign_to'))),
    menu(
      [
        ...active.map((manager) => ({
          label: manager.id === me?.id ? t('conversation.you', { name: manager.name }) : manager.name,
          leading: avatar(manager.name, manager.id, { size: 'xs', online: Boolean(manager.online) }),
          checked: manager.id === dialog.manager_id,
          data: { managerId: manager.id },
          onSelect: () => store.assignDialog(dialog.id, manager.id),
        })),
        'separator',
        { label: t('conversation.unassign'), icon: 'x', disabled: !dialog.manager_id, data: { managerId: '' }, onSelect: () => store.assignDialog(dialog.id, null) },
      ],
      close,
    ),
  );
}

function eventFilterMenu(close) {
  const current = store.contactPanelTab.peek() === 'timeline' ? store.timeline.peek().kind : null;
  return h(
    'div',
    {},
    h('div', { class: 'menu-header' }, h('div', { class: 'menu-title' }, t('conversation.show_events'))),
    menu(
      TIMELINE_KINDS.map(({ kind, label, icon: iconName }) => ({
        label: t(label),
        icon: iconName,
        checked: current === kind,
        data: { kind: kind || 'all' },
        onSelect: () => {
          store.showTimeline(kind);
          document.body.classList.add('show-contact-panel');
        },
      })),
      close,
    ),
  );
}

function renderClosedNotice(notice, dialog) {
  const closed = dialog?.status === 'closed';
  notice.hidden = !closed;
  if (!closed) return;
  setChildren(
    notice,
    icon('checkCircle'),
    h('span', {}, t('conversation.closed_notice')),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => store.reopenDialog(dialog.id) }, t('conversation.reopen')),
  );
}

// ---------------------------------------------------------------- history

function renderThread(view, thread, outbox, managers) {
  const { scroller, threadElement, threadTop } = view;
  if (thread.loading) {
    setChildren(threadTop, spinner(t('conversation.loading')));
    return;
  }
  if (thread.error) {
    setChildren(threadTop, emptyState('alert', t('conversation.load_failed'), thread.error));
    return;
  }
  const distanceFromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
  const wasNearBottom = distanceFromBottom < NEAR_BOTTOM_PX;
  // The first message on screen before the update: if older ones go above it, it must not move.
  const anchor = [...threadElement.children].find((element) => !String(element.__key).startsWith('day:'));
  const anchorTopBefore = anchor ? anchor.offsetTop : 0;
  const topBefore = scroller.scrollTop;

  const pending = [...outbox.values()].filter((entry) => entry.dialogId === thread.dialogId);
  renderThreadTop(threadTop, thread, pending.length);
  const items = threadItems(thread, pending);
  reconcile(threadElement, items, (item) => item.key, (item) => threadItem(item, managers), (element, item) => updateThreadItem(element, item, managers));

  if (!view.initialised) {
    view.initialised = true;
    scrollToBottom(scroller);
  } else if (anchor?.isConnected && anchor.offsetTop !== anchorTopBefore && !wasNearBottom) {
    // Older messages were put above: keep what the manager was reading in place.
    scroller.scrollTop = topBefore + (anchor.offsetTop - anchorTopBefore);
  } else if (wasNearBottom) {
    scrollToBottom(scroller);
  }
  if (scroller.scrollTop < NEAR_TOP_PX && thread.hasMore) requestAnimationFrame(() => store.loadOlderMessages());
}

function renderThreadTop(threadTop, thread, pendingCount) {
  if (thread.loadingOlder) setChildren(threadTop, spinner(t('conversation.loading_earlier')));
  else if (thread.hasMore) setChildren(threadTop, h('div', { class: 'thread-more' }, t('conversation.scroll_up')));
  else if (thread.messages.length === 0 && thread.notes.length === 0 && pendingCount === 0)
    setChildren(threadTop, emptyState('chat', t('conversation.no_messages'), t('conversation.write_first')));
  else setChildren(threadTop, h('div', { class: 'thread-start' }, t('conversation.start')));
}

function scrollToBottom(scroller) {
  scroller.scrollTop = scroller.scrollHeight;
}

/** Messages by seq with notes placed by time, pending sends last, day separators between days. */
function threadItems(thread, pending) {
  const oldestLoaded = thread.messages[0] ? Date.parse(thread.messages[0].created_at) : -Infinity;
  const notes = thread.notes.filter((note) => !thread.hasMore || Date.parse(note.created_at) >= oldestLoaded);
  const entries = [];
  let noteIndex = 0;
  for (const message of thread.messages) {
    const time = Date.parse(message.created_at);
    while (noteIndex < notes.length && Date.parse(notes[noteIndex].created_at) < time) entries.push({ type: 'note', note: notes[noteIndex++] });
    entries.push({ type: 'message', message });
  }
  while (noteIndex < notes.length) entries.push({ type: 'note', note: notes[noteIndex++] });
  const stored = new Set(thread.messages.map((message) => message.client_message_id).filter(Boolean));
  for (const entry of pending) if (!stored.has(entry.clientMessageId)) entries.push({ type: 'pending', entry });

  const items = [];
  let previousDay = null;
  let previous = null;
  for (const entry of entries) {
    const created = entryTime(entry);
    const day = dayKey(created);
    if (day !== previousDay) {
      items.push({ key: 'day:' + day, type: 'day', created });
      previousDay = day;
      previous = null;
    }
    const author = entryAuthor(entry);
    const grouped = Boolean(previous && author && previous.author === author && Date.parse(created) - Date.parse(previous.created) < GROUP_WINDOW_MS);
    items.push({ ...entry, key: entryKey(entry), grouped });
    previous = { author, created };
  }
  return items;
}

function entryKey(entry) {
  if (entry.type === 'message') return 'm:' + (entry.message.client_message_id || entry.message.id);
  if (entry.type === 'note') return 'n:' + entry.note.id;
  return 'm:' + entry.entry.clientMessageId;
}

function entryTime(entry) {
  if (entry.type === 'message') return entry.message.created_at;
  if (entry.type === 'note') return entry.note.created_at;
  return entry.entry.createdAt;
}

function entryAuthor(entry) {
  if (entry.type === 'message') return entry.message.author_kind === 'system' ? null : `${entry.message.author_kind}:${entry.message.author_id || ''}`;
  if (entry.type === 'note') return 'note:' + entry.note.author_id;
  return entry.entry.kind === 'note' ? 'note:' + store.me()?.id : 'manager:' + store.me()?.id;
}

function itemSignature(item, managers) {
  const managerNames = managers.map((manager) => manager.name).join('|');
  if (item.type === 'pending') return JSON.stringify([item.entry.state, item.entry.error, item.grouped]);
  if (item.type === 'message') return JSON.stringify([item.message.seq, item.message.delivery_state, item.grouped, managerNames]);
  if (item.type === 'note') return JSON.stringify([item.note.id, item.grouped, managerNames]);
  return item.key;
}

function threadItem(item, managers) {
  const element = buildThreadItem(item, managers);
  element.__signature = itemSignature(item, managers);
  return element;
}

function updateThreadItem(element, item, managers) {
  const signature = itemSignature(item, managers);
  if (element.__signature === signature) return;
  const replacement = threadItem(item, managers);
  replacement.__key = element.__key;
  // Patch in place so the keyed list keeps its element.
  element.className = replacement.className;
  element.replaceChildren(...replacement.childNodes);
  for (const name of Object.keys(element.dataset)) delete element.dataset[name];
  Object.assign(element.dataset, replacement.dataset);
  element.__signature = signature;
}

function buildThreadItem(item, managers) {
  if (item.type === 'day') return h('div', { class: 'day-separator', role: 'separator' }, h('span', {}, dayLabel(item.created)));
  if (item.type === 'note') return noteElement(item.note, item.grouped, managers);
  if (item.type === 'pending') return pendingElement(item.entry, item.grouped);
  return messageElement(item.message, item.grouped, managers);
}

const NOBODY = '00000000-0000-0000-0000-000000000000';

/** The suite's own notes (an answer held, say) have no author. */
function managerName(managers, id) {
  if (id === NOBODY) return t('conversation.chat');
  return managers.find((manager) => manager.id === id)?.name || t('roles.manager');
}

function messageElement(message, grouped, managers) {
  const data = { seq: String(message.seq), messageId: message.id, author: message.author_kind };
  if (message.author_kind === 'system') {
    return h('div', { class: 'msg msg-system', dataset: data }, h('span', { class: 'msg-system-text' }, systemLine(message)), h('span', { class: 'msg-system-time' }, clockTime(message.created_at)));
  }
  const fromVisitor = message.author_kind === 'visitor';
  const name = fromVisitor ? null : managerName(managers, message.author_id);
  const footer = [clockTime(message.created_at)];
  if (message.channel && message.channel !== 'site') footer.push(t('composer.via', { channel: channelLabel(message.channel) }));
  const undelivered = !fromVisitor && message.delivery_state === 'failed';
  // A reply through a messenger or by e-mail is on its way until it is taken;
  // a site-chat reply waits until an open widget shows it, or it is e-mailed.
  const stored = !fromVisitor && message.delivery_state === 'stored';
  const sending = stored && message.channel !== 'site';
  const waiting = stored && message.channel === 'site';
  const emailed = !fromVisitor && message.delivery_state === 'emailed';
  return h(
    'div',
    { class: ['msg', fromVisitor ? 'msg-in' : 'msg-out', grouped && 'is-grouped'], dataset: data },
    h(
      'div',
      { class: 'msg-content' },
      !grouped && name ? h('div', { class: 'msg-author' }, name) : null,
      messageAttachments(message.attachments),
      message.text || !message.attachments?.length ? h('div', { class: 'msg-bubble' }, h('div', { class: 'msg-text' }, textWithLinks(message.text))) : null,
      h(
        'div',
        { class: ['msg-footer', undelivered && 'msg-failed'] },
        footer.join(' · '),
        undelivered ? h('span', { class: 'msg-delivery-error' }, message.delivery_error ? t('conversation.not_delivered_because', { error: message.delivery_error }) : t('conversation.not_delivered')) : null,
        sending ? h('span', { class: 'msg-sending' }, t('conversation.sending_state')) : null,
        waiting ? h('span', { class: 'msg-waiting', title: t('conversation.waiting') }, icon('clock')) : null,
        emailed ? h('span', { class: 'msg-emailed', title: t('conversation.emailed') }, '· ', icon('mail'), t('conversation.sent_by_email')) : null,
        fromVisitor || undelivered || sending || waiting || emailed ? null : h('span', { class: 'msg-tick', title: deliveryLabel(message.delivery_state) }, icon('check')),
      ),
    ),
  );
}

function deliveryLabel(state) {
  if (state === 'delivered') return t('conversation.delivered');
  return state ? state[0].toUpperCase() + state.slice(1) : t('conversation.sent');
}

function noteElement(note, grouped, managers) {
  return h(
    'div',
    { class: ['msg', 'msg-out', 'msg-note', grouped && 'is-grouped'], dataset: { noteId: note.id } },
    h(
      'div',
      { class: 'msg-content' },
      grouped ? null : h('div', { class: 'msg-author' }, managerName(managers, note.author_id)),
      h(
        'div',
        { class: 'msg-bubble' },
        h('div', { class: 'note-label' }, icon('lock'), t('conversation.note_label')),
        h('div', { class: 'msg-text' }, note.text),
      ),
      h('div', { class: 'msg-footer' }, clockTime(note.created_at)),
    ),
  );
}

function pendingElement(entry, grouped) {
  const failed = entry.state === 'failed';
  const isNote = entry.kind === 'note';
  const status = failed
    ? h(
        'div',
        { class: 'msg-footer msg-failed' },
        icon('alert'),
        h('span', {}, entry.error ? t('conversation.not_sent_because', { error: entry.error }) : t('conversation.not_sent')),
        entry.retriable !== false && h('button', { type: 'button', class: 'link-button', dataset: { action: 'retry' }, onclick: () => store.retrySend(entry.clientMessageId) }, t('conversation.retry')),
        h('button', { type: 'button', class: 'link-button is-muted', onclick: () => store.discardSend(entry.clientMessageId) }, t('conversation.discard')),
      )
    : h('div', { class: 'msg-footer' }, h('span', { class: 'sending-dot' }), t('conversation.sending'));
  return h(
    'div',
    { class: ['msg', 'msg-out', isNote && 'msg-note', failed ? 'is-failed' : 'is-pending', grouped && 'is-grouped'], dataset: { clientMessageId: entry.clientMessageId, state: entry.state } },
    h(
      'div',
      { class: 'msg-content' },
      messageAttachments(entry.attachments),
      entry.text || !entry.attachments?.length
        ? h('div', { class: 'msg-bubble' }, isNote ? h('div', { class: 'note-label' }, icon('lock'), t('conversation.note_label')) : null, h('div', { class: 'msg-text' }, entry.text))
        : null,
      status,
    ),
  );
}

/** The kinds of system line the catalogue words (the server's record of each: message.system). */
const SYSTEM_LINE_KINDS = ['took', 'assigned', 'returned', 'closed', 'spam', 'reopened'];

/** A system line in the manager's language; as stored (English) when it has no record. */
function systemLine(message) {
  const line = message.system;
  if (!line || !SYSTEM_LINE_KINDS.includes(line.kind)) return message.text;
  return t(`system_lines.${line.kind}`, { actor: line.actor_name, manager: line.manager_name });
}
