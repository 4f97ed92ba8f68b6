// The live preview beside Settings → Online consultant: a small picture of a
// shop page with the widget's window and button, in the colours and texts
// being edited (settings-widget.js hands it the form's values and photo).

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';

/** A whole colour: the preview shows the last one typed, the form's colour field asks for one. */
export const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;

/** A small picture of a shop page with the widget's window and button, in the colours and texts being edited. */
export function widgetPreview() {
  let mode = 'online';
  let values = null;
  let photoUrl = null;
  let lastColor = '#4f46e5';
  const tabs = ['online', 'offline'].map((value) =>
    h('button', { type: 'button', role: 'tab', class: 'segment', dataset: { previewMode: value } }, value === 'online' ? t('settings_widget.preview_online') : t('settings_widget.preview_offline')));
  const headerAvatar = h('span', { class: 'wp-avatar' });
  const title = h('div', { class: 'wp-title' });
  const message = h('div', { class: 'wp-message' });
  const emailRow = h('div', { class: 'wp-email' }, h('span', {}, t('settings_widget.preview_email')), h('span', { class: 'wp-email-button' }, t('composer.send')));
  const stage = h('div', { class: 'wp-stage' },
    h('div', { class: 'wp-page', 'aria-hidden': 'true' }, h('span', { class: 'wp-bar is-wide' }), h('span', { class: 'wp-bar' }), h('span', { class: 'wp-bar is-short' }), h('span', { class: 'wp-block' }), h('span', { class: 'wp-bar' }), h('span', { class: 'wp-bar is-short' })),
    h('div', { class: 'wp-window' },
      h('div', { class: 'wp-header' }, headerAvatar, h('div', { class: 'wp-header-text' }, title, message)),
      h('div', { class: 'wp-body' }, emailRow),
      h('div', { class: 'wp-input' }, h('span', {}, t('settings_widget.preview_type')), icon('send')),
    ),
    h('div', { class: 'wp-launcher' }, icon('chat')),
  );
  const offNote = h('div', { class: 'wp-off-note' }, icon('eyeOff'), t('settings_widget.preview_off'));
  const element = h('div', { class: 'widget-preview' },
    h('div', { class: 'widget-preview-head' }, h('span', { class: 'widget-preview-title' }, t('settings_widget.preview')), h('div', { class: 'segmented is-compact', role: 'tablist' }, tabs)),
    stage,
    offNote,
  );

  const render = () => {
    if (!values) return;
    for (const tab of tabs) {
      tab.classList.toggle('is-selected', tab.dataset.previewMode === mode);
      tab.setAttribute('aria-selected', String(tab.dataset.previewMode === mode));
    }
    // A colour being typed shows once it is whole; meanwhile the last whole one stays.
    if (COLOR_PATTERN.test(values.color)) lastColor = values.color;
    const colorValue = lastColor;
    stage.style.setProperty('--wp-color', colorValue);
    stage.style.setProperty('--wp-on-color', readableOn(colorValue));
    stage.dataset.position = values.position;
    const online = mode === 'online';
    title.textContent = (online ? values.online_title : values.offline_title) || (online ? t('settings_widget.preview_online_title') : t('settings_widget.preview_offline_title'));
    message.textContent = online ? values.online_message : values.offline_message;
    message.hidden = !message.textContent;
    emailRow.hidden = online;
    headerAvatar.replaceChildren(!online && photoUrl ? h('img', { src: photoUrl, alt: '' }) : icon(online ? 'chat' : 'user'));
    element.classList.toggle('is-off', !values.enabled);
    offNote.hidden = values.enabled;
  };
  for (const tab of tabs) tab.onclick = () => {
    mode = tab.dataset.previewMode;
    render();
  };
  return {
    element,
    update(next) {
      values = next;
      render();
    },
    setPhoto(url) {
      photoUrl = url;
      render();
    },
  };
}

/** White or near-black text, whichever reads better on the colour (WCAG relative luminance). */
function readableOn(hex) {
  const channel = (offset) => {
    const value = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) ? '#ffffff' : '#111827';
}
