// Settings → My sessions: where I am signed in (device, IP, last activity,
// "This device"); end one, or end all the others; change my password, which
// ends the others too.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { confirmAction, spinner, emptyState, timeAgo, pageHeader, openModal, field, showFormErrors, whileBusy } from './common.js';
import { dateTime, describeDevice } from '../format.js';
import { t } from '../i18n.js';

export function mountSessionsPage(container, scope) {
  const endOthers = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { action: 'end-others' }, onclick: confirmEndOthers }, icon('logout'), t('settings_sessions.end_others'));
  const changePassword = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { action: 'change-password' }, onclick: openChangePassword }, icon('key'), t('settings_sessions.change_password'));
  const actions = h('div', { class: 'page-actions' }, changePassword, endOthers);
  const body = h('div', { class: 'page-body' });
  container.append(pageHeader(t('sidebar.my_sessions'), t('settings_sessions.description'), actions), body);
  scope.effect(() => {
    const state = store.sessions.value;
    endOthers.disabled = !state.items.some((item) => !item.current);
    renderSessions(body, state);
  });
  store.loadSessions();
}

function renderSessions(body, state) {
  if (!state.loaded && state.loading) return setChildren(body, spinner(t('settings_sessions.loading')));
  if (state.error && !state.loaded) return setChildren(body, emptyState('alert', t('settings_sessions.load_failed'), state.error));
  const sorted = [...state.items].sort((a, b) => Number(b.current) - Number(a.current) || Date.parse(b.last_seen_at) - Date.parse(a.last_seen_at));
  setChildren(
    body,
    h('div', { class: 'card-list' },
      sorted.map((item) =>
        h('article', { class: ['session-card', item.current && 'is-current'], dataset: { sessionId: item.id } },
          h('span', { class: 'session-icon' }, icon('monitor')),
          h('div', { class: 'session-main' },
            h('div', { class: 'session-device', title: item.device || '' }, describeDevice(item.device), item.current ? h('span', { class: 'chip chip-open' }, t('settings_sessions.this_device')) : null),
            h('div', { class: 'session-meta' }, withNodes('settings_sessions.meta', {
              ip: item.ip || t('settings_sessions.ip_unknown'), active: timeAgo(item.last_seen_at, { long: true }), signed_in: dateTime(item.created_at),
            })),
          ),
          item.current ? null : h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'end' }, onclick: () => store.endSession(item.id) }, t('settings_sessions.end')),
        ),
      ),
    ),
  );
}

async function confirmEndOthers() {
  const confirmed = await confirmAction({
    title: t('settings_sessions.end_others_title'),
    text: t('settings_sessions.end_others_text'),
    confirmLabel: t('settings_sessions.end_sessions'),
    danger: true,
  });
  if (confirmed) store.endOtherSessions();
}

/** My own new password: the current one is asked; my other sessions end. */
function openChangePassword() {
  const me = store.session.peek().manager;
  return openModal({
    title: t('settings_sessions.change_password'),
    build: (close) => {
      const current = field(t('settings_sessions.current_password'), h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password', required: true }));
      const password = field(t('settings_sessions.new_password'), h('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: 8, required: true }), {
        hint: t('settings_sessions.password_hint'),
      });
      const formError = h('div', { class: 'form-error', role: 'alert' });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings_sessions.change_password'));
      const form = h('form', { class: 'form', novalidate: true }, current.element, password.element, formError,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => close() }, t('common.cancel')), save));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          await whileBusy(save, store.updateManager(me.id, { password: password.input.value, current_password: current.input.value }));
          close(true);
          store.notify(t('settings_sessions.password_changed'), 'success');
          store.loadSessions();
        } catch (error) {
          showFormErrors(error, { current_password: current, password }, formError, describeError);
        }
      });
      return form;
    },
  });
}

/** The words of key with a node (or text) where each {placeholder} named in nodes is. */
function withNodes(key, nodes) {
  return t(key).split(/\{(\w+)\}/).map((piece, index) => (index % 2 ? nodes[piece] ?? `{${piece}}` : piece)).filter((piece) => piece !== '');
}
