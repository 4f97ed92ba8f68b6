// Files a manager attaches to the reply being written, per dialog: each is
// uploaded at once (POST /dialogs/{id}/attachments) and shown as a chip
// while it uploads, once it is ready, or refused and why; the reply takes
// the ready ones with it. Kept while the manager switches between dialogs,
// like the draft.

import { signal } from '../signals.js';
import * as api from '../api.js';
import { plural, t } from '../i18n.js';
import { MAX_FILES, MAX_FILE_BYTES, MAX_FILE_MIB } from '../attachments.js';

/**
 * Each dialog's chips, by dialog id: { key, name, size,
 * state: 'uploading' | 'ready' | 'failed', attachment, error }.
 */
export const uploads = signal(new Map());

let chipSequence = 0;
/** The uploads under way, by chip key: removing a chip stops its upload. */
const controllers = new Map();

/** A dialog's chips, in the order they were attached. */
function chipsOf(dialogId) {
  return uploads.peek().get(dialogId) || [];
}

function setChips(dialogId, chips) {
  const next = new Map(uploads.peek());
  if (chips.length) next.set(dialogId, chips);
  else next.delete(dialogId);
  uploads.value = next;
}

function patchChip(dialogId, key, patch) {
  const chips = chipsOf(dialogId);
  // Removed while it uploaded: nothing to patch.
  if (!chips.some((chip) => chip.key === key)) return;
  setChips(dialogId, chips.map((chip) => (chip.key === key ? { ...chip, ...patch } : chip)));
}

/** A pasted screenshot may have no name: "image.png" from its type. */
function nameOf(file) {
  return file.name || (file.type || 'application/octet-stream').split('/').join('.');
}

/**
 * Attaches files to a dialog's reply, each uploaded at once; one over the
 * size limit is shown refused without being sent. Answers why none was
 * taken (more than MAX_FILES in one message), or null.
 */
export function attachFiles(dialogId, files) {
  const list = [...files];
  if (list.length === 0) return null;
  const kept = chipsOf(dialogId).filter((chip) => chip.state !== 'failed');
  if (kept.length + list.length > MAX_FILES) return plural('attachments.too_many', MAX_FILES);
  const added = list.map((file) => {
    const tooLarge = file.size > MAX_FILE_BYTES;
    return {
      file,
      chip: {
        key: 'upload-' + ++chipSequence,
        name: nameOf(file),
        size: file.size,
        state: tooLarge ? 'failed' : 'uploading',
        attachment: null,
        error: tooLarge ? t('attachments.too_large', { max: MAX_FILE_MIB }) : null,
      },
    };
  });
  setChips(dialogId, [...chipsOf(dialogId), ...added.map(({ chip }) => chip)]);
  for (const { file, chip } of added) if (chip.state === 'uploading') upload(dialogId, chip, file);
  return null;
}

async function upload(dialogId, chip, file) {
  const controller = new AbortController();
  controllers.set(chip.key, controller);
  try {
    const attachment = await api.uploadAttachment(dialogId, file, chip.name, { signal: controller.signal });
    // The server may rename it (an image written again as a JPEG or PNG).
    patchChip(dialogId, chip.key, { state: 'ready', attachment, name: attachment.name, size: attachment.size });
  } catch (error) {
    if (!controller.signal.aborted) patchChip(dialogId, chip.key, { state: 'failed', error: api.describeUploadError(error) });
  } finally {
    controllers.delete(chip.key);
  }
}

/** Takes a chip away, stopping its upload if it is still going. */
export function removeUpload(dialogId, key) {
  controllers.get(key)?.abort();
  setChips(dialogId, chipsOf(dialogId).filter((chip) => chip.key !== key));
}

/** Whether a dialog's reply still waits for a file to upload. */
export function isUploading(dialogId) {
  return chipsOf(dialogId).some((chip) => chip.state === 'uploading');
}

/** The files ready to go with a dialog's reply. */
export function readyAttachments(dialogId) {
  return chipsOf(dialogId).filter((chip) => chip.state === 'ready').map((chip) => chip.attachment);
}

/** The reply is sent: its ready files go with it, and every chip goes. */
export function takeAttachments(dialogId) {
  const ready = readyAttachments(dialogId);
  for (const chip of chipsOf(dialogId)) controllers.get(chip.key)?.abort();
  setChips(dialogId, []);
  return ready;
}

/** At sign-out: no chip stays for the next person at this browser. */
export function forgetUploads() {
  for (const controller of controllers.values()) controller.abort();
  controllers.clear();
  uploads.value = new Map();
}
