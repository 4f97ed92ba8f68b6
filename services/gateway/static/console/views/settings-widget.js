// Settings → Online consultant: every field of the widget settings in one
// form, beside a live preview of the widget's button and window. Nothing is
// saved until Save (a sticky footer with Save and "Discard changes";
// leaving with unsaved changes asks first), which PUTs every editable field
// at once; a 422 shows each field's problem under its input. Owners and
// admins edit; managers see the page read-only. Also: the snippet to paste,
// the identity secret, and a check of the hidden-pages patterns against a
// few addresses before saving.

import { h, setChildren } from '../dom.js';
import { untracked } from '../signals.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { describeError } from '../api.js';
import { setLeaveGuard, navigate } from '../router.js';
import { SOUND_NAMES, previewSound } from '../sound.js';
import { confirmAction, field, spinner, emptyState, pageHeader, whileBusy, timeAgo, settingsCard } from './common.js';

const TITLE_MAX_CHARS = 60;
const MESSAGE_MAX_CHARS = 300;
const PHOTO_MAX_BYTES = 1024 * 1024;
const PREVIEW_MAX_URLS = 20;
const PREVIEW_DEBOUNCE_MS = 400;
const COPIED_LABEL_MS = 2000;
const PREVIEW_URLS_STORAGE_KEY = 'console.widgetPreviewUrls';
const COLOR_PATTERN = /^#[0-9a-fA-F]{6}$/;

const SOUND_LABELS = { chime: 'Chime', bell: 'Bell', pop: 'Pop', none: 'No sound' };
const POSITIONS = [
  { value: 'bottom_right', label: 'Bottom right' },
  { value: 'bottom_left', label: 'Bottom left' },
];
/** The languages the widget speaks, each named in itself. */
const LANGUAGES = [
  { value: 'en', label: 'English' },
  { value: 'ru', label: 'Русский' },
];
/** The list fields, edited one entry a line. */
const LIST_FIELDS = ['hidden_pages', 'allowed_origins'];

const canEdit = (manager) => manager?.role === 'owner' || manager?.role === 'admin';

export function mountWidgetSettingsPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(
    pageHeader('Online consultant', 'The chat on your shop’s pages: whether it shows, how it looks and what it says. Widgets on open pages take your changes as soon as you save.'),
    body,
  );
  let form = null;
  scope.effect(() => {
    const state = store.widgetSettings.value;
    if (form) return untracked(() => form.settingsChanged(state.settings));
    if (!state.settings && (state.loading || !state.loaded) && !state.error) return setChildren(body, spinner('Loading the settings…'));
    if (!state.settings)
      return setChildren(body, emptyState('alert', 'The settings did not load', state.error,
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => store.loadWidgetSettings() }, 'Try again')));
    form = untracked(() => buildForm(state.settings, store.session.peek().manager, scope));
    setChildren(body, form.element);
  });
  store.loadWidgetSettings();
}

// ---------------------------------------------------------------- the form

