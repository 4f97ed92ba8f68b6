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
import { describeError, describeProblem } from '../api.js';
import { setLeaveGuard, navigate } from '../router.js';
import { SOUND_NAMES, previewSound } from '../sound.js';
import { confirmAction, field, spinner, emptyState, pageHeader, whileBusy, timeAgo, settingsCard } from './common.js';
import { t, plural, locale, LANGUAGES } from '../i18n.js';
import { canManageTeam } from './settings.js';
import { widgetPreview, COLOR_PATTERN } from './settings-widget-preview.js';

const TITLE_MAX_CHARS = 60;
const MESSAGE_MAX_CHARS = 300;
const PHOTO_MAX_BYTES = 1024 * 1024;
const PREVIEW_MAX_URLS = 20;
const PREVIEW_DEBOUNCE_MS = 400;
const COPIED_LABEL_MS = 2000;
const PREVIEW_URLS_STORAGE_KEY = 'console.widgetPreviewUrls';

/** The sounds and the positions, by the keys of their names in the catalogue. */
const SOUND_LABELS = { chime: 'settings_widget.sound_chime', bell: 'settings_widget.sound_bell', pop: 'settings_widget.sound_pop', none: 'settings_widget.sound_none' };
const POSITIONS = [
  { value: 'bottom_right', label: 'settings_widget.bottom_right' },
  { value: 'bottom_left', label: 'settings_widget.bottom_left' },
];
// The languages the widget speaks are the console's own (LANGUAGES), each named in itself.
/** The list fields, edited one entry a line. */
const LIST_FIELDS = ['hidden_pages', 'allowed_origins'];


export function mountWidgetSettingsPage(container, scope) {
  const body = h('div', { class: 'page-body' });
  container.append(
    pageHeader(t('settings.widget'), t('settings_widget.description')),
    body,
  );
  let form = null;
  scope.effect(() => {
    const state = store.widgetSettings.value;
    if (form) return untracked(() => form.settingsChanged(state.settings));
    if (!state.settings && (state.loading || !state.loaded) && !state.error) return setChildren(body, spinner(t('settings_widget.loading')));
    if (!state.settings)
      return setChildren(body, emptyState('alert', t('settings_widget.load_failed'), state.error,
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => store.loadWidgetSettings() }, t('app.try_again'))));
    form = untracked(() => buildForm(state.settings, store.session.peek().manager, scope));
    setChildren(body, form.element);
  });
  store.loadWidgetSettings();
}

// ---------------------------------------------------------------- the form

