// The invitation page (#/invite/<token>): the invited manager sets a
// password, then goes on to sign in.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { field, showFormErrors, whileBusy } from './common.js';
import { brand } from './login.js';

const MIN_PASSWORD_LENGTH = 8;

export function mountInvite(container, token) {
  const password = field('New password', h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD_LENGTH }), {
    hint: `At least ${MIN_PASSWORD_LENGTH} characters.`,
  });
  const repeat = field('Repeat the password', h('input', { type: 'password', autocomplete: 'new-password', required: true }));
  const error = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set password');
  const card = h('form', { class: 'auth-card', novalidate: true });

  const showDone = () =>
    setChildren(
      card,
      brand(),
      h('div', { class: 'auth-done' }, icon('checkCircle')),
      h('h1', {}, 'Your password is set'),
      h('p', { class: 'auth-subtitle' }, 'Sign in with your e-mail and the new password.'),
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
      await whileBusy(submit, store.acceptInvitation(token, password.input.value));
      showDone();
    } catch (failure) {
      if (failure.status === 404 || failure.status === 401) error.textContent = 'This invitation link is no longer valid. Ask for a new one.';
      else showFormErrors(failure, { password }, error, describeError);
    }
  });

  setChildren(
    card,
    brand(),
    h('h1', {}, 'Join your team'),
    h('p', { class: 'auth-subtitle' }, 'Choose a password to accept the invitation.'),
    password.element,
    repeat.element,
    error,
    submit,
  );
  container.append(h('main', { class: 'auth-screen' }, card));
  password.input.focus();
  return () => {};
}
