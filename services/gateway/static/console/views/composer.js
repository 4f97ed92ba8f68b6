// The composer under a dialog: Reply / Note toggle, a textarea (Enter sends,
// Shift+Enter starts a new line), files for a reply (composer-files.js), the
// channel a reply goes out through (with a warning when that messenger is not
// working), the templates popover beside Send, and a draft kept per dialog
// while the manager switches between dialogs.

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { paths } from '../router.js';
import { channelLabel } from '../format.js';
import { iconButton, openPopover, spinner } from './common.js';
import { mountComposerFiles } from './composer-files.js';
import { t, plural, locale } from '../i18n.js';

const drafts = new Map();
/**
 * The channel a manager picked per dialog, with where the contact last wrote
 * from at the time: once they write from elsewhere, the pick is forgotten and
 * replies follow them there. None picked: where the contact last wrote from.
 */
const pickedChannels = new Map();
const MAX_TEXTAREA_PX = 200;
/**
 * The longest text each channel takes, in characters: the suite's own limit
 * (4096), and Facebook's 2000. Longer is refused here, before it is sent.
 */
const LONGEST_TEXT = { facebook: 2000 };
const LONGEST_TEXT_ANYWHERE = 4096;
/** How often an open composer looks whether the messengers' health is due again (the store decides). */
const HEALTH_REFRESH_MS = 5000;

export function mountComposer(container, scope, dialogId, onSent) {
  let mode = 'reply';
  const textarea = h('textarea', {
    class: 'composer-input', rows: 1, 'aria-label': t('composer.message'),
    placeholder: t('composer.reply_placeholder'),
  });
  const replyTab = h('button', { type: 'button', role: 'tab', class: 'composer-tab', dataset: { mode: 'reply' } }, icon('chat'), t('composer.reply'));
  const noteTab = h('button', { type: 'button', role: 'tab', class: 'composer-tab', dataset: { mode: 'note' } }, icon('lock'), t('composer.note'));
  const templatesButton = iconButton('template', t('composer.insert_template'), null, { class: 'icon-button composer-templates', dataset: { action: 'templates' }, 'aria-haspopup': 'dialog' });
  const sendButton = h('button', { type: 'submit', class: 'btn btn-primary composer-send' }, h('span', { class: 'send-label' }, t('composer.send')), icon('send'));
  const hint = h('span', { class: 'composer-hint' }, t('composer.hint'));
  const channelSlot = h('div', { class: 'composer-channel' });
  const warning = h('div', { class: 'composer-warning', role: 'status', hidden: true });
  const tooLong = h('div', { class: 'composer-too-long', role: 'alert', hidden: true });
  let fits = true;
  let files = null;
  let channel = null;
  /**
   * Send is there for a text that fits, and a reply's files once uploaded,
   * while they can go where the reply goes (the site chat only, for now).
   */
  const refreshSend = () => {
    files?.refresh();
    const waiting = mode === 'reply' && Boolean(files?.uploading());
    const held = mode === 'reply' && Boolean(files?.held());
    sendButton.disabled = !fits || waiting || held;
    if (held) sendButton.title = t('attachments.site_only');
    else if (waiting) sendButton.title = t('attachments.wait');
    else sendButton.removeAttribute('title');
  };
  /** Where a reply goes: the channel chosen, or else where the dialog's replies go. */
  const replyChannel = () => channel?.chosen() || store.dialogs.peek().get(dialogId)?.reply_channel || 'site';
  // Files go with a reply, not a note: attaching one turns the composer to a reply.
  files = mountComposerFiles(scope, dialogId, {
    dropZone: container.closest('.conversation') || container,
    textarea,
    beforeAttach: () => {
      if (mode === 'note') setMode('reply');
    },
    onChange: refreshSend,
    allowed: () => replyChannel() === 'site',
  });
  const form = h(
    'form',
    { class: 'composer', 'aria-label': t('composer.reply') },
    h('div', { class: 'composer-tabs', role: 'tablist' }, replyTab, noteTab),
    warning,
    tooLong,
    files.notice,
    files.siteOnly,
    files.list,
    textarea,
    h('div', { class: 'composer-bar' }, h('div', { class: 'composer-left' }, channelSlot, hint), h('div', { class: 'composer-buttons' }, files.button, templatesButton, sendButton)),
    files.input,
  );
  container.append(form);
  /** Whether the text fits where it goes; says so over the composer when not. */
  const checkLength = () => {
    const where = mode === 'reply' ? channel?.chosen() || 'site' : 'note';
    const longest = LONGEST_TEXT[where] ?? LONGEST_TEXT_ANYWHERE;
    const length = [...textarea.value.trim()].length;
    fits = length <= longest;
    tooLong.hidden = fits;
    refreshSend();
    const key = where === 'note' ? 'composer.too_long_note' : 'composer.too_long_channel';
    const values = { length: new Intl.NumberFormat(locale()).format(length), channel: channelLabel(where) };
    setChildren(tooLong, fits ? [] : [icon('alert'), h('span', {}, plural(key, longest, values))]);
    return fits;
  };
  channel = mountChannelChoice(scope, dialogId, channelSlot, warning, () => mode, checkLength);

  const setMode = (next) => {
    mode = next;
    form.classList.toggle('is-note', mode === 'note');
    replyTab.classList.toggle('is-selected', mode === 'reply');
    noteTab.classList.toggle('is-selected', mode === 'note');
    replyTab.setAttribute('aria-selected', String(mode === 'reply'));
    noteTab.setAttribute('aria-selected', String(mode === 'note'));
    textarea.placeholder = t(mode === 'note' ? 'composer.note_placeholder' : 'composer.reply_placeholder');
    channel?.refresh();
    sendButton.querySelector('.send-label').textContent = t(mode === 'note' ? 'composer.add_note' : 'composer.send');
    checkLength();
    textarea.focus();
  };
  replyTab.onclick = () => setMode('reply');
  noteTab.onclick = () => setMode('note');
  setMode('reply');

  const autoGrow = () => {
    textarea.style.height = 'auto';
    textarea.style.height = Math.min(textarea.scrollHeight, MAX_TEXTAREA_PX) + 'px';
  };
  textarea.value = drafts.get(dialogId) || '';
  checkLength();
  requestAnimationFrame(autoGrow);
  textarea.addEventListener('input', () => {
    drafts.set(dialogId, textarea.value);
    autoGrow();
    checkLength();
  });

  const submit = () => {
    const text = textarea.value.trim();
    const replying = mode === 'reply';
    const withFiles = replying && files.ready().length > 0;
    if ((!text && !withFiles) || !checkLength() || (replying && (files.uploading() || files.held()))) return;
    store.send(dialogId, text, mode, replying ? channel.chosen() : null, replying ? files.take() : []);
    textarea.value = '';
    drafts.delete(dialogId);
    autoGrow();
    checkLength();
    requestAnimationFrame(onSent);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
    textarea.focus();
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });

  templatesButton.onclick = () =>
    openPopover(templatesButton, (close) => templatePicker(close, (text) => {
        insertText(textarea, text, autoGrow, dialogId);
        checkLength();
      }), {
      placement: 'top', align: 'end', className: 'templates-popover',
    });

  scope.onDispose(() => drafts.set(dialogId, textarea.value));
  textarea.focus();
}