function buildForm(initial, manager, scope) {
  const editable = canManageTeam(manager);
  let baseline = initial; // the saved settings the form started from
  let photoChange; // undefined: keep; null: remove; { base64, dataUrl }: a new one
  let saving = false;
  let leaving = false;
  let justSaved = false;
  let lastLines = { hidden_pages: [], allowed_origins: [] };

  // --- the cards, each with the inputs it owns
  const chat = chatCard();
  const look = lookCard();
  const languages = languageCard();
  const online = onlineCard();
  const offline = offlineCard();
  const sounds = soundsCard();
  const pages = hiddenPagesCard();
  const sites = allowedSitesCard();
  const install = installCard();
  const cards = [chat, look, languages, online, offline, sounds, pages, sites, install];
  const { enabled } = chat;
  const { positionInputs, color, colorText, colorPicker } = look;
  const { language, fromBrowser } = languages;
  const { onlineTitle, onlineMessage } = online;
  const { offlineTitle, offlineMessage, photo, photoInput, photoPreview, choosePhoto, removePhoto, photoNote } = offline;
  const { managerSound, visitorSound } = sounds;
  const { hiddenPages, previewUrls, previewResults, previewBox } = pages;
  const { allowedOrigins } = sites;
  const { snippet, secretSection } = install;

  const fieldsByName = Object.assign({}, ...cards.map((card) => card.fields));
  const editableControls = cards.flatMap((card) => card.controls);

  // --- the live preview
  const preview = widgetPreview();

  // --- footer
  const status = h('span', { class: 'save-status', role: 'status' });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const discard = h('button', { type: 'button', class: 'btn btn-secondary', dataset: { action: 'discard' } }, t('settings_widget.discard'));
  const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { action: 'save' } }, t('settings_widget.save'));
  const footer = h('div', { class: 'save-bar' }, h('div', { class: 'save-bar-inner' }, status, formError, h('div', { class: 'save-bar-buttons' }, discard, save)));

  const readOnlyNotice = editable ? null : h('div', { class: 'notice' }, icon('lock'),
    h('span', {}, t('settings_widget.read_only')));
  const changedNotice = h('div', { class: 'notice is-warning', hidden: true }, icon('alert'),
    h('span', {}, t('settings_widget.changed_elsewhere')),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'load-theirs' }, onclick: () => discardChanges() }, t('settings_widget.load_theirs')));

  const form = h('form', { class: ['widget-settings', !editable && 'is-read-only'], novalidate: true, 'aria-label': t('settings_widget.form') },
    readOnlyNotice,
    changedNotice,
    h('div', { class: 'widget-layout' },
      h('div', { class: 'widget-form' }, cards.map((card) => card.element)),
      h('aside', { class: 'widget-preview-column', 'aria-label': t('settings_widget.preview') }, preview.element),
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
    photoNote.textContent = photoChange === null ? t('settings_widget.photo_removed_on_save') : photoChange ? t('settings_widget.photo_saved_on_save', { name: photoChange.name }) : '';
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
    if (dirty) setChildren(status, h('span', { class: 'status-dot' }), t('settings_widget.unsaved'));
    else if (justSaved) setChildren(status, icon('checkCircle'), t('settings_widget.saved'));
    else setChildren(status, baseline.updated_at ? withNodes('settings_widget.last_saved', { time: timeAgo(baseline.updated_at, { long: true }) }) : '');
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
      photo.setError(t('settings_widget.photo_too_large', { size: new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(file.size / 1024 / 1024) }));
      photoInput.value = '';
      return;
    }
    // Refused when chosen, not at Save: an image the browser cannot decode is no photo.
    if (!PHOTO_TYPES.includes(file.type) || !(await decodes(file))) {
      photo.setError(t('settings_widget.photo_not_image'));
      photoInput.value = '';
      return;
    }
    try {
      const dataUrl = await readAsDataUrl(file);
      photoChange = { name: file.name, dataUrl, base64: dataUrl.slice(dataUrl.indexOf(',') + 1) };
    } catch {
      photo.setError(t('settings_widget.photo_unreadable'));
    }
    refreshAll();
  });

  // A field's error goes once the field is changed: the next Save says anew what is wrong.
  form.addEventListener('input', (event) => {
    const name = event.target?.name;
    const entry = fieldsByName[name] || (name === 'position' ? fieldsByName.position : null);
    if (entry) entry.setError('');
    if (name === 'color' || event.target === colorPicker) fieldsByName.color.setError('');
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
      return setChildren(previewResults, h('li', { class: 'preview-empty' }, t('settings_widget.preview_empty')));
    }
    previewBox.dataset.state = 'loading';
    try {
      const answer = await store.previewHiddenPages(patterns.values, urls);
      if (request !== previewRequest) return;
      previewBox.dataset.state = 'done';
      setChildren(previewResults,
        answer.urls.map((result) => previewRow(result)),
        all.length > urls.length ? h('li', { class: 'preview-empty' }, plural('settings_widget.preview_first', PREVIEW_MAX_URLS)) : null);
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
        byList[item[1]].push(t('settings_widget.line_problem', { line: lastLines[item[1]][index] ?? index + 1, problem: describeProblem(problem) }));
      } else if (fieldsByName[name]) {
        fieldsByName[name].setError(describeProblem(problem));
      } else {
        unmatched.push(`${name}: ${describeProblem(problem)}`);
      }
    }
    for (const name of LIST_FIELDS) if (byList[name].length) fieldsByName[name].setError(byList[name].join('\n'));
    const hasFields = error?.fields && Object.keys(error.fields).length > 0;
    formError.textContent = unmatched.length ? unmatched.join('; ') : hasFields ? t('settings_widget.nothing_saved') : describeError(error);
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
      title: t('settings_widget.leave_title'),
      text: t('settings_widget.leave_text'),
      confirmLabel: t('settings_widget.leave'),
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

// ---------------------------------------------------------------- the cards

// One function a card: it builds the card's inputs and answers its element,
// its fields by name (each shows its own error), the controls a read-only
// page disables, and the inputs the form reads and fills.

