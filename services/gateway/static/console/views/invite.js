// Pages reached by a link, before signing in: the invitation
// (#/invite/<token>) and a "Forgot password?" link (#/reset/<token>), where
// a manager sets a password and then signs in; and #/forgot, where they ask
// for such a link by e-mail.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { field, showFormErrors, whileBusy } from './common.js';
import { brand } from './login.js';
import { t, plural } from '../i18n.js';

const MIN_PASSWORD_LENGTH = 8;

export function mountInvite(container, token) {
  return mountSetPassword(container, {
    title: t('invite.invite_title'),
    subtitle: t('invite.invite_subtitle'),
    submitLabel: t('invite.set_password'),
    save: (password) => store.acceptInvitation(token, password),
    invalid: t('invite.invite_invalid'),
    done: t('invite.done'),
  });
}

export function mountReset(container, token) {
  return mountSetPassword(container, {
    title: t('invite.reset_title'),
    subtitle: t('invite.reset_subtitle'),
    submitLabel: t('invite.set_new_password'),
    save: (password) => store.confirmPasswordReset(token, password),
    invalid: h('span', {}, withNodes('invite.reset_invalid', { link: h('a', { href: '#/forgot' }, t('invite.ask_new_link')) })),
    done: t('invite.done'),
  });
}

/** The words of key with nodes in place of their {placeholders}. */
function withNodes(key, nodes) {
  return t(key).split(/\{(\w+)\}/).map((part, index) => (index % 2 ? nodes[part] ?? `{${part}}` : part)).filter((part) => part !== '');
}

/** A password and its repeat, saved by `save`; then a card to sign in. */
function mountSetPassword(container, { title, subtitle, submitLabel, save, invalid, done }) {
  const password = field(t('settings_sessions.new_password'), h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD_LENGTH }), {
    hint: plural('invite.password_hint', MIN_PASSWORD_LENGTH),
  });
  const repeat = field(t('invite.repeat'), h('input', { type: 'password', name: 'repeat', autocomplete: 'new-password', required: true }));
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, submitLabel);
  const card = h('form', { class: 'auth-card', novalidate: true });

  const showDone = () =>
    setChildren(
      card,
      brand(),
      h('div', { class: 'auth-done' }, icon('checkCircle')),
      h('h1', {}, t('invite.done_title')),
      h('p', { class: 'auth-subtitle' }, done),
      h('a', { class: 'btn btn-primary btn-block', href: '#/dialogs' }, t('invite.go_sign_in')),
    );

  card.addEventListener('submit', async (event) => {
    event.preventDefault();
    password.setError('');
    repeat.setError('');
    error.textContent = '';
    if (password.input.value.length < MIN_PASSWORD_LENGTH) return password.setError(plural('invite.too_short', MIN_PASSWORD_LENGTH));
    if (password.input.value !== repeat.input.value) return repeat.setError(t('invite.differ'));
    try {
      await whileBusy(submit, save(password.input.value));
      showDone();
    } catch (failure) {
      if (failure.status === 404 || failure.status === 401) setChildren(error, invalid);
      else showFormErrors(failure, { password }, error, describeError);
    }
  });

  setChildren(card, brand(), h('h1', {}, title), h('p', { class: 'auth-subtitle' }, subtitle), password.element, repeat.element, error, submit);
  container.append(h('main', { class: 'auth-screen' }, card));
  password.input.focus();
  return () => {};
}

/** "Forgot password?": the address, then the same answer whether it is known or not. */
export function mountForgot(container) {
  const email = field(t('login.email'), h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true }));
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('invite.send_link'));
  const back = h('p', { class: 'auth-aside' }, h('a', { href: '#/dialogs' }, t('invite.back')));
  const card = h('form', { class: 'auth-card', novalidate: true });
  card.addEventListener('submit', async (event) => {
    event.preventDefault();
    email.setError('');
    error.textContent = '';
    const address = email.input.value.trim();
    if (!address.includes('@')) return email.setError(t('invite.enter_email'));
    try {
      await whileBusy(submit, store.requestPasswordReset(address));
      setChildren(
        card,
        brand(),
        h('div', { class: 'auth-done' }, icon('mail')),
        h('h1', {}, t('invite.check_email')),
        h('p', { class: 'auth-subtitle' }, t('invite.link_sent', { address })),
        back,
      );
    } catch (failure) {
      showFormErrors(failure, { email }, error, describeError);
    }
  });
  setChildren(card, brand(), h('h1', {}, t('invite.forgot_title')), h('p', { class: 'auth-subtitle' }, t('invite.forgot_subtitle')), email.element, error, submit, back);
  container.append(h('main', { class: 'auth-screen' }, card));
  email.input.focus();
  return () => {};
}