function buildForm(initial, manager, scope) {
  const editable = canEdit(manager);
  let baseline = initial; // the saved settings the form started from
  let photoChange; // undefined: keep; null: remove; { base64, dataUrl }: a new one
  let saving = false;
  let leaving = false;
  let justSaved = false;
  let lastLines = { hidden_pages: [], allowed_origins: [] };

  // --- inputs
  const enabled = h('input', { type: 'checkbox', name: 'enabled', role: 'switch', class: 'switch-input' });
  const enabledGroup = group('', h('label', { class: 'switch-row' },
    h('span', { class: 'switch-text' },
      h('span', { class: 'switch-title' }, 'Show the chat on my site'),
      h('span', { class: 'switch-sub' }, 'When off, the widget shows nothing on any page.')),
    h('span', { class: 'switch' }, enabled, h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' }))),
  ));

  const positionInputs = POSITIONS.map(({ value }) => h('input', { type: 'radio', name: 'position', value, class: 'radio-card-input' }));
  const positionGroup = group('Button position', h('div', { class: 'radio-cards' },
    POSITIONS.map(({ value, label }, index) =>
      h('label', { class: 'radio-card', dataset: { position: value } },
        positionInputs[index],
        h('span', { class: 'radio-card-art', 'aria-hidden': 'true' }, h('span', { class: 'radio-card-bar' }), h('span', { class: 'radio-card-bar is-short' }), h('span', { class: 'radio-card-dot' })),
        h('span', { class: 'radio-card-label' }, label),
      ),
    ),
  ));

  const language = field('The widget speaks', h('select', { name: 'language' }, LANGUAGES.map(({ value, label }) => h('option', { value, lang: value }, label))), {
    hint: 'Its buttons, hints, notices and times. Your titles and messages show as you write them.',
  });
  const fromBrowser = h('input', { type: 'checkbox', name: 'language_from_browser', role: 'switch', class: 'switch-input' });
  const fromBrowserGroup = group('', h('label', { class: 'switch-row' },
    h('span', { class: 'switch-text' },
      h('span', { class: 'switch-title' }, 'Speak each visitor’s browser language'),
      h('span', { class: 'switch-sub' }, 'When it is one of the above; other visitors get the language chosen here.')),
    h('span', { class: 'switch' }, fromBrowser, h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' }))),
  ));

  const colorText = h('input', { type: 'text', name: 'color', class: 'color-text', spellcheck: 'false', autocomplete: 'off', placeholder: '#4f46e5' });
  const colorPicker = h('input', { type: 'color', class: 'color-swatch', 'aria-label': 'Pick the colour' });
  const color = field('Colour', colorText, { hint: 'Of the button and the window’s header, as #rrggbb.' });
  const colorRow = h('div', { class: 'color-row' });
  colorText.replaceWith(colorRow);
  colorRow.append(colorPicker, colorText);

  const onlineTitle = countedField('Title', h('input', { type: 'text', name: 'online_title', autocomplete: 'off' }), TITLE_MAX_CHARS);
  const onlineMessage = countedField('Message', h('textarea', { name: 'online_message', rows: 3 }), MESSAGE_MAX_CHARS);
  const offlineTitle = countedField('Title', h('input', { type: 'text', name: 'offline_title', autocomplete: 'off' }), TITLE_MAX_CHARS);
  const offlineMessage = countedField('Message', h('textarea', { name: 'offline_message', rows: 3 }), MESSAGE_MAX_CHARS);

  const photoInput = h('input', { type: 'file', name: 'offline_photo', accept: 'image/png,image/jpeg,image/webp', class: 'visually-hidden', tabindex: '-1' });
  const photoPreview = h('div', { class: 'photo-preview' });
  const choosePhoto = h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'choose-photo' }, onclick: () => photoInput.click() }, icon('image'), 'Choose a photo…');
  const removePhoto = h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'remove-photo' } }, icon('trash'), 'Remove');
  const photoNote = h('span', { class: 'photo-note' });
  const photo = group('Offline assistant’s photo', h('div', { class: 'photo-row' },
    photoPreview,
    h('div', { class: 'photo-actions' }, h('div', { class: 'photo-buttons' }, choosePhoto, removePhoto), photoNote, photoInput),
  ), { hint: 'PNG, JPEG or WebP, up to 1 MiB. Shown beside the offline title while none of your managers is online.' });

  const managerSound = soundField('Managers hear', 'manager_sound', 'In this console, when a visitor writes (the sound switch at the bottom left still mutes it).');
  const visitorSound = soundField('Visitors hear', 'visitor_sound', 'In the widget, when you answer.');

  const hiddenPages = field('Patterns', h('textarea', { name: 'hidden_pages', rows: 5, spellcheck: 'false', class: 'mono', placeholder: '/checkout/*\nshop.example.com/account/*' }), {
    hint: h('span', {}, 'One per line. A pattern starting with ', h('code', {}, '/'), ' matches the path and query (', h('code', {}, '/checkout/*'),
      '); any other, the address without http(s):// (', h('code', {}, 'shop.example.com/account/*'), '). ', h('code', {}, '*'), ' is any characters, ',
      h('code', {}, '?'), ' one, ', h('code', {}, '[abc]'), ' one of those, ', h('code', {}, '{cart,checkout}'), ' one of the words. Case and the part after # are ignored.'),
  });
  const previewUrls = h('textarea', { class: 'preview-urls mono', rows: 4, spellcheck: 'false', 'aria-label': 'Addresses to check, one per line' });
  const previewResults = h('ul', { class: 'preview-results', 'aria-live': 'polite' });
  const previewBox = h('div', { class: 'pattern-preview', dataset: { state: 'idle' } },
    h('div', { class: 'pattern-preview-head' }, icon('eye'), h('span', { class: 'pattern-preview-title' }, 'Preview'), h('span', { class: 'pattern-preview-sub' }, 'Paste addresses of your shop, one per line, to see where the widget would show with the patterns above (before you save).')),
    previewUrls,
    previewResults,
  );

  const allowedOrigins = field('Sites', h('textarea', { name: 'allowed_origins', rows: 3, spellcheck: 'false', class: 'mono', placeholder: 'https://shop.example.com' }), {
    hint: 'One site per line, like https://shop.example.com or http://localhost:8080, without a path. Left empty, the widget answers on any site: handy while you try it, but list your shop before going live.',
  });

  const fieldsByName = {
    enabled: enabledGroup, position: positionGroup, color, online_title: onlineTitle, online_message: onlineMessage,
    offline_title: offlineTitle, offline_message: offlineMessage, offline_photo: photo, manager_sound: managerSound,
    visitor_sound: visitorSound, hidden_pages: hiddenPages, allowed_origins: allowedOrigins,
    language, language_from_browser: fromBrowserGroup,
  };
  const editableControls = [enabled, ...positionInputs, colorText, colorPicker, onlineTitle.input, onlineMessage.input, offlineTitle.input,
    offlineMessage.input, managerSound.input, visitorSound.input, hiddenPages.input, allowedOrigins.input, photoInput, choosePhoto, removePhoto,
    language.input, fromBrowser];

  // --- read-only parts
  const snippet = h('code', {});
  const copySnippet = copyButton(() => snippet.textContent, { action: 'copy-snippet' });
  const secretSection = h('div', { class: 'secret-section' });

  // --- the live preview
  const preview = widgetPreview();

  // --- footer
  const status = h('span', { class: 'save-status', role: 'status' });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const discard = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { action: 'discard' } }, 'Discard changes');
  const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { action: 'save' } }, 'Save');
  const footer = h('div', { class: 'save-bar' }, h('div', { class: 'save-bar-inner' }, status, formError, h('div', { class: 'save-bar-buttons' }, discard, save)));

  const readOnlyNotice = editable ? null : h('div', { class: 'notice' }, icon('lock'),
    h('span', {}, 'Only owners and admins can change these settings. You can look at them, play the sounds and try the hidden pages.'));
  const changedNotice = h('div', { class: 'notice is-warning', hidden: true }, icon('alert'),
    h('span', {}, 'Someone else has just saved these settings. Saving now would replace their changes with yours.'),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'load-theirs' }, onclick: () => discardChanges() }, 'Discard mine, load theirs'));

  const form = h('form', { class: ['widget-settings', !editable && 'is-read-only'], novalidate: true, 'aria-label': 'Online consultant settings' },
    readOnlyNotice,
    changedNotice,
    h('div', { class: 'widget-layout' },
      h('div', { class: 'widget-form' },
        settingsCard('Chat', null, enabledGroup.element),
        settingsCard('Look', 'The button in the corner of every page, and the window it opens.', positionGroup.element, color.element),
        settingsCard('Language', null, h('div', { class: 'form-row' }, language.element), fromBrowserGroup.element),
        settingsCard('While a manager is online', 'Shown while any of your managers has the console open.', onlineTitle.element, onlineMessage.element),
        settingsCard('While nobody is online', 'Shown while none of your managers is online, with a field for the visitor’s e-mail so that you can answer later.',
          offlineTitle.element, offlineMessage.element, photo.element),
        settingsCard('Sounds', 'What plays when a new message arrives.', h('div', { class: 'form-row' }, managerSound.element, visitorSound.element)),
        settingsCard('Hidden pages', 'Pages where the widget does not show at all, like the checkout.', hiddenPages.element, previewBox),
        settingsCard('Allowed sites', 'The sites whose pages may show your widget.', allowedOrigins.element),
        settingsCard('Put it on your site', null,
          h('div', { class: 'field' },
            h('div', { class: 'field-label-row' }, h('span', { class: 'field-label' }, 'Snippet'), copySnippet),
            h('pre', { class: 'snippet', dataset: { field: 'snippet' } }, snippet),
            h('div', { class: 'field-hint' }, 'Paste it before </body> on every page of your shop, or once in your theme’s layout.')),
          secretSection),
      ),
      h('aside', { class: 'widget-preview-column', 'aria-label': 'Preview' }, preview.element),
    ),
    editable ? footer : null,
  );

  // --- behaviour
  const lines = (text) => {
    const values = [];
    const numbers = [];
    text.split('\n').forEach((line, index) => {
      const value = line.trim();
      if (!value) return;
      values.push(value);
      numbers.push(index + 1);
    });
    return { values, numbers };
  };

  const readForm = () => {
    const hidden = lines(hiddenPages.input.value);
    const origins = lines(allowedOrigins.input.value);
    return {
      values: {
        enabled: enabled.checked,
        manager_sound: managerSound.input.value,
        visitor_sound: visitorSound.input.value,
        position: positionInputs.find((input) => input.checked)?.value ?? baseline.position,
        color: colorText.value.trim().toLowerCase(),
        online_title: onlineTitle.input.value,
        online_message: onlineMessage.input.value,
        offline_title: offlineTitle.input.value,
        offline_message: offlineMessage.input.value,
        hidden_pages: hidden.values,
        allowed_origins: origins.values,
        language: language.input.value,
        language_from_browser: fromBrowser.checked,
      },
      lines: { hidden_pages: hidden.numbers, allowed_origins: origins.numbers },
    };
  };

  const isDirty = () => photoChange !== undefined || JSON.stringify(readForm().values) !== JSON.stringify(editableValues(baseline));

  const fill = (settings) => {
    enabled.checked = Boolean(settings.enabled);
    for (const input of positionInputs) input.checked = input.value === settings.position;
    colorText.value = settings.color || '';
    if (COLOR_PATTERN.test(settings.color || '')) colorPicker.value = settings.color.toLowerCase();
    onlineTitle.input.value = settings.online_title || '';
    onlineMessage.input.value = settings.online_message || '';
    offlineTitle.input.value = settings.offline_title || '';
    offlineMessage.input.value = settings.offline_message || '';
    managerSound.input.value = settings.manager_sound || 'chime';
    visitorSound.input.value = settings.visitor_sound || 'chime';
    hiddenPages.input.value = (settings.hidden_pages || []).join('\n');
    allowedOrigins.input.value = (settings.allowed_origins || []).join('\n');
    language.input.value = settings.language || 'en';
    fromBrowser.checked = settings.language_from_browser !== false;
    photoInput.value = '';
  };

  const clearErrors = () => {
    for (const entry of Object.values(fieldsByName)) entry.setError('');
    formError.textContent = '';
  };

  const renderReadOnly = (settings) => {
    snippet.textContent = snippetFor(settings.site_key);
    renderSecret(secretSection, settings, editable);
  };

  const renderPhoto = () => {
    const url = photoChange === undefined ? baseline.offline_photo_url : photoChange?.dataUrl ?? null;
    photoPreview.replaceChildren(url ? photoImage(url) : h('span', { class: 'photo-empty' }, icon('user')));
    photoPreview.classList.toggle('has-photo', Boolean(url));
    removePhoto.hidden = !editable || !url;
    photoNote.textContent = photoChange === null ? 'The photo will be removed when you save.' : photoChange ? `${photoChange.name}: saved when you save.` : '';
    preview.setPhoto(url);
  };

  const updateCounters = () => {
    for (const counted of [onlineTitle, onlineMessage, offlineTitle, offlineMessage]) counted.updateCount();
    managerSound.sync();
    visitorSound.sync();
  };

  const updatePreview = () => {
    const { values } = readForm();
    preview.update(values);
  };

  const updateState = () => {
    const dirty = isDirty();
    form.classList.toggle('is-dirty', dirty);
    save.disabled = !dirty || saving;
    discard.disabled = !dirty || saving;
    if (dirty) justSaved = false;
    if (dirty) setChildren(status, h('span', { class: 'status-dot' }), 'You have unsaved changes');
    else if (justSaved) setChildren(status, icon('checkCircle'), 'Saved');
    else setChildren(status, baseline.updated_at ? ['Last saved ', timeAgo(baseline.updated_at, { long: true })] : '');
    status.className = ['save-status', dirty && 'is-dirty', !dirty && justSaved && 'is-saved'].filter(Boolean).join(' ');
    if (!dirty) changedNotice.hidden = true;
  };

  const refreshAll = () => {
    updateCounters();
    updatePreview();
    renderPhoto();
    updateState();
  };

  const discardChanges = () => {
    photoChange = undefined;
    baseline = store.widgetSettings.peek().settings || baseline;
    fill(baseline);
    renderReadOnly(baseline);
    clearErrors();
    changedNotice.hidden = true;
    refreshAll();
    schedulePreview();
  };
  discard.onclick = discardChanges;

  colorPicker.addEventListener('input', () => {
    colorText.value = colorPicker.value;
    color.setError('');
  });
  colorText.addEventListener('input', () => {
    const value = colorText.value.trim();
    if (COLOR_PATTERN.test(value)) colorPicker.value = value.toLowerCase();
  });
  form.addEventListener('input', refreshAll);
  form.addEventListener('change', refreshAll);

  removePhoto.onclick = () => {
    photoChange = baseline.offline_photo_url ? null : undefined;
    photoInput.value = '';
    photo.setError('');
    refreshAll();
  };
  photoInput.addEventListener('change', async () => {
    const file = photoInput.files?.[0];
    if (!file) return;
    photo.setError('');
    if (file.size > PHOTO_MAX_BYTES) {
      photo.setError(`This file is ${(file.size / 1024 / 1024).toFixed(1)} MiB: the photo may be at most 1 MiB.`);
      photoInput.value = '';
      return;
    }
    try {
      const dataUrl = await readAsDataUrl(file);
      photoChange = { name: file.name, dataUrl, base64: dataUrl.slice(dataUrl.indexOf(',') + 1) };
    } catch {
      photo.setError('This file could not be read.');
    }
    refreshAll();
  });

  // The patterns preview: the unsaved patterns against the addresses typed, asked of the server.
  let previewTimer = null;
  let previewRequest = 0;
  const schedulePreview = () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, PREVIEW_DEBOUNCE_MS);
  };
  const runPreview = async () => {
    const request = ++previewRequest;
    const patterns = lines(hiddenPages.input.value);
    const all = lines(previewUrls.value).values;
    const urls = all.slice(0, PREVIEW_MAX_URLS);
    if (urls.length === 0) {
      previewBox.dataset.state = 'idle';
      return setChildren(previewResults, h('li', { class: 'preview-empty' }, 'Type an address above to check it.'));
    }
    previewBox.dataset.state = 'loading';
    try {
      const answer = await store.previewHiddenPages(patterns.values, urls);
      if (request !== previewRequest) return;
      previewBox.dataset.state = 'done';
      setChildren(previewResults,
        answer.urls.map((result) => previewRow(result)),
        all.length > urls.length ? h('li', { class: 'preview-empty' }, `Only the first ${PREVIEW_MAX_URLS} addresses are checked.`) : null);
    } catch (error) {
      if (request !== previewRequest) return;
      previewBox.dataset.state = 'error';
      setChildren(previewResults, h('li', { class: 'preview-error' }, icon('alert'), h('span', {}, previewProblem(error, patterns.numbers))));
    }
  };
  hiddenPages.input.addEventListener('input', schedulePreview);
  previewUrls.addEventListener('input', () => {
    rememberPreviewUrls(previewUrls.value);
    schedulePreview();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!editable || saving || !isDirty()) return;
    clearErrors();
    const { values, lines: lineNumbers } = readForm();
    lastLines = lineNumbers;
    const body = { ...values };
    if (photoChange !== undefined) body.offline_photo = photoChange === null ? null : photoChange.base64;
    saving = true;
    updateState();
    try {
      const saved = await whileBusy(save, store.saveWidgetSettings(body));
      baseline = saved;
      photoChange = undefined;
      justSaved = true;
      fill(saved);
      renderReadOnly(saved);
      changedNotice.hidden = true;
    } catch (error) {
      showErrors(error);
    } finally {
      saving = false;
      refreshAll();
    }
  });

  const showErrors = (error) => {
    const byList = { hidden_pages: [], allowed_origins: [] };
    const unmatched = [];
    for (const [name, problem] of Object.entries(error?.fields || {})) {
      const item = /^(\w+)\[(\d+)\]$/.exec(name);
      if (item && LIST_FIELDS.includes(item[1])) {
        const index = Number(item[2]);
        byList[item[1]].push(`Line ${lastLines[item[1]][index] ?? index + 1}: ${problem}`);
      } else if (fieldsByName[name]) {
        fieldsByName[name].setError(sentence(problem));
      } else {
        unmatched.push(`${name}: ${problem}`);
      }
    }
    for (const name of LIST_FIELDS) if (byList[name].length) fieldsByName[name].setError(byList[name].join('\n'));
    const hasFields = error?.fields && Object.keys(error.fields).length > 0;
    formError.textContent = unmatched.length ? unmatched.join('; ') : hasFields ? 'Nothing was saved: fix the fields marked in red.' : describeError(error);
    form.querySelector('.has-error')?.scrollIntoView({ block: 'center', behavior: 'smooth' });
  };

  // Leaving with unsaved changes: ask first (in-app routes), or let the browser ask (reload, closing the tab).
  const onBeforeUnload = (event) => {
    if (!editable || leaving || !isDirty()) return;
    event.preventDefault();
    event.returnValue = '';
  };
  window.addEventListener('beforeunload', onBeforeUnload);
  scope.onDispose(() => window.removeEventListener('beforeunload', onBeforeUnload));
  scope.onDispose(setLeaveGuard((hash) => {
    if (!editable || leaving || !isDirty()) return true;
    confirmAction({
      title: 'Leave without saving?',
      text: 'Your changes to the online consultant’s settings have not been saved. They will be lost.',
      confirmLabel: 'Leave without saving',
      danger: true,
    }).then((confirmed) => {
      if (!confirmed) return;
      leaving = true;
      navigate(hash);
    });
    return false;
  }));
  scope.onDispose(() => clearTimeout(previewTimer));

  // --- start
  fill(baseline);
  renderReadOnly(baseline);
  previewUrls.value = loadPreviewUrls(baseline);
  if (!editable) for (const control of editableControls) control.disabled = true;
  if (!editable) choosePhoto.hidden = true;
  refreshAll();
  runPreview();

  return {
    element: form,
    /** New settings in the store (a frame, another tab's save, a new secret). */
    settingsChanged(settings) {
      if (!settings || saving || settings === baseline) return;
      const serverChanged = JSON.stringify(serverState(settings)) !== JSON.stringify(serverState(baseline));
      if (!serverChanged || !isDirty()) {
        baseline = settings;
        if (serverChanged) {
          photoChange = undefined;
          fill(settings);
          schedulePreview();
        }
        renderReadOnly(settings);
        refreshAll();
        return;
      }
      // Unsaved changes here: keep them, say so, and offer theirs.
      renderReadOnly(settings);
      changedNotice.hidden = false;
    },
  };
}