/** Chat: the widget on or off. */
function chatCard() {
  const enabled = h('input', { type: 'checkbox', name: 'enabled', role: 'switch', class: 'switch-input' });
  const enabledGroup = group('', h('label', { class: 'switch-row' },
    h('span', { class: 'switch-text' },
      h('span', { class: 'switch-title' }, t('settings_widget.enabled_title')),
      h('span', { class: 'switch-sub' }, t('settings_widget.enabled_hint'))),
    h('span', { class: 'switch' }, enabled, h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' }))),
  ));
  return {
    element: settingsCard(t('conversation.chat'), null, enabledGroup.element),
    fields: { enabled: enabledGroup },
    controls: [enabled],
    enabled,
  };
}

/** Look: the corner the button sits in, and the colour. */
function lookCard() {
  const positionInputs = POSITIONS.map(({ value }) => h('input', { type: 'radio', name: 'position', value, class: 'radio-card-input' }));
  const positionGroup = group(t('settings_widget.position'), h('div', { class: 'radio-cards' },
    POSITIONS.map(({ value, label }, index) =>
      h('label', { class: 'radio-card', dataset: { position: value } },
        positionInputs[index],
        h('span', { class: 'radio-card-art', 'aria-hidden': 'true' }, h('span', { class: 'radio-card-bar' }), h('span', { class: 'radio-card-bar is-short' }), h('span', { class: 'radio-card-dot' })),
        h('span', { class: 'radio-card-label' }, t(label)),
      ),
    ),
  ));
  const colorText = h('input', { type: 'text', name: 'color', class: 'color-text', spellcheck: 'false', autocomplete: 'off', placeholder: '#4f46e5' });
  const colorPicker = h('input', { type: 'color', class: 'color-swatch', 'aria-label': t('settings_widget.pick_colour') });
  const color = field(t('settings_widget.colour'), colorText, { hint: t('settings_widget.colour_hint') });
  const colorRow = h('div', { class: 'color-row' });
  colorText.replaceWith(colorRow);
  colorRow.append(colorPicker, colorText);
  return {
    element: settingsCard(t('settings_widget.look'), t('settings_widget.look_hint'), positionGroup.element, color.element),
    fields: { position: positionGroup, color },
    controls: [...positionInputs, colorText, colorPicker],
    positionInputs, color, colorText, colorPicker,
  };
}

/** Language: the widget's language, or the visitor's browser's. */
function languageCard() {
  const language = field(t('settings_widget.language'), h('select', { name: 'language' }, LANGUAGES.map(({ value, label }) => h('option', { value, lang: value }, label))), {
    hint: t('settings_widget.language_hint'),
  });
  const fromBrowser = h('input', { type: 'checkbox', name: 'language_from_browser', role: 'switch', class: 'switch-input' });
  const fromBrowserGroup = group('', h('label', { class: 'switch-row' },
    h('span', { class: 'switch-text' },
      h('span', { class: 'switch-title' }, t('settings_widget.from_browser_title')),
      h('span', { class: 'switch-sub' }, t('settings_widget.from_browser_hint'))),
    h('span', { class: 'switch' }, fromBrowser, h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' }))),
  ));
  return {
    element: settingsCard(t('language.menu'), null, h('div', { class: 'form-row' }, language.element), fromBrowserGroup.element),
    fields: { language, language_from_browser: fromBrowserGroup },
    controls: [language.input, fromBrowser],
    language, fromBrowser,
  };
}

/** While a manager is online: the title and the message. */
function onlineCard() {
  const onlineTitle = countedField(t('settings_widget.title'), h('input', { type: 'text', name: 'online_title', autocomplete: 'off' }), TITLE_MAX_CHARS);
  const onlineMessage = countedField(t('composer.message'), h('textarea', { name: 'online_message', rows: 3 }), MESSAGE_MAX_CHARS);
  return {
    element: settingsCard(t('settings_widget.online'), t('settings_widget.online_hint'), onlineTitle.element, onlineMessage.element),
    fields: { online_title: onlineTitle, online_message: onlineMessage },
    controls: [onlineTitle.input, onlineMessage.input],
    onlineTitle, onlineMessage,
  };
}

/** While nobody is online: the title, the message and the photo. */
function offlineCard() {
  const offlineTitle = countedField(t('settings_widget.title'), h('input', { type: 'text', name: 'offline_title', autocomplete: 'off' }), TITLE_MAX_CHARS);
  const offlineMessage = countedField(t('composer.message'), h('textarea', { name: 'offline_message', rows: 3 }), MESSAGE_MAX_CHARS);

  const photoInput = h('input', { type: 'file', name: 'offline_photo', accept: 'image/png,image/jpeg,image/webp', class: 'visually-hidden', tabindex: '-1' });
  const photoPreview = h('div', { class: 'photo-preview' });
  const choosePhoto = h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'choose-photo' }, onclick: () => photoInput.click() }, icon('image'), t('settings_widget.choose_photo'));
  const removePhoto = h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'remove-photo' } }, icon('trash'), t('settings_widget.remove_photo'));
  const photoNote = h('span', { class: 'photo-note' });
  const photo = group(t('settings_widget.photo'), h('div', { class: 'photo-row' },
    photoPreview,
    h('div', { class: 'photo-actions' }, h('div', { class: 'photo-buttons' }, choosePhoto, removePhoto), photoNote, photoInput),
  ), { hint: t('settings_widget.photo_hint') });
  return {
    element: settingsCard(t('settings_widget.offline'), t('settings_widget.offline_hint'),
      offlineTitle.element, offlineMessage.element, photo.element),
    fields: { offline_title: offlineTitle, offline_message: offlineMessage, offline_photo: photo },
    controls: [offlineTitle.input, offlineMessage.input, photoInput, choosePhoto, removePhoto],
    offlineTitle, offlineMessage, photo, photoInput, photoPreview, choosePhoto, removePhoto, photoNote,
  };
}

