// Settings → My sessions: where I am signed in (device, IP, last activity,
// "This device"); end one, or end all the others; change my password, which
// ends the others too.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { confirmAction, spinner, emptyState, timeAgo, pageHeader, openModal, field, showFormErrors, whileBusy } from './common.js';
import { dateTime, describeDevice } from '../format.js';

export function mountSessionsPage(container, scope) {
  const endOthers = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { action: 'end-others' }, onclick: confirmEndOthers }, icon('logout'), 'End all other sessions');
  const changePassword = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { action: 'change-password' }, onclick: openChangePassword }, icon('key'), 'Change password');
  const actions = h('div', { class: 'page-actions' }, changePassword, endOthers);
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader('My sessions', 'Devices where you are signed in. A session ends by itself after a period without activity.', actions), body);
  scope.effect(() => {
    const state = store.sessions.value;
    endOthers.disabled = !state.items.some((item) => !item.current);
    renderSessions(body, state);
  });
  store.loadSessions();
}

function renderSessions(body, state) {
  if (!state.loaded && state.loading) return setChildren(body, spinner('Loading sessions…'));
  if (state.error && !state.loaded) return setChildren(body, emptyState('alert', 'Sessions did not load', state.error));
  const sorted = [...state.items].sort((a, b) => Number(b.current) - Number(a.current) || Date.parse(b.last_seen_at) - Date.parse(a.last_seen_at));
  setChildren(
    body,
    h('div', { class: 'card-list' },
      sorted.map((item) =>
        h('article', { class: ['session-card', item.current && 'is-current'], dataset: { sessionId: item.id } },
          h('span', { class: 'session-icon' }, icon('monitor')),
          h('div', { class: 'session-main' },
            h('div', { class: 'session-device', title: item.device || '' }, describeDevice(item.device), item.current ? h('span', { class: 'chip chip-open' }, 'This device') : null),
            h('div', { class: 'session-meta' }, item.ip || 'IP unknown', ' · last active ', timeAgo(item.last_seen_at, { long: true }), ' · signed in ', dateTime(item.created_at)),
          ),
          item.current ? null : h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'end' }, onclick: () => store.endSession(item.id) }, 'End session'),
        ),
      ),
    ),
  );
}

async function confirmEndOthers() {
  const confirmed = await confirmAction({
    title: 'End all other sessions?',
    text: 'Every device except this one is signed out at once.',
    confirmLabel: 'End sessions',
    danger: true,
  });
  if (confirmed) store.endOtherSessions();
}

/** My own new password: the current one is asked; my other sessions end. */
function openChangePassword() {
  const me = store.session.peek().manager;
  return openModal({
    title: 'Change password',
    build: (close) => {
      const current = field('Current password', h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password', required: true }));
      const password = field('New password', h('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: 8, required: true }), {
        hint: '8 characters or more. Every other device where you are signed in is signed out.',
      });
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
      const form = h('form', { class: 'form', novalidate: true }, current.element, password.element, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, 'Cancel'), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          await whileBusy(save, store.updateManager(me.id, { password: password.input.value, current_password: current.input.value }));
          close(true);
          store.notify('Password changed. Your other sessions have ended.', 'success');
          store.loadSessions();
        } catch (error) {
          showFormErrors(error, { current_password: current, password }, formError, describeError);
        }
      });
      return form;
    },
  });
}