// ---------------------------------------------------------------- pieces

function editableValues(settings) {
  return {
    enabled: Boolean(settings.enabled),
    manager_sound: settings.manager_sound,
    visitor_sound: settings.visitor_sound,
    position: settings.position,
    color: settings.color,
    online_title: settings.online_title,
    online_message: settings.online_message,
    offline_title: settings.offline_title,
    offline_message: settings.offline_message,
    hidden_pages: settings.hidden_pages || [],
    allowed_origins: settings.allowed_origins || [],
    language: settings.language || 'en',
    language_from_browser: settings.language_from_browser !== false,
  };
}

/** What a save by someone else changes: the editable fields and the photo. */
function serverState(settings) {
  return { ...editableValues(settings), offline_photo_url: settings.offline_photo_url ?? null };
}

/** Like field(), for a group of controls (radios, a switch, the photo): a caption, the controls, a hint and the error. */
function group(label, content, { hint = null } = {}) {
  const id = 'group-' + Math.random().toString(36).slice(2, 9);
  const error = h('div', { class: 'field-error', id: id + '-error', role: 'alert' });
  const element = h('div', { class: 'field', role: 'group', 'aria-describedby': id + '-error' },
    label ? h('span', { class: 'field-label', id: id + '-label' }, label) : null,
    content,
    hint ? h('div', { class: 'field-hint' }, hint) : null,
    error);
  if (label) element.setAttribute('aria-labelledby', id + '-label');
  return {
    element,
    setError(text) {
      error.textContent = text || '';
      element.classList.toggle('has-error', Boolean(text));
    },
  };
}