/** Sounds: the managers' and the visitors'. */
function soundsCard() {
  const managerSound = soundField(t('settings_widget.manager_sound'), 'manager_sound', t('settings_widget.manager_sound_hint'));
  const visitorSound = soundField(t('settings_widget.visitor_sound'), 'visitor_sound', t('settings_widget.visitor_sound_hint'));
  return {
    element: settingsCard(t('settings_widget.sounds'), t('settings_widget.sounds_hint'), h('div', { class: 'form-row' }, managerSound.element, visitorSound.element)),
    fields: { manager_sound: managerSound, visitor_sound: visitorSound },
    controls: [managerSound.input, visitorSound.input],
    managerSound, visitorSound,
  };
}

/** Hidden pages: the patterns, and their check against a few addresses (which read-only pages keep). */
function hiddenPagesCard() {
  const hiddenPages = field(t('settings_widget.patterns'), h('textarea', { name: 'hidden_pages', rows: 5, spellcheck: 'false', class: 'mono', placeholder: '/checkout/*\nshop.example.com/account/*' }), {
    hint: h('span', {}, withNodes('settings_widget.patterns_hint', {
      slash: h('code', {}, '/'), path: h('code', {}, '/checkout/*'), address: h('code', {}, 'shop.example.com/account/*'),
      star: h('code', {}, '*'), question: h('code', {}, '?'), set: h('code', {}, '[abc]'), words: h('code', {}, '{cart,checkout}'),
    })),
  });
  const previewUrls = h('textarea', { class: 'preview-urls mono', rows: 4, spellcheck: 'false', 'aria-label': t('settings_widget.preview_urls') });
  const previewResults = h('ul', { class: 'preview-results', 'aria-live': 'polite' });
  const previewBox = h('div', { class: 'pattern-preview', dataset: { state: 'idle' } },
    h('div', { class: 'pattern-preview-head' }, icon('eye'), h('span', { class: 'pattern-preview-title' }, t('settings_widget.preview')), h('span', { class: 'pattern-preview-sub' }, t('settings_widget.preview_hint'))),
    previewUrls,
    previewResults,
  );
  return {
    element: settingsCard(t('settings_widget.hidden_pages'), t('settings_widget.hidden_pages_hint'), hiddenPages.element, previewBox),
    fields: { hidden_pages: hiddenPages },
    controls: [hiddenPages.input],
    hiddenPages, previewUrls, previewResults, previewBox,
  };
}

/** Allowed sites: the origins the widget may run on. */
function allowedSitesCard() {
  const allowedOrigins = field(t('settings_widget.sites'), h('textarea', { name: 'allowed_origins', rows: 3, spellcheck: 'false', class: 'mono', placeholder: 'https://shop.example.com' }), {
    hint: t('settings_widget.sites_hint'),
  });
  return {
    element: settingsCard(t('settings_widget.allowed_sites'), t('settings_widget.allowed_sites_hint'), allowedOrigins.element),
    fields: { allowed_origins: allowedOrigins },
    controls: [allowedOrigins.input],
    allowedOrigins,
  };
}

