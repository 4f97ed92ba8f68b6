// Files in the composer: the paperclip (a hidden file input behind it),
// files dropped on the conversation (with a hint over it while they are
// dragged) or pasted into the text, and the chips above the text, one per
// file: its name, a spinner while it uploads, then its size, or why it was
// refused; × takes it away. The store uploads them (store/uploads.js).
// Files go out only through the site chat for now: while the reply goes
// elsewhere, none can be attached, and chips already there wait with a
// notice saying so (the composer holds Send).

import { h, setChildren, reconcile } from '../dom.js';
import { icon } from '../icons.js';
import * as store from '../store.js';
import { untracked } from '../signals.js';
import { t } from '../i18n.js';
import { formatSize, isImage, thumbnailUrl } from '../attachments.js';
import { iconButton } from './common.js';

/**
 * Mounts the files of a dialog's composer. dropZone: where files may be
 * dropped; beforeAttach(): called before files are taken (the composer
 * turns to a reply); onChange(): the chips changed (Send may change);
 * allowed(): whether files can go where the reply goes (refresh() after it
 * may have changed). Answers the elements to place and what the composer
 * asks of them.
 */
export function mountComposerFiles(scope, dialogId, { dropZone, textarea, beforeAttach, onChange, allowed }) {
  const input = h('input', { type: 'file', multiple: true, class: 'composer-file-input', hidden: true, tabindex: '-1', 'aria-hidden': 'true' });
  const button = iconButton('paperclip', t('attachments.attach'), () => input.click(), { class: 'icon-button composer-attach', dataset: { action: 'attach' } });
  const notice = h('div', { class: 'composer-attach-notice', role: 'alert', hidden: true });
  const siteOnly = h('div', { class: 'composer-attach-notice composer-site-only', role: 'status', hidden: true }, icon('alert'), h('span', {}, t('attachments.site_only')));
  const list = h('ul', { class: 'attach-chips', 'aria-label': t('attachments.files'), hidden: true });
  const chips = () => store.uploads.peek().get(dialogId) || [];
  // Files were offered while they could not go: the notice says why.
  let offered = false;

  /** The paperclip and the notice for where the reply goes now. */
  const refresh = () => {
    const blocked = !allowed();
    if (!blocked) offered = false;
    button.disabled = input.disabled = blocked;
    button.title = t(blocked ? 'attachments.site_only' : 'attachments.attach');
    siteOnly.hidden = !blocked || !(offered || chips().length);
  };
  const refuse = () => {
    offered = true;
    refresh();
  };
  const attach = (files) => {
    if (!files.length) return;
    if (!allowed()) return refuse();
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
    // Refused, whatever text the paste carries goes in as usual.
    if (allowed()) event.preventDefault();
    attach(files);
  });
  watchDrops(scope, dropZone, { attach, allowed, refuse });

  scope.effect(() => {
    const shown = store.uploads.value.get(dialogId) || [];
    untracked(() => {
      const remove = (key) => {
        store.removeUpload(dialogId, key);
        notice.hidden = true;
        textarea.focus();
      };
      reconcile(list, shown, (chip) => chip.key, (chip) => fillChip(h('li'), chip, remove), (element, chip) => fillChip(element, chip, remove));
      list.hidden = shown.length === 0;
      refresh();
      onChange();
    });
  });

  return {
    button, input, notice, siteOnly, list, refresh,
    uploading: () => store.isUploading(dialogId),
    /** Chips wait that cannot go where the reply goes. */
    held: () => !allowed() && chips().length > 0,
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

/**
 * Files dragged over zone show the hint; dropped, they are attached. While
 * files cannot go where the reply goes, no hint shows and the drop is
 * refused (never left to the browser, which would open the file instead).
 */
function watchDrops(scope, zone, { attach, allowed, refuse }) {
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
      if (allowed()) show(true);
      else refuse();
    },
    dragover: (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = allowed() ? 'copy' : 'none';
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

/**
 * Makes element (an <li>) chip's: built again only when what it shows has
 * changed, so a thumbnail is not fetched again for each change of another chip.
 */
function fillChip(element, chip, remove) {
  const signature = JSON.stringify([chip.state, chip.name, chip.error]);
  if (element.__signature === signature) return element;
  element.__signature = signature;
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
  element.className = 'attach-chip is-' + chip.state;
  Object.assign(element.dataset, { key: chip.key, state: chip.state });
  if (uploading) element.setAttribute('aria-busy', 'true');
  else element.removeAttribute('aria-busy');
  return setChildren(
    element,
    h('span', { class: 'attach-chip-leading' }, leading),
    h('span', { class: 'attach-chip-body' }, h('span', { class: 'attach-chip-name', title: chip.name }, chip.name), detail),
    h('button', { type: 'button', class: 'attach-chip-remove', 'aria-label': label, title: label, onclick: () => remove(chip.key) }, icon('x')),
  );
}