/** A text field with a "12 / 60" counter that turns red past the limit (the server has the last word). */
function countedField(label, input, max) {
  const counter = h('span', { class: 'char-count', 'aria-live': 'off' });
  const entry = field(label, input, { hint: counter });
  entry.element.querySelector('.field-hint').classList.add('is-counter');
  entry.updateCount = () => {
    const length = Array.from(input.value).length;
    counter.textContent = `${length} / ${max}`;
    counter.classList.toggle('is-over', length > max);
  };
  return entry;
}

function soundField(label, name, hint) {
  const select = h('select', { name }, SOUND_NAMES.map((sound) => h('option', { value: sound }, SOUND_LABELS[sound])));
  const play = h('button', { type: 'button', class: 'btn btn-secondary sound-play', title: 'Play it', 'aria-label': `Play: ${label}`, dataset: { action: 'play-' + name } }, icon('play'), 'Play');
  const entry = field(label, select, { hint });
  const row = h('div', { class: 'select-row' });
  select.replaceWith(row);
  row.append(select, play);
  play.onclick = () => previewSound(select.value);
  /** "No sound" has nothing to play. */
  entry.sync = () => {
    play.disabled = select.value === 'none';
  };
  return entry;
}

function photoImage(url) {
  const image = h('img', { src: url, alt: 'The offline assistant’s photo' });
  image.addEventListener('error', () => image.replaceWith(h('span', { class: 'photo-empty is-broken', title: 'This file does not show as an image' }, icon('image'))));
  return image;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The two lines a shop pastes into its pages (docs/widget.md). */
export function snippetFor(siteKey) {
  return '<script>window.ChatWidget=window.ChatWidget||function(){(ChatWidget.q=ChatWidget.q||[]).push(arguments)};</script>\n'
    + `<script async src="${location.origin}/widget.js" data-site-key="${siteKey || ''}"></script>`;
}

function copyButton(text, { action, label = 'Copy' } = {}) {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action } }, icon('copy'), h('span', {}, label));
  let timer = null;
  button.onclick = async () => {
    const value = text();
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      const scratch = h('textarea', { class: 'visually-hidden', value });
      document.body.append(scratch);
      scratch.select();
      document.execCommand('copy');
      scratch.remove();
    }
    button.lastChild.textContent = 'Copied';
    clearTimeout(timer);
    timer = setTimeout(() => { button.lastChild.textContent = label; }, COPIED_LABEL_MS);
  };
  return button;
}