/** Put it on your site: the snippet to paste, and the identity secret (filled by renderReadOnly). */
function installCard() {
  const snippet = h('code', {});
  const copySnippet = copyButton(() => snippet.textContent, { action: 'copy-snippet' });
  const secretSection = h('div', { class: 'secret-section' });
  return {
    element: settingsCard(t('settings_widget.install'), null,
      h('div', { class: 'field' },
        h('div', { class: 'field-label-row' }, h('span', { class: 'field-label' }, t('settings_widget.snippet')), copySnippet),
        h('pre', { class: 'snippet', dataset: { field: 'snippet' } }, snippet),
        h('div', { class: 'field-hint' }, t('settings_widget.snippet_hint'))),
      secretSection),
    fields: {},
    controls: [],
    snippet,
    secretSection,
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
  const select = h('select', { name }, SOUND_NAMES.map((sound) => h('option', { value: sound }, t(SOUND_LABELS[sound]))));
  const play = h('button', { type: 'button', class: 'btn btn-secondary sound-play', title: t('settings_widget.play_title'), 'aria-label': t('settings_widget.play_label', { label }), dataset: { action: 'play-' + name } }, icon('play'), t('settings_widget.play'));
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
  const image = h('img', { src: url, alt: t('settings_widget.photo_alt') });
  image.addEventListener('error', () => image.replaceWith(h('span', { class: 'photo-empty is-broken', title: t('settings_widget.photo_broken') }, icon('image'))));
  return image;
}

/** The image types the server takes for the photo. */
const PHOTO_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

/** Whether the browser decodes the file as an image. */
async function decodes(file) {
  try {
    const bitmap = await createImageBitmap(file);
    bitmap.close();
    return true;
  } catch {
    return false;
  }
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

function copyButton(text, { action, label = t('settings.copy') } = {}) {
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
    button.lastChild.textContent = t('settings.copied');
    clearTimeout(timer);
    timer = setTimeout(() => { button.lastChild.textContent = label; }, COPIED_LABEL_MS);
  };
  return button;
}

function renderSecret(section, settings, editable) {
  if (!editable || typeof settings.identity_secret !== 'string') return setChildren(section);
  const value = h('input', { type: 'password', class: 'secret-value mono', value: settings.identity_secret, readOnly: true, 'aria-label': t('settings_widget.secret'), dataset: { field: 'identity-secret' } });
  const toggle = h('button', { type: 'button', class: 'btn btn-secondary btn-small', dataset: { action: 'show-secret' } }, icon('eye'), h('span', {}, t('settings_widget.show')));
  toggle.onclick = () => {
    const shown = value.type === 'text';
    value.type = shown ? 'password' : 'text';
    toggle.replaceChildren(icon(shown ? 'eye' : 'eyeOff'), h('span', {}, shown ? t('settings_widget.show') : t('settings_widget.hide')));
  };
  const regenerate = h('button', { type: 'button', class: 'btn btn-ghost btn-small is-danger', dataset: { action: 'new-secret' } }, icon('refresh'), t('settings_widget.new_secret'));
  regenerate.onclick = async () => {
    const confirmed = await confirmAction({
      title: t('settings_widget.new_secret_title'),
      text: t('settings_widget.new_secret_text'),
      confirmLabel: t('settings_widget.new_secret'),
      danger: true,
    });
    if (!confirmed) return;
    try {
      await whileBusy(regenerate, store.newIdentitySecret());
      store.notify(t('settings_widget.new_secret_done'), 'success');
    } catch (error) {
      store.notify(describeError(error));
    }
  };
  setChildren(section,
    h('div', { class: 'field' },
      h('div', { class: 'field-label-row' }, h('span', { class: 'field-label' }, icon('key'), t('settings_widget.secret')), h('span', { class: 'chip chip-muted' }, t('settings_widget.secret_who'))),
      h('div', { class: 'secret-row' }, value, toggle, copyButton(() => value.value, { action: 'copy-secret' })),
      h('div', { class: 'field-hint' }, t('settings_widget.secret_hint')),
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
      ? h('span', { class: 'chip chip-open' }, t('settings_widget.shown'))
      : h('span', { class: 'preview-result-why' }, h('span', { class: 'chip chip-hidden' }, t('settings_widget.hidden')), result.pattern ? h('span', { class: 'preview-result-pattern' }, withNodes('settings_widget.hidden_by', { pattern: h('code', {}, result.pattern) })) : null),
  );
}

function previewProblem(error, patternLines) {
  const problems = [];
  for (const [name, problem] of Object.entries(error?.fields || {})) {
    const item = /^(\w+)\[(\d+)\]$/.exec(name);
    if (item?.[1] === 'hidden_pages') problems.push(t('settings_widget.pattern_problem', { line: patternLines[Number(item[2])] ?? Number(item[2]) + 1, problem }));
    else if (item?.[1] === 'urls') problems.push(t('settings_widget.address_problem', { number: Number(item[2]) + 1, problem }));
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

/** The words of key with a node where each {placeholder} named in nodes is. */
function withNodes(key, nodes) {
  return t(key).split(/\{(\w+)\}/).map((piece, index) => (index % 2 ? nodes[piece] ?? `{${piece}}` : piece)).filter((piece) => piece !== '');
}
