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
import { t } from '../i18n.js';

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
  const name = contact ? contactDisplayName(contact.name, contactId) : t('contact_panel.contact');
  setChildren(
    header,
    contactAvatar(contact?.name, contactId),
    h('div', { class: 'conv-title' }, h('h2', { class: 'conv-name' }, name), h('div', { class: 'conv-subtitle' }, contact?.email || contact?.phone || t('contact_view.no_email_or_phone'))),
    h(
      'div',
      { class: 'conv-actions' },
      iconButton('edit', t('contact_edit.title'), () => openContactEditor(contactId), { dataset: { action: 'edit-contact' } }),
      h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'write' }, onclick: openWriter }, icon('chat'), t('contact_view.write')),
    ),
    contactPanelToggle(),
  );
}

function buildWriter(writer, contactId) {
  const textarea = h('textarea', { class: 'composer-input', rows: 3, placeholder: t('contact_view.first_message_placeholder'), 'aria-label': t('contact_view.first_message') });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, h('span', {}, t('composer.send')), icon('send'));
  const form = h(
    'form',
    { class: 'composer write-form' },
    h('div', { class: 'write-title' }, icon('chat'), t('contact_view.new_message')),
    h('p', { class: 'write-hint' }, t('contact_view.write_hint')),
    textarea,
    error,
    h('div', { class: 'composer-bar' }, h('span', { class: 'composer-hint' }, t('composer.hint')), send),
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
  const title = h('h3', { class: 'section-title' }, t('sidebar.conversations'));
  if (state.contactId !== contactId || state.loading) return setChildren(section, title, spinner(t('contact_view.loading')));
  const dialogs = state.items.map((id) => map.get(id)).filter(Boolean);
  if (dialogs.length === 0) return setChildren(section, title, h('div', { class: 'panel-muted' }, t('contact_view.no_conversations')));
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
          h('span', { class: ['chip', dialog.status === 'closed' ? 'chip-muted' : 'chip-open'] }, t(dialog.status === 'closed' ? 'conversation.status_closed' : 'conversation.status_open')),
          h('span', { class: 'contact-dialog-preview' }, dialog.last_message_text || t('conversation.no_messages')),
          h('span', { class: 'contact-dialog-meta' }, manager ? manager.name : t('conversation.unassigned'), ' · ', timeAgo(dialog.last_message_at || dialog.created_at)),
        );
      }),
    ),
  );
}