function renderSecret(section, settings, editable) {
  if (!editable || typeof settings.identity_secret !== 'string') return setChildren(section);
  const value = h('input', { type: 'password', class: 'secret-value mono', value: settings.identity_secret, readOnly: true, 'aria-label': 'Identity secret', dataset: { field: 'identity-secret' } });
  const toggle = h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'show-secret' } }, icon('eye'), h('span', {}, 'Show'));
  toggle.onclick = () => {
    const shown = value.type === 'text';
    value.type = shown ? 'password' : 'text';
    toggle.replaceChildren(icon(shown ? 'eye' : 'eyeOff'), h('span', {}, shown ? 'Show' : 'Hide'));
  };
  const regenerate = h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'new-secret' } }, icon('refresh'), 'Generate a new secret');
  regenerate.onclick = async () => {
    const confirmed = await confirmAction({
      title: 'Generate a new identity secret?',
      text: 'The current secret stops verifying at once: until your shop’s server uses the new one, visitors’ e-mails are stored as unverified.',
      confirmLabel: 'Generate a new secret',
      danger: true,
    });
    if (!confirmed) return;
    try {
      await whileBusy(regenerate, store.newIdentitySecret());
      store.notify('A new identity secret is in force.', 'success');
    } catch (error) {
      store.notify(describeError(error));
    }
  };
  setChildren(section,
    h('div', { class: 'field' },
      h('div', { class: 'field-label-row' }, h('span', { class: 'field-label' }, icon('key'), 'Identity secret'), h('span', { class: 'chip chip-muted' }, 'Owners and admins')),
      h('div', { class: 'secret-row' }, value, toggle, copyButton(() => value.value, { action: 'copy-secret' })),
      h('div', { class: 'field-hint' }, 'Your shop’s server signs a signed-in customer’s e-mail with it (HMAC-SHA256, as user_hash) so that they find their conversation on any device. Keep it on your server, never in a page.'),
      h('div', {}, regenerate),
    ),
  );
}

