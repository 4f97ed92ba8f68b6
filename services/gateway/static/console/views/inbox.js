// The main screen: the top bar (brand, contact search, connection state), the
// "Reconnecting…" banner, and the columns: left panel, dialogs list, the open
// dialog or contact, and the contact panel; or, at #/visitors, the left panel
// and the visitors on the site.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { createScope, untracked } from '../signals.js';
import { mountSidebar } from './sidebar.js';
import { mountDialogList } from './dialog-list.js';
import { mountConversation } from './conversation.js';
import { mountContactView } from './contact-view.js';
import { mountContactPanel } from './contact-panel.js';
import { mountVisitors } from './visitors.js';
import { emptyState } from './common.js';
import { mountGettingStarted, offersGettingStarted } from './getting-started.js';
import { brand } from './login.js';
import { navigate, paths } from '../router.js';
import { t } from '../i18n.js';

export function mountInbox(container, scope) {
  const main = h('main', { class: 'main-column' });
  const side = h('div', { class: 'contact-column' });
  const workspace = h('div', { class: 'workspace' });
  container.append(h('div', { class: 'app' }, topBar(scope), connectionBanner(scope), workspace));
  mountSidebar(workspace, scope);
  mountDialogList(workspace, scope);
  workspace.append(main, side);
  mountContactPanel(side, scope);

  let mainScope = createScope();
  let mainKey = null;
  scope.onDispose(() => mainScope.dispose());
  scope.effect(() => {
    const current = store.route.value;
    const key = current.name === 'dialog' || current.name === 'contact' ? `${current.name}:${current.id}` : current.name === 'visitors' ? 'visitors' : 'empty';
    if (key === mainKey) return;
    mainKey = key;
    mainScope.dispose();
    mainScope = createScope();
    main.replaceChildren();
    workspace.classList.toggle('has-selection', key !== 'empty' && key !== 'visitors');
    workspace.classList.toggle('shows-visitors', key === 'visitors');
    untracked(() => {
      if (current.name === 'visitors') mountVisitors(main, mainScope);
      else if (current.name === 'dialog') mountConversation(main, mainScope, current.id);
      else if (current.name === 'contact') mountContactView(main, mainScope, current.id);
      else {
        const pickADialog = () => main.append(emptyState('chat', t('inbox.pick_title'), t('inbox.pick_text')));
        if (offersGettingStarted(store.session.peek().manager)) mountGettingStarted(main, mainScope, pickADialog);
        else pickADialog();
      }
    });
  });
}

function topBar(scope) {
  const input = h('input', {
    type: 'search', class: 'search-input', placeholder: t('inbox.search_placeholder'),
    'aria-label': t('inbox.search_label'), autocomplete: 'off', spellcheck: 'false',
  });
  const form = h('form', { class: 'search', role: 'search' }, icon('search'), input, h('kbd', { class: 'search-kbd' }, '/'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) store.searchContacts(input.value);
    else store.closeSearch();
    // The results are in the dialogs column, which the visitors page hides.
    if (input.value.trim() && store.route.peek().name === 'visitors') navigate(paths.inbox());
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      input.value = '';
      store.closeSearch();
      input.blur();
    }
  });
  const onSlash = (event) => {
    if (event.key !== '/' || event.target.closest('input, textarea, [contenteditable]')) return;
    event.preventDefault();
    input.focus();
  };
  document.addEventListener('keydown', onSlash);
  scope.onDispose(() => document.removeEventListener('keydown', onSlash));

  const status = h('div', { class: 'connection-status', role: 'status' });
  scope.effect(() => {
    const state = store.connection.value;
    const online = state === 'online';
    status.className = ['connection-status', online ? 'is-online' : 'is-offline'].join(' ');
    setChildren(status, h('span', { class: 'connection-dot' }), t(online ? 'inbox.live' : state === 'connecting' ? 'inbox.connecting' : 'inbox.offline'));
  });
  return h('header', { class: 'topbar' }, brand(), form, status);
}

function connectionBanner(scope) {
  const banner = h('div', { class: 'connection-banner', role: 'alert', hidden: true }, icon('wifiOff'), h('span', {}, t('inbox.reconnecting')));
  let showTimer = null;
  scope.effect(() => {
    const state = store.connection.value;
    clearTimeout(showTimer);
    if (state === 'reconnecting') showTimer = setTimeout(() => { banner.hidden = false; }, 800);
    else banner.hidden = true;
  });
  scope.onDispose(() => clearTimeout(showTimer));
  return banner;
}
