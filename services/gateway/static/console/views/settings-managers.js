// Settings → Managers (owners and admins): the team with role, state and
// presence; invite or add a manager (the invitation link is shown to copy),
// change name and role, deactivate and reactivate.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { roleLabel } from '../format.js';
import { avatar, openModal, confirmAction, field, showFormErrors, whileBusy, spinner, pageHeader } from './common.js';
import { t } from '../i18n.js';

export function mountManagersPage(container, scope) {
  const inviteButton = h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'invite' }, onclick: inviteManager }, icon('plus'), t('settings_managers.invite'));
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader(t('settings.managers'), t('settings_managers.description'), inviteButton), body);
  scope.effect(() => renderManagers(body, store.managers.value, store.session.value.manager));
  store.loadManagers();
}

function renderManagers(body, managers, me) {
  if (managers.length === 0) return setChildren(body, spinner(t('settings_managers.loading')));
  const sorted = [...managers].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name));
  setChildren(
    body,
    h('div', { class: 'table-card' },
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, t('roles.manager')), h('th', {}, t('settings_managers.role')), h('th', {}, t('sidebar.status')), h('th', { class: 'table-actions' }, h('span', { class: 'visually-hidden' }, t('visitors.actions'))))),
        h('tbody', {}, sorted.map((manager) => managerRow(manager, me))),
      ),
    ),
  );
}

function managerRow(manager, me) {
  const isMe = manager.id === me?.id;
  const canChange = !isMe && !(manager.role === 'owner' && me?.role !== 'owner');
  return h('tr', { class: [!manager.active && 'is-inactive'], dataset: { managerId: manager.id } },
    h('td', {},
      h('div', { class: 'person' },
        avatar(manager.name, manager.id, { size: 'sm', online: manager.active ? Boolean(manager.online) : null }),
        h('div', {}, h('div', { class: 'person-name' }, manager.name, isMe ? h('span', { class: 'chip chip-muted' }, t('settings_managers.you')) : null), h('div', { class: 'person-sub' }, manager.email)),
      ),
    ),
    h('td', {}, h('span', { class: ['role', 'role-' + manager.role] }, roleLabel(manager.role))),
    h('td', {}, manager.active
      ? h('span', { class: ['status-text', manager.online ? 'is-online' : ''] }, manager.online ? t('settings_managers.online') : t('settings_managers.offline'))
      : h('span', { class: 'status-text is-inactive' }, t('settings_managers.deactivated'))),
    h('td', { class: 'table-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'edit' }, onclick: () => editManager(manager, me) }, icon('edit'), t('settings.edit')),
      canChange
        ? manager.active
          ? h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'deactivate' }, onclick: () => setActive(manager, false) }, t('settings_managers.deactivate'))
          : h('button', { type: 'button', class: 'btn btn-ghost btn-small', dataset: { action: 'reactivate' }, onclick: () => setActive(manager, true) }, t('settings_managers.reactivate'))
        : null,
    ),
  );
}

function roleSelect(current, me) {
  const roles = me?.role === 'owner' ? ['manager', 'admin', 'owner'] : ['manager', 'admin'];
  return h('select', { name: 'role' }, roles.map((role) => h('option', { value: role, selected: role === current }, roleLabel(role))));
}

function inviteManager() {
  const me = store.me();
  return openModal({
    title: t('settings_managers.invite_title'),
    wide: true,
    build: (close) => {
      const name = field(t('contact_edit.name'), h('input', { type: 'text', name: 'name', required: true, placeholder: t('settings_managers.name_placeholder') }));
      const email = field(t('login.email'), h('input', { type: 'email', name: 'email', required: true, placeholder: 'anna@shop.com' }));
      const role = field(t('settings_managers.role'), roleSelect('manager', me));
      const password = field(t('settings_managers.password_optional'), h('input', { type: 'password', name: 'password', autocomplete: 'new-password' }), {
        hint: t('settings_managers.password_optional_hint'),
      });
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings_managers.add'));
      const form = h('form', { class: 'form', novalidate: true },
        h('div', { class: 'form-row' }, name.element, email.element),
        h('div', { class: 'form-row' }, role.element, password.element),
        formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, t('common.cancel')), save),
      );
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const values = { name: name.input.value.trim(), email: email.input.value.trim(), role: role.input.value };
        if (password.input.value) values.password = password.input.value;
        try {
          const answer = await whileBusy(save, store.inviteManager(values));
          showInvitationResult(form, answer, close);
        } catch (error) {
          showFormErrors(error, { name, email, role, password }, formError, describeError);
        }
      });
      return form;
    },
  });
}