// ---------------------------------------------------------------- hidden pages preview

function previewRow(result) {
  return h('li', { class: ['preview-result', result.shown ? 'is-shown' : 'is-hidden'], dataset: { url: result.url, shown: String(Boolean(result.shown)) } },
    h('span', { class: 'preview-result-icon' }, icon(result.shown ? 'eye' : 'eyeOff')),
    h('span', { class: 'preview-result-url' }, result.url),
    result.shown
      ? h('span', { class: 'chip chip-open' }, 'Shown')
      : h('span', { class: 'preview-result-why' }, h('span', { class: 'chip chip-hidden' }, 'Hidden'), result.pattern ? h('span', { class: 'preview-result-pattern' }, 'by ', h('code', {}, result.pattern)) : null),
  );
}

function previewProblem(error, patternLines) {
  const problems = [];
  for (const [name, problem] of Object.entries(error?.fields || {})) {
    const item = /^(\w+)\[(\d+)\]$/.exec(name);
    if (item?.[1] === 'hidden_pages') problems.push(`Pattern on line ${patternLines[Number(item[2])] ?? Number(item[2]) + 1}: ${problem}`);
    else if (item?.[1] === 'urls') problems.push(`Address ${Number(item[2]) + 1}: ${problem}`);
    else problems.push(`${name}: ${problem}`);
  }
  return problems.length ? problems.join('. ') : describeError(error);
}

