// The files a message carries, in the thread: an image as its thumbnail in a
// box of its proportions (so nothing jumps when it loads) that opens the
// whole image in a new tab; any other file as a link that saves it, with
// its name and size. Names are the sender's: set as text, never markup.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { fileUrl, thumbnailUrl, isImage, formatSize, thumbnailBox } from '../attachments.js';

/** The files of a message (images first, as a group), or null when it has none. */
export function messageAttachments(attachments) {
  if (!attachments?.length) return null;
  const images = attachments.filter(isImage);
  const others = attachments.filter((attachment) => !isImage(attachment));
  return h(
    'div',
    { class: 'msg-attachments' },
    images.length ? h('div', { class: 'msg-images' }, images.map(imageLink)) : null,
    others.map(fileLink),
  );
}

function imageLink(attachment) {
  const box = thumbnailBox(attachment);
  return h(
    'a',
    {
      class: 'msg-image', href: fileUrl(attachment), target: '_blank', rel: 'noopener',
      title: t('attachments.open', { name: attachment.name }), dataset: { attachmentId: attachment.id },
      style: { width: box.width + 'px', aspectRatio: box.ratio },
    },
    h('img', { src: thumbnailUrl(attachment), alt: attachment.name, decoding: 'async' }),
  );
}

function fileLink(attachment) {
  return h(
    'a',
    {
      class: 'msg-file', href: fileUrl(attachment), download: attachment.name,
      title: t('attachments.download', { name: attachment.name }), dataset: { attachmentId: attachment.id },
    },
    h('span', { class: 'msg-file-icon' }, icon('file')),
    h('span', { class: 'msg-file-name' }, attachment.name),
    h('span', { class: 'msg-file-size' }, '· ' + formatSize(attachment.size)),
  );
}
