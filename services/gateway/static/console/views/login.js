// The sign-in screen: e-mail and password, with clear errors for wrong
// credentials (401 bad_credentials) and too many attempts (429, Retry-After);
// an address that manages several shops then picks one (409 account_choice).

import { h } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { whileBusy } from './common.js';
import { t } from '../i18n.js';

export function brand() {
  return h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, icon('chat')), h('span', { class: 'brand-name' }, t('app.brand')));
}

export function mountLogin(container) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true, placeholder: 'you@shop.com' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, placeholder: '••••••••' });
  const error = h('div', { class: 'form-error', role: 'alert', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.submit'));
  let countdown = null;

  const showRateLimit = (seconds) => {
    clearInterval(countdown);
    let left = seconds ?? 30;
    const render = () => {
      error.textContent = t('login.too_many', { seconds: left });
      submit.disabled = left > 0;
    };
    render();
    countdown = setInterval(() => {
      left -= 1;
      render();
      if (left <= 0) {
        clearInterval(countdown);
        error.textContent = '';
      }
    }, 1000);
  };

  // The shops to choose from, once the e-mail and password opened several.
  const shops = h('div', { class: 'shop-choice', hidden: true, role: 'group', 'aria-labelledby': 'shop-choice-title' });
  const showShops = (accounts) => {
    shops.replaceChildren(
      h('p', { id: 'shop-choice-title', class: 'auth-subtitle' }, t('login.choose_shop')),
      ...accounts.map((account) =>
        h('button', { type: 'button', class: 'btn btn-secondary btn-block', dataset: { accountId: account.id }, onclick: (click) => signIn(click.currentTarget, account.id) }, account.name),
      ),
    );
    shops.hidden = false;
    submit.hidden = true;
  };

  const signIn = async (button, accountId) => {
    error.textContent = '';
    try {
      await whileBusy(button, store.login(email.value.trim(), password.value, accountId));
    } catch (failure) {
      if (failure.code === 'account_choice' && failure.accounts?.length) {
        showShops(failure.accounts);
      } else if (failure.code === 'bad_credentials' || failure.status === 401) {
        error.textContent = t('login.wrong');
        password.select();
      } else if (failure.code === 'rate_limited') {
        showRateLimit(failure.retryAfter);
      } else {
        error.textContent = describeError(failure);
      }
    }
  };

  const onSubmit = (event) => {
    event.preventDefault();
    signIn(submit, undefined);
  };
  // Another e-mail or password: the choice no longer stands.
  const resetChoice = () => {
    shops.hidden = true;
    submit.hidden = false;
  };
  email.addEventListener('input', resetChoice);
  password.addEventListener('input', resetChoice);

  const form = h(
    'form',
    { class: 'auth-card', onsubmit: onSubmit, 'aria-labelledby': 'login-title' },
    brand(),
    h('h1', { id: 'login-title' }, t('login.title')),
    h('p', { class: 'auth-subtitle' }, t('login.subtitle')),
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, t('login.email')), Object.assign(email, { id: 'login-email' })),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), Object.assign(password, { id: 'login-password' })),
    error,
    submit,
    shops,
    h('p', { class: 'auth-aside' }, h('a', { href: '#/forgot', dataset: { action: 'forgot' } }, t('login.forgot'))),
  );
  container.append(h('main', { class: 'auth-screen' }, form));
  email.focus();
  return () => clearInterval(countdown);
}