function loadPreviewUrls(settings) {
  try {
    const saved = localStorage.getItem(PREVIEW_URLS_STORAGE_KEY);
    if (saved !== null) return saved;
  } catch {
    // No storage: the examples below.
  }
  const base = (settings.allowed_origins || [])[0] || 'https://shop.example.com';
  return [`${base}/`, `${base}/catalog/shoes?size=42`, `${base}/checkout/payment`, `${base}/account/orders`].join('\n');
}

function rememberPreviewUrls(text) {
  try {
    localStorage.setItem(PREVIEW_URLS_STORAGE_KEY, text);
  } catch {
    // Not remembered; fine.
  }
}

// ---------------------------------------------------------------- the live preview

/** A small picture of a shop page with the widget's window and button, in the colours and texts being edited. */
function widgetPreview() {
  let mode = 'online';
  let values = null;
  let photoUrl = null;
  let lastColor = '#4f46e5';
  const tabs = ['online', 'offline'].map((value) =>
    h('button', { type: 'button', role: 'tab', class: 'segment', dataset: { previewMode: value } }, value === 'online' ? 'Manager online' : 'Nobody online'));
  const headerAvatar = h('span', { class: 'wp-avatar' });
  const title = h('div', { class: 'wp-title' });
  const message = h('div', { class: 'wp-message' });
  const emailRow = h('div', { class: 'wp-email' }, h('span', {}, 'Your e-mail'), h('span', { class: 'wp-email-button' }, 'Send'));
  const stage = h('div', { class: 'wp-stage' },
    h('div', { class: 'wp-page', 'aria-hidden': 'true' }, h('span', { class: 'wp-bar is-wide' }), h('span', { class: 'wp-bar' }), h('span', { class: 'wp-bar is-short' }), h('span', { class: 'wp-block' }), h('span', { class: 'wp-bar' }), h('span', { class: 'wp-bar is-short' })),
    h('div', { class: 'wp-window' },
      h('div', { class: 'wp-header' }, headerAvatar, h('div', { class: 'wp-header-text' }, title, message)),
      h('div', { class: 'wp-body' }, emailRow),
      h('div', { class: 'wp-input' }, h('span', {}, 'Type a message…'), icon('send')),
    ),
    h('div', { class: 'wp-launcher' }, icon('chat')),
  );
  const offNote = h('div', { class: 'wp-off-note' }, icon('eyeOff'), 'The chat is off: visitors see nothing.');
  const element = h('div', { class: 'widget-preview' },
    h('div', { class: 'widget-preview-head' }, h('span', { class: 'widget-preview-title' }, 'Preview'), h('div', { class: 'segmented is-compact', role: 'tablist' }, tabs)),
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
    title.textContent = (online ? values.online_title : values.offline_title) || (online ? 'Online title' : 'Offline title');
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

function sentence(text) {
  const value = String(text || '');
  return value ? value[0].toUpperCase() + value.slice(1) : value;
}