function showInvitationResult(form, answer, close) {
  const done = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => close(true) }, t('settings_managers.done'));
  if (!answer.invitation_url) {
    setChildren(form, h('p', { class: 'modal-text' }, t('settings_managers.can_sign_in', { name: answer.manager.name })), h('div', { class: 'form-actions' }, done));
    return;
  }
  const url = new URL(answer.invitation_url, location.href).href;
  const link = h('input', { type: 'text', class: 'invite-link', value: url, readOnly: true, 'aria-label': t('settings_managers.invitation_link') });
  const copy = h('button', { type: 'button', class: 'btn btn-secondary' }, icon('copy'), t('settings.copy'));
  copy.onclick = async () => {
    link.select();
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      document.execCommand('copy');
    }
    copy.lastChild.textContent = t('settings.copied');
  };
  setChildren(
    form,
    h('div', { class: 'invite-done' }, icon('checkCircle'), h('div', {}, h('strong', {}, t('settings_managers.invited', { name: answer.manager.name })),
      h('p', {}, answer.invitation_emailed
        ? t('settings_managers.link_emailed', { email: answer.manager.email })
        : t('settings_managers.link_to_send')))),
    h('div', { class: 'invite-row' }, link, copy),
    h('div', { class: 'form-actions' }, done),
  );
  link.select();
}

function editManager(manager, me) {
  const isMe = manager.id === me?.id;
  return openModal({
    title: isMe ? t('settings_managers.your_profile') : t('settings_managers.edit_title', { name: manager.name }),
    build: (close) => {
      const name = field(t('contact_edit.name'), h('input', { type: 'text', name: 'name', value: manager.name, required: true }));
      const email = field(t('login.email'), h('input', { type: 'email', name: 'email', value: manager.email, required: true }));
      const role = field(t('settings_managers.role'), roleSelect(manager.role, me));
      role.input.disabled = isMe;
      // One's own password is changed under My sessions, with the current one.
      const password = isMe
        ? null
        : field(t('settings_managers.new_password_optional'), h('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: 8 }), {
          hint: t('settings_managers.new_password_hint', { name: manager.name }),
        });
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings.save_changes'));
      const form = h('form', { class: 'form', novalidate: true }, name.element, email.element, role.element, password?.element, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, t('common.cancel')), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const patch = {};
        if (name.input.value.trim() !== manager.name) patch.name = name.input.value.trim();
        if (email.input.value.trim() !== manager.email) patch.email = email.input.value.trim();
        if (!isMe && role.input.value !== manager.role) patch.role = role.input.value;
        if (password?.input.value) patch.password = password.input.value;
        if (Object.keys(patch).length === 0) return close();
        try {
          await whileBusy(save, store.updateManager(manager.id, patch));
          close(true);
        } catch (error) {
          showFormErrors(error, { name, email, role, ...(password && { password }) }, formError, describeError);
        }
      });
      return form;
    },
  });
}

async function setActive(manager, active) {
  if (!active) {
    const confirmed = await confirmAction({
      title: t('settings_managers.deactivate_title', { name: manager.name }),
      text: t('settings_managers.deactivate_text'),
      confirmLabel: t('settings_managers.deactivate'),
      danger: true,
    });
    if (!confirmed) return;
  }
  try {
    await store.updateManager(manager.id, { active });
  } catch (error) {
    store.notify(describeError(error));
  }
}

