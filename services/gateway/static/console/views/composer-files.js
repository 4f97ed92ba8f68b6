// Files in the composer: the paperclip (a hidden file input behind it),
// files dropped on the conversation (with a hint over it while they are
// dragged) or pasted into the text, and the chips above the text, one per
// file: its name, a spinner while it uploads, then its size, or why it was
// refused; × takes it away. The store uploads them (store/uploads.js).

import { h, setChildren } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { t } from '../i18n.js';
import { formatSize, isImage, thumbnailUrl } from '../attachments.js';
import { iconButton } from './common.js';

/**
 * Mounts the files of a dialog's composer. dropZone: where files may be
 * dropped; beforeAttach(): called before files are taken (the composer
 * turns to a reply); onChange(): the chips changed (Send may change).
 * Answers the elements to place and what the composer asks of them.
 */
export function mountComposerFiles(scope, dialogId, { dropZone, textarea, beforeAttach, onChange }) {
  const input = h('input', { type: 'file', multiple: true, class: 'composer-file-input', hidden: true, tabindex: '-1', 'aria-hidden': 'true' });
  const button = iconButton('paperclip', t('attachments.attach'), () => input.click(), { class: 'icon-button composer-attach', dataset: { action: 'attach' } });
  const notice = h('div', { class: 'composer-attach-notice', role: 'alert', hidden: true });
  const list = h('ul', { class: 'attach-chips', 'aria-label': t('attachments.files'), hidden: true });

  const attach = (files) => {
    if (!files.length) return;
    beforeAttach();
    const refusal = store.attachFiles(dialogId, files);
    notice.hidden = !refusal;
    setChildren(notice, refusal ? [icon('alert'), h('span', {}, refusal)] : []);
    textarea.focus();
  };
  input.addEventListener('change', () => {
    attach([...input.files]);
    // The same file chosen again is a change again.
    input.value = '';
  });
  textarea.addEventListener('paste', (event) => {
    const files = pastedFiles(event.clipboardData);
    if (!files.length) return;
    event.preventDefault();
    attach(files);
  });
  watchDrops(scope, dropZone, attach);

  const built = new Map();
  scope.effect(() => {
    const chips = store.uploads.value.get(dialogId) || [];
    untracked(() => {
      renderChips(list, built, chips, (chip) => chipElement(chip, () => {
        store.removeUpload(dialogId, chip.key);
        notice.hidden = true;
        textarea.focus();
      }));
      onChange();
    });
  });

  return {
    button, input, notice, list,
    uploading: () => store.isUploading(dialogId),
    ready: () => store.readyAttachments(dialogId),
    /** The reply is sent: answers its files, and the chips go. */
    take: () => {
      notice.hidden = true;
      return store.takeAttachments(dialogId);
    },
  };
}

/**
 * The files of a paste. Office programs put a picture of a copied text
 * beside the text itself: then the text is pasted, not the picture.
 */
function pastedFiles(clipboard) {
  if (!clipboard || clipboard.files.length === 0) return [];
  const types = [...clipboard.types];
  if (types.includes('text/html') && clipboard.getData('text/plain').trim()) return [];
  return [...clipboard.files];
}

/** Files dragged over zone show the hint; dropped, they are attached. */
function watchDrops(scope, zone, attach) {
  const hint = h('div', { class: 'drop-hint', 'aria-hidden': 'true' }, h('div', { class: 'drop-hint-box' }, icon('paperclip'), h('span', {}, t('attachments.drop'))));
  zone.append(hint);
  // dragenter and dragleave come for every child passed over: counted.
  let depth = 0;
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes('Files');
  const show = (on) => zone.classList.toggle('is-dropping', on);
  const listeners = {
    dragenter: (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth++;
      show(true);
    },
    dragover: (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    },
    dragleave: (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) show(false);
    },
    drop: (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      show(false);
      attach([...event.dataTransfer.files]);
    },
  };
  for (const [name, listener] of Object.entries(listeners)) zone.addEventListener(name, listener);
  scope.onDispose(() => {
    for (const [name, listener] of Object.entries(listeners)) zone.removeEventListener(name, listener);
    hint.remove();
    show(false);
  });
}

/** The chips, reusing each one's element while it shows the same (a thumbnail is not fetched again). */
function renderChips(list, built, chips, build) {
  const next = new Map();
  for (const chip of chips) {
    const signature = JSON.stringify([chip.state, chip.name, chip.error]);
    const known = built.get(chip.key);
    next.set(chip.key, known?.signature === signature ? known : { signature, element: build(chip) });
  }
  built.clear();
  for (const [key, entry] of next) built.set(key, entry);
  setChildren(list, [...next.values()].map((entry) => entry.element));
  list.hidden = chips.length === 0;
}

function chipElement(chip, remove) {
  const failed = chip.state === 'failed';
  const uploading = chip.state === 'uploading';
  const image = chip.attachment && isImage(chip.attachment);
  const leading = uploading
    ? h('span', { class: 'spinner', 'aria-hidden': 'true' })
    : image
      ? h('img', { class: 'attach-chip-thumb', src: thumbnailUrl(chip.attachment), alt: '' })
      : icon(failed ? 'alert' : 'file');
  const detail = failed
    ? h('span', { class: 'attach-chip-error' }, chip.error)
    : h('span', { class: 'attach-chip-size' }, uploading ? t('attachments.uploading') : formatSize(chip.size));
  const label = t('attachments.remove', { name: chip.name });
  return h(
    'li',
    { class: ['attach-chip', 'is-' + chip.state], dataset: { key: chip.key, state: chip.state }, 'aria-busy': uploading ? 'true' : null },
    h('span', { class: 'attach-chip-leading' }, leading),
    h('span', { class: 'attach-chip-body' }, h('span', { class: 'attach-chip-name', title: chip.name }, chip.name), detail),
    h('button', { type: 'button', class: 'attach-chip-remove', 'aria-label': label, title: label, onclick: remove }, icon('x')),
  );
}
