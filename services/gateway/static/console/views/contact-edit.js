// The "Edit contact" form in a modal: name, e-mail, phone and custom fields
// as key/value rows; 422/409 field errors are shown under their fields.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { openModal, field, showFormErrors, whileBusy, iconButton } from './common.js';
import { t } from '../i18n.js';

export async function openContactEditor(contactId) {
  let contact = store.contacts.peek().get(contactId);
  if (!contact) {
    await store.loadContact(contactId);
    contact = store.contacts.peek().get(contactId);
  }
  if (!contact) return;
  await openModal({ title: t('contact_edit.title'), wide: true, build: (close) => contactForm(contact, close) });
}

function contactForm(contact, close) {
  const name = field(t('contact_edit.name'), h('input', { type: 'text', name: 'name', value: contact.name || '', autocomplete: 'off', maxlength: 200 }));
  const email = field(t('login.email'), h('input', { type: 'email', name: 'email', value: contact.email || '', autocomplete: 'off', placeholder: 'name@example.com' }));
  const phone = field(t('contact_edit.phone'), h('input', { type: 'tel', name: 'phone', value: contact.phone || '', autocomplete: 'off', placeholder: t('contact_edit.phone_example') }));
  const rows = h('div', { class: 'kv-rows' });
  const customError = h('div', { class: 'field-error', role: 'alert' });
  const customFields = { element: null, setError: (text) => { customError.textContent = text || ''; } };
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings.save_changes'));

  const addRow = (key = '', value = '') => {
    const keyInput = h('input', { type: 'text', class: 'kv-key', value: key, placeholder: t('contact_edit.field'), 'aria-label': t('contact_edit.field_name') });
    const valueInput = h('input', { type: 'text', class: 'kv-value', value, placeholder: t('contact_edit.value'), 'aria-label': t('contact_edit.field_value') });
    const row = h('div', { class: 'kv-row' }, keyInput, valueInput);
    row.append(iconButton('trash', t('contact_edit.remove_field'), () => row.remove()));
    rows.append(row);
    return keyInput;
  };
  for (const [key, value] of Object.entries(contact.custom_fields || {})) addRow(key, String(value));

  const readCustomFields = () => {
    const result = {};
    for (const row of rows.querySelectorAll('.kv-row')) {
      const key = row.querySelector('.kv-key').value.trim();
      if (key) result[key] = row.querySelector('.kv-value').value;
    }
    return result;
  };

  /** Only what changed goes to the server. */
  const changes = () => {
    const patch = {};
    if (name.input.value.trim() !== (contact.name || '')) patch.name = name.input.value.trim();
    if (email.input.value.trim() !== (contact.email || '')) patch.email = email.input.value.trim();
    if (phone.input.value.trim() !== (contact.phone || '')) patch.phone = phone.input.value.trim();
    const custom = readCustomFields();
    if (JSON.stringify(custom) !== JSON.stringify(contact.custom_fields || {})) patch.custom_fields = custom;
    return patch;
  };

  const form = h(
    'form',
    { class: 'form', novalidate: true },
    name.element,
    h('div', { class: 'form-row' }, email.element, phone.element),
    h(
      'fieldset',
      { class: 'fieldset' },
      h('legend', {}, t('contact_edit.custom_fields')),
      rows,
      customError,
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: () => addRow().focus() }, icon('plus'), t('contact_edit.add_field')),
    ),
    formError,
    h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, t('common.cancel')), save),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const patch = changes();
    if (Object.keys(patch).length === 0) return close();
    try {
      await whileBusy(save, store.updateContact(contact.id, patch));
      close(true);
    } catch (error) {
      showFormErrors(error, { name, email, phone, custom_fields: customFields }, formError, describeError);
    }
  });
  return form;
}

