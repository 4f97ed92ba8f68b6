// A contact opened from the search (#/contacts/<id>): who they are, a
// "Write" button that opens a box for the first message (it starts or
// reopens their dialog, assigned to the writer), and their dialogs.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { describeError } from '../api.js';
import { paths } from '../router.js';
import { contactDisplayName } from '../format.js';
import { contactAvatar, iconButton, spinner, submitOnEnter, timeAgo, whileBusy } from './common.js';
import { openContactEditor } from './contact-edit.js';
import { contactPanelToggle } from './conversation.js';

export function mountContactView(container, scope, contactId) {
  const header = h('header', { class: 'conv-header' });
  const writer = h('div', { class: 'write-box', hidden: true });
  const dialogsSection = h('section', { class: 'contact-dialogs' });
  container.append(h('section', { class: 'conversation contact-view', dataset: { contactId } }, header, h('div', { class: 'contact-view-body' }, writer, dialogsSection)));

  const openWriter = () => {
    writer.hidden = false;
    writer.querySelector('textarea').focus();
  };
  buildWriter(writer, contactId);

  scope.effect(() => {
    const contact = store.contacts.value.get(contactId);
    untracked(() => renderHeader(header, contactId, contact, openWriter));
  });
  scope.effect(() => {
    const state = store.contactDialogs.value;
    const map = store.dialogs.value;
    const managers = store.managers.value;
    untracked(() => renderDialogs(dialogsSection, state, map, managers, contactId));
  });
}

function renderHeader(header, contactId, contact, openWriter) {
  const name = contact ? contactDisplayName(contact.name, contactId) : 'Contact';
  setChildren(
    header,
    contactAvatar(contact?.name, contactId),
    h('div', { class: 'conv-title' }, h('h2', { class: 'conv-name' }, name), h('div', { class: 'conv-subtitle' }, contact?.email || contact?.phone || 'No e-mail or phone yet')),
    h(
      'div',
      { class: 'conv-actions' },
      iconButton('edit', 'Edit contact', () => openContactEditor(contactId), { dataset: { action: 'edit-contact' } }),
      h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'write' }, onclick: openWriter }, icon('chat'), 'Write'),
    ),
    contactPanelToggle(),
  );
}

function buildWriter(writer, contactId) {
  const textarea = h('textarea', { class: 'composer-input', rows: 3, placeholder: 'Write the first message…', 'aria-label': 'First message' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, h('span', {}, 'Send'), icon('send'));
  const form = h(
    'form',
    { class: 'composer write-form' },
    h('div', { class: 'write-title' }, icon('chat'), 'New message'),
    h('p', { class: 'write-hint' }, 'Online visitors see it in the chat at once; offline ones with an e-mail get it by e-mail.'),
    textarea,
    error,
    h('div', { class: 'composer-bar' }, h('span', { class: 'composer-hint' }, 'Enter to send · Shift+Enter for a new line'), send),
  );
  const submit = async () => {
    const text = textarea.value.trim();
    if (!text) return;
    error.textContent = '';
    try {
      await whileBusy(send, store.writeToContact(contactId, text));
    } catch (failure) {
      error.textContent = failure.fields?.text || describeError(failure);
    }
  };
  submitOnEnter(form, textarea, submit);
  writer.append(form);
}

function renderDialogs(section, state, map, managers, contactId) {
  const title = h('h3', { class: 'section-title' }, 'Conversations');
  if (state.contactId !== contactId || state.loading) return setChildren(section, title, spinner('Loading conversations…'));
  const dialogs = state.items.map((id) => map.get(id)).filter(Boolean);
  if (dialogs.length === 0) return setChildren(section, title, h('div', { class: 'panel-muted' }, 'No conversations with this contact yet. Use Write to start one.'));
  setChildren(
    section,
    title,
    h(
      'div',
      { class: 'contact-dialog-list' },
      dialogs.map((dialog) => {
        const manager = managers.find((candidate) => candidate.id === dialog.manager_id);
        return h(
          'a',
          { class: 'contact-dialog', href: paths.dialog(dialog.id), dataset: { dialogId: dialog.id } },
          h('span', { class: ['chip', dialog.status === 'closed' ? 'chip-muted' : 'chip-open'] }, dialog.status === 'closed' ? 'Closed' : 'Open'),
          h('span', { class: 'contact-dialog-preview' }, dialog.last_message_text || 'No messages yet'),
          h('span', { class: 'contact-dialog-meta' }, manager ? manager.name : 'Unassigned', ' · ', timeAgo(dialog.last_message_at || dialog.created_at)),
        );
      }),
    ),
  );
}
