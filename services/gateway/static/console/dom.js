// DOM helpers. h() builds elements; every string child becomes a text node,
// so data from visitors, contacts and managers is never parsed as markup.
// There is no innerHTML anywhere in the console.

/**
 * h('button', { class: 'btn', onclick, dataset: { id } }, 'Send', icon)
 * Attributes: class, style (object), dataset (object), on* (listeners),
 * value/checked/disabled/hidden (properties), anything else via setAttribute.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  applyAttributes(element, attributes);
  append(element, children);
  return element;
}

export function applyAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (name === 'style') Object.assign(element.style, value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (['value', 'checked', 'disabled', 'hidden', 'selected', 'readOnly'].includes(name)) element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Appends children: nodes as they are, strings and numbers as text, arrays flattened, null skipped. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all children of parent. */
export function setChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * Keyed list update: makes container's children the elements for items, in
 * order, reusing the element of each key. create(item) builds one; update(el,
 * item) refreshes it (optional). Elements of keys no longer present go away.
 */
export function reconcile(container, items, keyOf, create, update) {
  const existing = container.__keyed || new Map();
  const next = new Map();
  let index = 0;
  for (const item of items) {
    const key = keyOf(item);
    let element = existing.get(key);
    if (!element) element = create(item);
    else if (update) update(element, item);
    element.__key = key;
    next.set(key, element);
    const current = container.children[index];
    if (current !== element) container.insertBefore(element, current || null);
    index++;
  }
  for (const [key, element] of existing) if (!next.has(key)) element.remove();
  container.__keyed = next;
}

/** Closes whatever the handler is for on Escape or a click outside root. */
export function onDismiss(root, close, { ignore = [] } = {}) {
  const onPointer = (event) => {
    if (root.contains(event.target)) return;
    if (ignore.some((element) => element && element.contains(event.target))) return;
    close();
  };
  const onKey = (event) => {
    if (event.key === 'Escape') close();
  };
  setTimeout(() => document.addEventListener('pointerdown', onPointer, true));
  document.addEventListener('keydown', onKey);
  return () => {
    document.removeEventListener('pointerdown', onPointer, true);
    document.removeEventListener('keydown', onKey);
  };
}

/**
 * Web addresses in a person's text: http(s) ones, and the suite's own file
 * links (with the name to save the file under, percent-encoded).
 */
const ADDRESS = /\bhttps?:\/\/[^\s<>"']+|\/api\/v1\/files\/[a-z]+\/[\w-]{1,256}(?:\?name=[\w.~%-]{1,2300})?(?![\w/%-])/g;
/** Punctuation that ends a sentence rather than an address. */
const TRAILING = /[.,;:!?)\]}»"']+$/;

/**
 * A text as nodes, its web addresses as links that open in a new tab and
 * everything else as text: nothing in it is ever parsed as markup, and only
 * http(s) addresses (or the suite's own file links, standing on their own)
 * can become links.
 */
export function textWithLinks(text) {
  const whole = String(text ?? '');
  const nodes = [];
  let linkedTo = 0;
  for (const match of whole.matchAll(ADDRESS)) {
    const address = match[0].replace(TRAILING, '');
    const own = address.startsWith('/');
    // A file link is one only where a word would start ("x/api/v1/files/…" is not).
    if (own && match.index > 0 && !/[\s(]/.test(whole[match.index - 1])) continue;
    let url;
    try {
      url = new URL(address, location.origin);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    nodes.push(whole.slice(linkedTo, match.index));
    // The suite's own file links are long opaque ids: named, not spelled out.
    const label = own && url.pathname + url.search === address ? 'open file' : address;
    nodes.push(h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'msg-link', title: url.href }, label));
    linkedTo = match.index + address.length;
  }
  nodes.push(whole.slice(linkedTo));
  return nodes.filter((node) => node !== '');
}