/**
 * The channel a reply goes out through: a picker of the channels the contact
 * has written from (their last one first chosen), or just its name when there
 * is one messenger; nothing for a site-chat-only contact. A warning shows
 * while the chosen messenger is not connected or not working, before anyone
 * writes into it.
 */
function mountChannelChoice(scope, dialogId, slot, warning, currentMode, onChosen) {
  const options = (dialog) => (dialog?.channels?.length ? dialog.channels : ['site']);
  const chosen = () => {
    const dialog = store.dialogs.peek().get(dialogId);
    const offered = options(dialog);
    const picked = pickedChannels.get(dialogId);
    if (picked && dialog && picked.lastWrote !== dialog.reply_channel) pickedChannels.delete(dialogId);
    else if (picked && offered.includes(picked.channel)) return picked.channel;
    return offered.includes(dialog?.reply_channel) ? dialog.reply_channel : offered[offered.length - 1];
  };
  const render = () => {
    const dialog = store.dialogs.peek().get(dialogId);
    const offered = options(dialog);
    const current = chosen();
    const replying = currentMode() === 'reply';
    slot.hidden = !replying || (offered.length === 1 && current === 'site');
    if (offered.length > 1) {
      const select = h('select', { class: 'composer-channel-select', 'aria-label': t('composer.send_through') },
        offered.map((channel) => h('option', { value: channel, selected: channel === current }, channelLabel(channel))));
      select.onchange = () => {
        pickedChannels.set(dialogId, { channel: select.value, lastWrote: dialog?.reply_channel });
        render();
      };
      setChildren(slot, h('label', { class: 'composer-channel-label' }, around('composer.via', 'channel', select)));
    } else {
      setChildren(slot, h('span', { class: 'composer-channel-label' }, around('composer.via', 'channel', h('strong', {}, channelLabel(current)))));
    }
    renderWarning(warning, replying ? current : 'site');
    onChosen();
  };
  // The dialogs' map changes with every message of every dialog: redrawn
  // only when what it shows would change (a redrawn picker loses focus).
  let shown = null;
  scope.effect(() => {
    const dialog = store.dialogs.value.get(dialogId);
    const health = store.integrations.value;
    if (options(dialog).some((channel) => channel !== 'site')) store.loadIntegrations();
    const signature = JSON.stringify([dialog?.channels, dialog?.reply_channel, health.items]);
    if (signature === shown) return;
    shown = signature;
    untracked(render);
  });
  const timer = setInterval(() => {
    if (chosen() !== 'site') store.loadIntegrations();
  }, HEALTH_REFRESH_MS);
  scope.onDispose(() => clearInterval(timer));
  return { chosen: () => {
    const dialog = store.dialogs.peek().get(dialogId);
    // Site-chat-only contacts: the server's default, which is the same.
    return dialog?.channels?.length ? chosen() : null;
  }, refresh: render };
}

