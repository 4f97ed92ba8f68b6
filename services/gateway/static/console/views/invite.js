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

const MIN_PASSWORD_LENGTH = 8;

export function mountInvite(container, token) {
  return mountSetPassword(container, {
    title: 'Join your team',
    subtitle: 'Choose a password to accept the invitation.',
    submitLabel: 'Set password',
    save: (password) => store.acceptInvitation(token, password),
    invalid: 'This invitation link is no longer valid. Ask for a new one.',
    done: 'Sign in with your e-mail and the new password.',
  });
}

export function mountReset(container, token) {
  return mountSetPassword(container, {
    title: 'Set a new password',
    subtitle: 'Every device where you are signed in is signed out.',
    submitLabel: 'Set new password',
    save: (password) => store.confirmPasswordReset(token, password),
    invalid: h('span', {}, 'This link is no longer valid (it works once, for 30 minutes). ', h('a', { href: '#/forgot' }, 'Ask for a new one'), '.'),
    done: 'Sign in with your e-mail and the new password.',
  });
}

/** A password and its repeat, saved by `save`; then a card to sign in. */
function mountSetPassword(container, { title, subtitle, submitLabel, save, invalid, done }) {
  const password = field('New password', h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD_LENGTH }), {
    hint: `At least ${MIN_PASSWORD_LENGTH} characters.`,
  });
  const repeat = field('Repeat the password', h('input', { type: 'password', name: 'repeat', autocomplete: 'new-password', required: true }));
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, submitLabel);
  const card = h('form', { class: 'auth-card', novalidate: true });

  const showDone = () =>
    setChildren(
      card,
      brand(),
      h('div', { class: 'auth-done' }, icon('checkCircle')),
      h('h1', {}, 'Your password is set'),
      h('p', { class: 'auth-subtitle' }, done),
      h('a', { class: 'btn btn-primary btn-block', href: '#/dialogs' }, 'Go to sign in'),
    );

  card.addEventListener('submit', async (event) => {
    event.preventDefault();
    password.setError('');
    repeat.setError('');
    error.textContent = '';
    if (password.input.value.length < MIN_PASSWORD_LENGTH) return password.setError(`Use at least ${MIN_PASSWORD_LENGTH} characters.`);
    if (password.input.value !== repeat.input.value) return repeat.setError('The passwords differ.');
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
  const email = field('E-mail', h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true }));
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Send me a link');
  const back = h('p', { class: 'auth-aside' }, h('a', { href: '#/dialogs' }, 'Back to sign in'));
  const card = h('form', { class: 'auth-card', novalidate: true });
  card.addEventListener('submit', async (event) => {
    event.preventDefault();
    email.setError('');
    error.textContent = '';
    const address = email.input.value.trim();
    if (!address.includes('@')) return email.setError('Enter the e-mail you sign in with.');
    try {
      await whileBusy(submit, store.requestPasswordReset(address));
      setChildren(
        card,
        brand(),
        h('div', { class: 'auth-done' }, icon('mail')),
        h('h1', {}, 'Check your e-mail'),
        h('p', { class: 'auth-subtitle' }, `If a manager signs in with ${address}, a link to set a new password is on its way. It works once, for 30 minutes.`),
        back,
      );
    } catch (failure) {
      showFormErrors(failure, { email }, error, describeError);
    }
  });
  setChildren(card, brand(), h('h1', {}, 'Forgot your password?'), h('p', { class: 'auth-subtitle' }, 'We will e-mail you a link to set a new one.'), email.element, error, submit, back);
  container.append(h('main', { class: 'auth-screen' }, card));
  email.input.focus();
  return () => {};
}