/** The warning over the composer while the chosen messenger cannot be relied on. */
function renderWarning(warning, channel) {
  const state = store.integrations.peek();
  const label = channelLabel(channel);
  const integration = state.items.find((item) => item.channel === channel);
  let problem = null;
  if (channel === 'site' || channel === 'email' || !state.loadedAt) problem = null;
  else if (!integration) problem = t('composer.not_connected', { channel: label });
  else if (!integration.health.healthy) {
    const reason = integration.health.last_error || t(!integration.health.token_valid ? 'composer.token_refused' : 'composer.no_messages_received');
    problem = t('composer.not_working', { channel: label, reason });
  }
  warning.hidden = !problem;
  warning.dataset.channel = problem ? channel : '';
  setChildren(warning, problem ? [icon('alert'), h('span', {}, problem, ' '), h('a', { href: paths.settings('integrations') }, t('composer.check_settings'))] : []);
}

/**
 * The words of key with an element where its {placeholder} is (word order
 * differs between languages): [before, node, after].
 */
function around(key, placeholder, node) {
  const [before, after = ''] = t(key).split(`{${placeholder}}`);
  return [before || null, node, after || null];
}

/** Puts text at the cursor (replacing a selection); the manager edits before sending. */
function insertText(textarea, text, autoGrow, dialogId) {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? textarea.value.length;
  textarea.setRangeText(text, start, end, 'end');
  drafts.set(dialogId, textarea.value);
  autoGrow();
  textarea.focus();
}

/** The templates popover: a filter input (filters as you type) and the list by name. */
function templatePicker(close, onPick) {
  const filterInput = h('input', { type: 'search', class: 'popover-search', placeholder: t('composer.filter_templates_placeholder'), 'aria-label': t('composer.filter_templates') });
  const list = h('div', { class: 'template-list', role: 'listbox' });
  let highlighted = 0;
  let shown = [];

  const pick = (template) => {
    close();
    onPick(template.text);
  };

  const render = () => {
    const state = store.templates.peek();
    if (!state.loaded) return setChildren(list, state.error ? h('div', { class: 'popover-empty' }, state.error) : spinner(t('composer.loading_templates')));
    const query = filterInput.value.trim().toLowerCase();
    shown = state.items.filter((template) => !query || template.name.toLowerCase().includes(query) || template.text.toLowerCase().includes(query));
    highlighted = Math.min(highlighted, Math.max(0, shown.length - 1));
    if (state.items.length === 0)
      return setChildren(list, h('div', { class: 'popover-empty' }, t('composer.no_templates'), ' ', h('a', { href: paths.settings('templates'), onclick: close }, t('composer.create_template'))));
    if (shown.length === 0) return setChildren(list, h('div', { class: 'popover-empty' }, t('composer.no_template_matches')));
    setChildren(
      list,
      shown.map((template, index) =>
        h(
          'button',
          {
            type: 'button', role: 'option', class: ['template-option', index === highlighted && 'is-highlighted'],
            'aria-selected': String(index === highlighted), dataset: { templateId: template.id },
            onclick: () => pick(template), onmouseenter: () => { highlighted = index; },
          },
          h('span', { class: 'template-name' }, template.name),
          h('span', { class: 'template-text' }, template.text),
        ),
      ),
    );
  };

  filterInput.addEventListener('input', () => {
    highlighted = 0;
    render();
  });
  filterInput.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      highlighted = (highlighted + (event.key === 'ArrowDown' ? 1 : -1) + shown.length) % Math.max(shown.length, 1);
      render();
      list.querySelector('.is-highlighted')?.scrollIntoView({ block: 'nearest' });
    } else if (event.key === 'Enter' && shown[highlighted]) {
      event.preventDefault();
      pick(shown[highlighted]);
    }
  });

  render();
  store.loadTemplates().then(render);
  return h('div', { class: 'template-picker' }, h('div', { class: 'popover-title' }, t('settings.templates')), filterInput, list);
}
