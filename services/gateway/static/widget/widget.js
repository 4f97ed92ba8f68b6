// The chat widget: the button and window a shop's visitors see. One classic
// script, loaded by the snippet in docs/widget.md, with no dependencies and
// no build step; it builds its UI in a Shadow DOM so that the shop's styles
// and ours never mix.
//
// Layout of this file: storage (localStorage with a memory fallback), words
// (the catalogues of static/widget/i18n, which the gateway puts in when it
// serves this file), the conversation kept across pages, the UI (built with
// createElement only: all text from the network is set as text), files
// (uploaded at once, shown as chips, sent by id, fetched with the visitor's
// token), sounds, the visitor socket
// (heartbeat, full-jitter reconnect, resume by seq), the page and its
// in-page navigations, the config, and the ChatWidget() API.
(function () {
  'use strict';

  var script = document.currentScript || document.querySelector('script[data-site-key][src*="widget.js"]');
  var stub = window.ChatWidget;
  if (!script || (stub && stub.loaded)) return;
  var SITE_KEY = script.getAttribute('data-site-key') || '';
  var ORIGIN = new URL(script.src, location.href).origin;
  if (!SITE_KEY) return console.warn('ChatWidget: the script tag has no data-site-key');

  var MAX_TEXT = 4096;
  // The server's limits on the files of one message.
  var MAX_FILES = 10;
  var MAX_FILE_MB = 20;
  var MAX_KEPT = 200;
  var PING_EVERY_MS = 25000;
  var BACKOFF_BASE_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var VISIT_GAP_MS = 30 * 60 * 1000;
  var NAV_SETTLE_MS = 50;
  // A refused origin looks like a network error to a page when the refusal
  // has no CORS headers: give up after this many, until the next navigation.
  var CONFIG_TRIES = 6;
  var DEFAULT_COLOR = '#2563eb';
  var SVG_NS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------- storage
  // One JSON value per name, per site key. Private modes and sandboxed
  // frames throw on localStorage: then values live in memory for this page.

  var PREFIX = 'chatwidget:' + SITE_KEY + ':';
  var memory = {};

  function load(name, fallback) {
    var raw;
    try {
      raw = localStorage.getItem(PREFIX + name);
    } catch (e) {
      raw = memory[name];
    }
    if (raw == null) return fallback;
    try {
      return JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }

  function save(name, value) {
    var raw = JSON.stringify(value);
    memory[name] = raw;
    try {
      if (value == null) localStorage.removeItem(PREFIX + name);
      else localStorage.setItem(PREFIX + name, raw);
    } catch (e) {
      // Memory keeps it for this page.
    }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  // ------------------------------------------------------------------ words
  // Every word the widget shows is in a catalogue, one per language; the
  // shop's own titles and messages are shown as written. The language is
  // the shop's (cfg.language), or the visitor's browser language when the
  // shop lets it and a catalogue has it. Times and plurals by Intl.

  var CATALOGUES = {} /* catalogues */;
  var lang = 'en';
  var locale = 'en';

  /** Chooses the language for cfg; answers whether it changed. */
  function chooseLanguage() {
    var shop = cfg && CATALOGUES[cfg.language] ? cfg.language : 'en';
    var chosen = shop;
    var tag = shop;
    var browser = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < browser.length; i++) {
      var code = String(browser[i] || '').toLowerCase().split('-')[0];
      var allowed = !cfg || cfg.language_from_browser !== false || code === shop;
      if (allowed && CATALOGUES[code]) {
        chosen = code;
        tag = browser[i]; // its region's formats: en-GB has 24-hour times
        break;
      }
    }
    var changed = chosen !== lang || tag !== locale;
    lang = chosen;
    locale = tag;
    return changed;
  }

  /** The catalogue's words for key, with {name} and the like filled in. */
  function t(key, values) {
    var words = (CATALOGUES[lang] || {})[key];
    if (words == null) words = (CATALOGUES.en || {})[key];
    if (words == null) return key;
    return String(words).replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] != null ? String(values[name]) : all;
    });
  }

  /** The plural form of key for count, by the language's rules. */
  function plural(key, count) {
    var forms = (CATALOGUES[lang] || {})[key] || {};
    var category = new Intl.PluralRules(locale).select(count);
    var words = forms[category] || forms.other || '';
    return words.replace('{count}', new Intl.NumberFormat(locale).format(count));
  }

  // ----------------------------------------------------------- conversation
  // messages: the last MAX_KEPT stored messages of the visitor's dialog, by
  // seq, so history shows at once on the next page. outbox: sends not yet
  // acked, re-sent with the same client_message_id after a reconnect.
  // unread: ids of manager and system messages that came while closed.

  var messages = load('messages', []);
  var dialogId = load('dialog', null);
  var outbox = load('outbox', []);
  var unread = load('unread', []);
  // The seq through which every message shown to the visitor came in a
  // message frame. A socket sends those in order, with nothing the visitor
  // may see left out, though seqs may skip (the team's own system lines).
  var held = Number(load('held', 0)) || 0;

  function lastSeq() {
    return messages.length ? messages[messages.length - 1].seq : 0;
  }

  /** The seq up to which every message is here: a reconnect asks for what
   * came after it. Not simply the newest: an ack can bring the visitor's own
   * message ahead of a manager's reply that was still on its way when the
   * connection broke. Kept history starts at seq 1 unless it was trimmed. */
  function heldThrough() {
    if (!messages.length) return 0;
    var through = Math.max(held, messages.length >= MAX_KEPT ? messages[0].seq : 0);
    for (var i = 0; i < messages.length && messages[i].seq <= through + 1; i++) {
      if (messages[i].seq > through) through = messages[i].seq;
    }
    return through;
  }

  function hasMessage(id) {
    for (var i = 0; i < messages.length; i++) if (messages[i].id === id) return true;
    return false;
  }

  /** Keeps a stored message; answers whether it was new to this browser. */
  function keep(m) {
    if (!m || typeof m.id !== 'string' || typeof m.seq !== 'number') return false;
    if (m.dialog_id && m.dialog_id !== dialogId) {
      if (dialogId && messages.length) messages = [];
      // A new dialog comes from its first message on any socket.
      held = 0;
      socketFrom = 0;
      dialogId = m.dialog_id;
      save('dialog', dialogId);
    }
    dropFromOutbox(m.client_message_id);
    if (hasMessage(m.id)) return false;
    messages.push({
      id: m.id,
      seq: m.seq,
      author_kind: m.author_kind,
      client_message_id: m.client_message_id,
      text: String(m.text == null ? '' : m.text),
      attachments: cleanAttachments(m.attachments),
      system: m.system && typeof m.system === 'object'
        ? { kind: String(m.system.kind || ''), manager_name: String(m.system.manager_name || '') }
        : null,
      created_at: m.created_at,
    });
    messages.sort(function (a, b) { return a.seq - b.seq; });
    if (messages.length > MAX_KEPT) messages = messages.slice(-MAX_KEPT);
    save('messages', messages);
    return true;
  }

  function forgetConversation() {
    messages = [];
    dialogId = null;
    unread = [];
    held = 0;
    save('held', null);
    save('messages', null);
    save('dialog', null);
    save('unread', null);
    forgetThumbnails(); // the unsent messages still show theirs
  }

  function dropFromOutbox(clientMessageId) {
    var before = outbox.length;
    outbox = outbox.filter(function (o) { return o.client_message_id !== clientMessageId; });
    if (outbox.length !== before) save('outbox', outbox);
  }

  // -------------------------------------------------------------------- UI

  var CSS = [
    ':host{all:initial}',
    '*{box-sizing:border-box}',
    '[hidden]{display:none!important}',
    '.w{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;-webkit-font-smoothing:antialiased;text-align:left;direction:ltr}',
    'button{font:inherit;margin:0;-webkit-tap-highlight-color:transparent}',
    'svg{display:block;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}',
    '.btn{position:fixed;bottom:calc(20px + env(safe-area-inset-bottom,0px));right:20px;width:60px;height:60px;border-radius:50%;border:0;padding:0;background:var(--accent);color:var(--on);cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(0,0,0,.2),0 2px 6px rgba(0,0,0,.12);transition:transform .18s ease,box-shadow .18s ease}',
    '.btn:hover{transform:scale(1.06);box-shadow:0 8px 26px rgba(0,0,0,.24),0 2px 6px rgba(0,0,0,.12)}',
    '.btn:focus-visible,.x:focus-visible,.send:focus-visible{outline:3px solid var(--accent);outline-offset:3px}',
    '.btn svg{position:absolute;width:28px;height:28px;transition:transform .2s ease,opacity .2s ease}',
    '.btn .ic-chat{fill:currentColor;stroke:none}',
    '.btn .ic-close{opacity:0;transform:rotate(-90deg) scale(.6)}',
    '.open .btn .ic-chat{opacity:0;transform:rotate(90deg) scale(.6)}',
    '.open .btn .ic-close{opacity:1;transform:none}',
    '.badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e5484d;color:#fff;font:700 12px/22px system-ui,sans-serif;text-align:center;box-shadow:0 0 0 2px #fff}',
    '.left .btn{right:auto;left:20px}',
    '.btn,.win,.pv{pointer-events:auto}',
    // The newest unread answer beside the closed button, as the best widgets show one.
    '.pv{position:fixed;bottom:calc(92px + env(safe-area-inset-bottom,0px));right:20px;width:max-content;max-width:min(300px,calc(100% - 40px));display:flex;align-items:flex-start;gap:4px;padding:12px 8px 12px 16px;background:#fff;color:#1f2328;border-radius:16px 16px 6px 16px;box-shadow:0 8px 30px rgba(15,23,42,.18),0 1px 4px rgba(15,23,42,.1);animation:pv-in .25s ease}',
    '.left .pv{right:auto;left:20px;border-radius:16px 16px 16px 6px}',
    '@keyframes pv-in{from{opacity:0;transform:translateY(8px)}}',
    '.pv-text{flex:1;min-width:0;border:0;padding:0;background:none;color:inherit;text-align:left;cursor:pointer;font-size:14px;line-height:1.45;white-space:pre-wrap;overflow-wrap:anywhere;display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;overflow:hidden}',
    '.pv-x{flex:none;width:26px;height:26px;margin:-6px 0 0;border:0;border-radius:8px;padding:0;background:none;color:#8a919a;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '.pv-x:hover{background:#f1f3f5;color:#1f2328}',
    '.pv-x svg{width:16px;height:16px}',
    '.win{position:fixed;bottom:92px;right:20px;width:370px;height:560px;max-height:calc(100% - 112px);display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(15,23,42,.2),0 2px 10px rgba(15,23,42,.08);opacity:0;visibility:hidden;transform:translateY(16px) scale(.98);transform-origin:bottom right;transition:opacity .2s ease,transform .2s ease,visibility 0s linear .2s}',
    '.left .win{right:auto;left:20px;transform-origin:bottom left}',
    '.open .win{opacity:1;visibility:visible;transform:none;transition:opacity .2s ease,transform .2s ease}',
    '.head{flex:none;display:flex;align-items:center;gap:12px;padding:18px 12px 18px 20px;background:var(--accent);color:var(--on)}',
    '.ava{flex:none;width:46px;height:46px;border-radius:50%;object-fit:cover;border:2px solid rgba(255,255,255,.7);background:rgba(255,255,255,.25)}',
    '.ht{flex:1;min-width:0}',
    '.title{font-size:17px;font-weight:650;line-height:1.25;overflow-wrap:anywhere}',
    '.title:before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;margin:0 8px 2px 0;vertical-align:middle;background:#3ddc84;box-shadow:0 0 0 2px rgba(255,255,255,.5)}',
    '.offline .title:before{display:none}',
    '.sub{margin-top:4px;font-size:13px;line-height:1.4;opacity:.92;white-space:pre-line;overflow-wrap:anywhere}',
    '.x{flex:none;align-self:flex-start;width:34px;height:34px;border:0;border-radius:10px;padding:0;background:transparent;color:inherit;cursor:pointer;display:flex;align-items:center;justify-content:center;opacity:.85}',
    '.x:hover{opacity:1;background:rgba(255,255,255,.18)}',
    '.x svg{width:20px;height:20px}',
    '.bar{flex:none;padding:7px 12px;background:#fff6db;color:#7a5b00;border-bottom:1px solid #f2e4b8;font-size:12.5px;text-align:center}',
    '.bar:before{content:"";display:inline-block;width:10px;height:10px;margin:0 8px -1px 0;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:spin 1s linear infinite}',
    '@keyframes spin{to{transform:rotate(360deg)}}',
    '.list{flex:1;min-height:0;overflow-y:auto;display:flex;flex-direction:column;padding:14px 14px 10px;background:#f6f7f9;overscroll-behavior:contain}',
    '.empty{margin:auto;padding:24px;text-align:center;color:#8a919a;font-size:13px}',
    '.empty svg{width:44px;height:44px;margin:0 auto 10px;color:var(--accent);opacity:.3;fill:currentColor;stroke:none}',
    '.m{display:flex;flex-direction:column;max-width:82%;margin-top:10px}',
    '.m.v{align-self:flex-end;align-items:flex-end}',
    '.m.a{align-self:flex-start;align-items:flex-start}',
    '.m.s{align-self:center;align-items:center;max-width:90%}',
    '.m.v+.m.v,.m.a+.m.a{margin-top:3px}',
    '.b{padding:9px 13px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;font-size:14px;line-height:1.45}',
    '.v .b{background:var(--accent);color:var(--on);border-bottom-right-radius:6px}',
    '.a .b{background:#fff;color:#1f2328;border-bottom-left-radius:6px;box-shadow:0 1px 2px rgba(15,23,42,.08);border:1px solid #eceef1}',
    '.s .b{padding:2px 8px;color:#6b7280;font-size:12px;text-align:center}',
    '.t{margin:3px 6px 0;font-size:11px;color:#8a919a}',
    '.pending .b{opacity:.65}',
    '.failed .b{opacity:.65;outline:1px solid #e5484d}',
    '.failed .t{color:#d13438}',
    '.form{flex:none;padding:10px 12px 12px;border-top:1px solid #eceef1;background:#fff}',
    '.email{display:block;width:100%;height:38px;margin:0 0 8px;padding:0 14px;border:1px solid #dde1e6;border-radius:19px;font:inherit;font-size:13.5px;color:inherit;background:#fff;outline:none}',
    '.err{margin:-4px 0 8px 14px;font-size:12px;color:#d13438}',
    '.row{display:flex;align-items:flex-end;gap:8px}',
    'textarea{flex:1;min-width:0;height:40px;min-height:40px;max-height:120px;margin:0;padding:9px 14px;resize:none;border:1px solid #dde1e6;border-radius:20px;font:inherit;font-size:14px;line-height:20px;color:inherit;background:#fff;outline:none;overflow-y:auto}',
    'textarea:focus,.email:focus{border-color:var(--accent);box-shadow:0 0 0 3px var(--ring)}',
    '.send{flex:none;width:40px;height:40px;border:0;border-radius:50%;padding:0;background:var(--accent);color:var(--on);cursor:pointer;display:flex;align-items:center;justify-content:center;transition:opacity .15s}',
    '.send:disabled{opacity:.35;cursor:default}',
    '.send svg{width:18px;height:18px;margin-left:-2px}',
    // Files: the paperclip, the chips of the files being attached, the drop hint, and a message's files.
    '.clip{flex:none;width:34px;height:40px;border:0;border-radius:10px;padding:0;background:none;color:#6b7280;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '.clip:hover{color:var(--accent);background:#f1f3f5}',
    '.clip svg{width:20px;height:20px}',
    '.chips{display:flex;flex-wrap:wrap;gap:6px;max-height:30vh;overflow-y:auto;margin:0 0 8px}',
    '.cn{flex-basis:100%;font-size:12px;color:#d13438}',
    '.chip{display:flex;align-items:center;gap:7px;min-width:0;max-width:100%;padding:5px 4px 5px 8px;border:1px solid #dde1e6;border-radius:12px;background:#f6f7f9;font-size:12.5px;line-height:1.3}',
    '.chip>svg,.spin{flex:none;width:16px;height:16px;color:#6b7280}',
    '.spin{border:2px solid #dde1e6;border-top-color:var(--accent);border-radius:50%;animation:spin .8s linear infinite}',
    '.chip.bad{border-color:#f5c2c4;background:#fdf0f0}',
    '.chip.bad>svg{color:#d13438}',
    '.cb{min-width:0;max-width:180px}',
    '.bad .cb{max-width:none}',
    '.cname{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:600}',
    '.cs{color:#6b7280;font-size:11.5px}',
    '.bad .cs{color:#d13438;overflow-wrap:anywhere}',
    '.chip-x{flex:none;width:24px;height:24px;border:0;border-radius:8px;padding:0;background:none;color:#8a919a;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '.chip-x:hover{background:#e9ecef;color:#1f2328}',
    '.chip-x svg{width:14px;height:14px}',
    '.drop{position:absolute;inset:8px;z-index:2;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:10px;padding:20px;border:2px dashed var(--accent);border-radius:14px;background:rgba(255,255,255,.94);color:#1f2328;font-size:15px;font-weight:600;text-align:center;pointer-events:none}',
    '.drop svg{width:32px;height:32px;color:var(--accent)}',
    '.at{display:flex;flex-direction:column;gap:4px;max-width:100%}',
    '.v .at{align-items:flex-end}',
    '.at+.b{margin-top:4px}',
    '.at-i,.at-f{font:inherit;margin:0;cursor:pointer;max-width:100%}',
    '.at-i{display:block;padding:0;border:1px solid #eceef1;border-radius:16px;overflow:hidden;background:#e9ecef}',
    '.at-i img{display:block;width:100%;height:100%;object-fit:cover}',
    '.at-f{display:flex;align-items:center;gap:8px;min-width:0;padding:8px 12px 8px 10px;border:1px solid #eceef1;border-radius:14px;background:#fff;color:#1f2328;font-size:13px;text-align:left}',
    '.at-f svg{flex:none;width:18px;height:18px;color:var(--accent)}',
    '.at-f:hover,.at-i:hover{filter:brightness(.96)}',
    '.fn{min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:600}',
    '.fs{flex:none;color:#6b7280;white-space:nowrap}',
    '.fs:before{content:"· "}',
    '.pending .at,.failed .at{opacity:.65}',
    // A phone: the open window is the whole screen, clear of its notch and home bar, with
    // 16 px inputs (iOS zooms the page into smaller ones).
    '.phone .win{top:0;left:0;right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}',
    '.phone.open .btn{display:none}',
    '.phone .head{padding-top:max(18px,env(safe-area-inset-top,0px))}',
    '.phone .form{padding-bottom:max(12px,env(safe-area-inset-bottom,0px))}',
    '.phone textarea,.phone .email{font-size:16px}',
    '@media (prefers-reduced-motion:reduce){.btn,.btn svg,.win,.open .win{transition:none}}',
  ].join('\n');

  var ICONS = {
    chat: 'M12 3C6.5 3 2 6.6 2 11c0 2.5 1.4 4.7 3.6 6.2L4.8 21l4.6-2.3c.8.2 1.7.3 2.6.3 5.5 0 10-3.6 10-8s-4.5-8-10-8z',
    close: 'M18 6 6 18M6 6l12 12',
    down: 'm6 9 6 6 6-6',
    send: 'M22 2 11 13M22 2l-7 20-4-9-9-4z',
    clip: 'm21.44 11.05-9.19 9.19a6 6 0 0 1-8.49-8.49l8.57-8.57A4 4 0 1 1 18 8.84l-8.59 8.57a2 2 0 0 1-2.83-2.83l8.49-8.48',
    file: 'M15 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V7zM14 2v4a2 2 0 0 0 2 2h4',
    alert: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM12 8v4M12 16h.01',
  };

  var host = null;
  var ui = null;
  // Narrower than this (in the screen's own pixels), the open window takes the whole screen.
  var PHONE_MAX_WIDTH = 480;
  var isPhone = screenWidth() < PHONE_MAX_WIDTH;
  // A phone opens the window only when the visitor asks, not on every page.
  var isOpen = !!load('open', false) && !isPhone;
  var cfg = null;
  var reconnecting = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function icon(name, className) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    if (className) svg.setAttribute('class', className);
    var path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  var sheet = null;
  function styleSheet() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    return sheet;
  }

  // Inline and !important: a shop's `div { display: none !important }`,
  // `* { ... }` or transforms on body's children cannot hide or move us.
  var HOST_STYLE = [
    'all:initial', 'display:block', 'position:fixed', 'z-index:2147483000', 'right:auto', 'bottom:auto',
    'margin:0', 'padding:0', 'border:0', 'overflow:visible', 'visibility:visible', 'opacity:1',
    'transform-origin:0 0', 'filter:none', 'clip-path:none', 'contain:none', 'pointer-events:none', 'float:none',
  ].map(function (rule) { return rule + '!important'; }).join(';');

  // --------------------------------------------------------------- the screen
  // A phone shows the page through the visual viewport, which need not be
  // the box fixed elements are placed in: a page wider than the screen
  // widens that box past the screen's edge; a page without a viewport meta
  // is laid out 980 px wide and shown zoomed out; the keyboard shrinks the
  // visual viewport. So the widget's root is put on the visual viewport and
  // scaled back to the screen's own pixels (its transform makes it the box
  // the button and window are fixed in), wherever the page and the visitor
  // take it; it lets taps through but to the button and window.

  function screenWidth() {
    var vv = window.visualViewport;
    return vv ? vv.width * vv.scale : window.innerWidth;
  }

  var fitPending = false;
  function scheduleFit() {
    if (fitPending) return;
    fitPending = true;
    requestAnimationFrame(function () {
      fitPending = false;
      fitToScreen();
    });
  }

  function fitToScreen() {
    if (!host) return;
    var vv = window.visualViewport;
    var scale = vv ? vv.scale : 1;
    var box = {
      left: (vv ? vv.offsetLeft : 0) + 'px',
      top: (vv ? vv.offsetTop : 0) + 'px',
      width: (vv ? vv.width * scale : window.innerWidth) + 'px',
      height: (vv ? vv.height * scale : window.innerHeight) + 'px',
      transform: 'scale(' + 1 / scale + ')',
    };
    for (var name in box) host.style.setProperty(name, box[name], 'important');
    var phone = screenWidth() < PHONE_MAX_WIDTH;
    if (phone !== isPhone) {
      isPhone = phone;
      paint();
    }
  }

  if (window.visualViewport) {
    window.visualViewport.addEventListener('resize', scheduleFit);
    window.visualViewport.addEventListener('scroll', scheduleFit);
  }
  window.addEventListener('resize', scheduleFit);

  function buildUI() {
    host = document.createElement('chat-widget-root');
    host.style.cssText = HOST_STYLE;
    fitToScreen();
    var root = host.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [styleSheet()];

    var u = { root: root };
    u.wrap = el('div', 'w');
    u.win = el('div', 'win');
    u.win.setAttribute('role', 'dialog');
    u.win.id = 'chat-window';

    var head = el('div', 'head');
    u.photo = el('img', 'ava');
    u.photo.alt = '';
    u.photo.hidden = true;
    var headText = el('div', 'ht');
    u.title = el('div', 'title');
    u.title.id = 'chat-title';
    u.win.setAttribute('aria-labelledby', 'chat-title');
    u.sub = el('div', 'sub');
    headText.append(u.title, u.sub);
    u.closeButton = el('button', 'x');
    u.closeButton.type = 'button';
    u.closeButton.appendChild(icon('down'));
    head.append(u.photo, headText, u.closeButton);

    u.bar = el('div', 'bar');
    u.bar.setAttribute('role', 'status');
    u.bar.hidden = true;

    u.list = el('div', 'list');
    u.list.setAttribute('role', 'log');
    u.list.setAttribute('aria-live', 'polite');
    u.empty = el('div', 'empty');
    u.emptyText = el('div');
    u.empty.append(icon('chat'), u.emptyText);
    u.list.appendChild(u.empty);
    u.items = new Map();

    u.form = el('form', 'form');
    u.form.noValidate = true;
    u.email = el('input', 'email');
    u.email.type = 'email';
    u.email.autocomplete = 'email';
    u.email.maxLength = 254;
    u.email.value = load('email', '') || '';
    u.emailError = el('div', 'err');
    u.emailError.hidden = true;
    u.chips = el('div', 'chips');
    u.chips.hidden = true;
    u.files = el('input', 'files');
    u.files.type = 'file';
    u.files.multiple = true;
    u.files.hidden = true;
    u.clip = el('button', 'clip');
    u.clip.type = 'button';
    u.clip.appendChild(icon('clip'));
    var row = el('div', 'row');
    u.input = el('textarea');
    u.input.rows = 1;
    u.input.maxLength = MAX_TEXT;
    u.input.value = load('draft', '') || '';
    u.sendButton = el('button', 'send');
    u.sendButton.type = 'submit';
    u.sendButton.appendChild(icon('send'));
    row.append(u.clip, u.input, u.sendButton);
    u.form.append(u.email, u.emailError, u.chips, row, u.files);
    u.drop = el('div', 'drop');
    u.drop.hidden = true;
    u.dropText = el('div');
    u.drop.append(icon('clip'), u.dropText);

    u.win.append(head, u.bar, u.list, u.form, u.drop);

    u.button = el('button', 'btn');
    u.button.type = 'button';
    u.button.setAttribute('aria-controls', 'chat-window');
    u.badge = el('span', 'badge');
    u.badge.hidden = true;
    u.badge.setAttribute('aria-hidden', 'true');
    u.button.append(icon('chat', 'ic-chat'), icon('close', 'ic-close'), u.badge);

    u.preview = el('div', 'pv');
    u.preview.hidden = true;
    u.previewText = el('button', 'pv-text');
    u.previewText.type = 'button';
    u.previewText.dir = 'auto';
    u.previewClose = el('button', 'pv-x');
    u.previewClose.type = 'button';
    u.previewClose.appendChild(icon('close'));
    u.preview.append(u.previewText, u.previewClose);
    u.previewText.addEventListener('click', function () { setOpen(true, true); });
    u.previewClose.addEventListener('click', function () {
      save('preview_dismissed', ui.preview.dataset.id);
      renderPreview();
      ui.button.focus({ preventScroll: true });
    });

    u.wrap.append(u.win, u.preview, u.button);
    root.appendChild(u.wrap);

    u.button.addEventListener('click', function () { setOpen(!isOpen, true); });
    u.closeButton.addEventListener('click', function () { setOpen(false, true); });
    u.form.addEventListener('submit', function (event) {
      event.preventDefault();
      submit();
    });
    u.input.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    u.input.addEventListener('input', function () {
      save('draft', u.input.value || null);
      fitInput();
    });
    u.email.addEventListener('input', function () { u.emailError.hidden = true; });
    watchFiles(u);
    // Keys typed into the widget are ours: a shop's shortcuts must not see them.
    u.wrap.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && isOpen) setOpen(false, true);
      event.stopPropagation();
    });
    u.wrap.addEventListener('keyup', stopPropagation);
    u.wrap.addEventListener('keypress', stopPropagation);
    return u;
  }

  /** Puts the chosen language's words on the UI. */
  function label() {
    ui.wrap.lang = lang;
    ui.closeButton.setAttribute('aria-label', t('close_chat'));
    ui.bar.textContent = t('reconnecting');
    ui.emptyText.textContent = t('empty');
    ui.email.placeholder = t('email_placeholder');
    ui.email.setAttribute('aria-label', t('email_label'));
    ui.input.placeholder = t('message_placeholder');
    ui.input.setAttribute('aria-label', t('message_label'));
    ui.sendButton.setAttribute('aria-label', t('send'));
    ui.previewClose.setAttribute('aria-label', t('dismiss'));
    ui.clip.setAttribute('aria-label', t('attach'));
    ui.clip.title = t('attach');
    ui.dropText.textContent = t('drop_files');
    renderChips();
    ui.items.forEach(function (item) { item.remove(); });
    ui.items = new Map(); // the messages again, in the new words
    renderMessages(false);
  }

  function stopPropagation(event) {
    event.stopPropagation();
  }

  /** Shows the widget; answers whether it was not on the page before. */
  function mount() {
    if (!ui) {
      ui = buildUI();
      chooseLanguage();
      label();
    }
    fitToScreen();
    var added = !host.isConnected;
    if (added) {
      document.body.appendChild(host);
      observer.observe(document.body, { childList: true });
    }
    paint();
    renderMessages(added);
    return added;
  }

  function unmount() {
    if (host && host.isConnected) host.remove();
  }

  // A shop whose scripts re-render the whole body must not lose the widget.
  var observer = new MutationObserver(function () {
    if (host && cfg && !host.isConnected && document.body) {
      document.body.appendChild(host);
      observer.observe(document.body, { childList: true });
    }
  });
  observer.observe(document.documentElement, { childList: true });

  function validColor(color) {
    return typeof color === 'string' && /^#[0-9a-f]{6}$/i.test(color) ? color : DEFAULT_COLOR;
  }

  /** Dark text on light accents, white on the rest. */
  function textOn(color) {
    var n = parseInt(color.slice(1), 16);
    var luminance = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
    return luminance > 0.7 ? '#1f2328' : '#ffffff';
  }

  /** Applies cfg: position, colour, the mode's title, message and photo. */
  function paint() {
    if (!ui || !cfg) return;
    if (chooseLanguage()) label();
    var color = validColor(cfg.color);
    host.style.setProperty('--accent', color);
    host.style.setProperty('--on', textOn(color));
    host.style.setProperty('--ring', color + '33');
    var online = !!cfg.managers_online;
    ui.wrap.className = 'w' + (cfg.position === 'bottom_left' ? ' left' : '') + (online ? '' : ' offline') + (isOpen ? ' open' : '') +
      (isPhone ? ' phone' : '');
    ui.title.textContent = String((online ? cfg.online_title : cfg.offline_title) || t(online ? 'online_title' : 'offline_title'));
    var sub = String((online ? cfg.online_message : cfg.offline_message) || '');
    ui.sub.textContent = sub;
    ui.sub.hidden = !sub;
    var photo = cfg.offline_photo_url;
    var showPhoto = !online && typeof photo === 'string' && photo.charAt(0) === '/' && photo.charAt(1) !== '/';
    if (showPhoto && ui.photo.getAttribute('src') !== ORIGIN + photo) ui.photo.src = ORIGIN + photo;
    ui.photo.hidden = !showPhoto;
    ui.email.hidden = online;
    if (online) ui.emailError.hidden = true;
    ui.button.setAttribute('aria-expanded', String(isOpen));
    ui.bar.hidden = !reconnecting;
    ui.sendButton.disabled = !canSend();
    renderBadge();
  }

  /** The unread count on the button, and the button's label with it. */
  function renderBadge() {
    if (!ui) return;
    var count = unread.length;
    ui.badge.textContent = count > 99 ? '99+' : String(count);
    ui.badge.hidden = count === 0 || isOpen;
    ui.button.setAttribute('aria-label', t(isOpen ? 'close_chat' : 'open_chat') + (count && !isOpen ? ' (' + plural('unread', count) + ')' : ''));
    renderPreview();
  }

  /** The newest unread manager's message beside the closed button, until opened or dismissed. */
  function renderPreview() {
    var newest = null;
    for (var i = messages.length - 1; i >= 0 && !newest; i--) {
      if (messages[i].author_kind === 'manager' && unread.indexOf(messages[i].id) >= 0) newest = messages[i];
    }
    var show = !!newest && !isOpen && newest.id !== load('preview_dismissed', null);
    ui.preview.hidden = !show;
    if (!show) return;
    ui.preview.dataset.id = newest.id;
    var first = (newest.attachments || [])[0];
    var text = shownText(newest) || (first ? '📎 ' + first.name : '');
    ui.previewText.textContent = text;
    ui.previewText.setAttribute('aria-label', t('new_message', { text: text }));
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date)) return '';
    var time = date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
    if (date.toDateString() === new Date().toDateString()) return time;
    return date.toLocaleDateString(locale, { day: 'numeric', month: 'short' }) + ', ' + time;
  }

  /** A message's text as shown: a manager joining in the widget's words. */
  function shownText(m) {
    var system = m.system;
    if (system && system.kind === 'joined' && system.manager_name) return t('joined', { name: system.manager_name });
    return m.text;
  }

  /** A message: its files, its text (none for files alone), and a line for its time. */
  function messageElement(kind, text, attachments) {
    var item = el('div', 'm ' + kind);
    var files = attachments && attachments.length;
    if (files) item.appendChild(attachmentsElement(attachments));
    if (text || !files) {
      var bubble = el('div', 'b', text);
      bubble.dir = 'auto';
      item.appendChild(bubble);
    }
    item.appendChild(el('div', 't'));
    return item;
  }

  /**
   * Shows the kept messages and then the outbox's pending ones, reusing each
   * message's element (keyed by id, or by client id while pending).
   */
  function renderMessages(forceScroll) {
    if (!ui) return;
    var list = ui.list;
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    var stored = {};
    var wanted = messages.map(function (m) {
      if (m.client_message_id) stored[m.client_message_id] = true;
      return { key: 'id:' + m.id, m: m };
    });
    outbox.forEach(function (o) {
      if (!stored[o.client_message_id]) wanted.push({ key: 'c:' + o.client_message_id, o: o });
    });
    var next = new Map();
    var before = ui.empty.nextSibling;
    var addedOwn = false;
    wanted.forEach(function (w) {
      var item = ui.items.get(w.key);
      // A pending message just stored keeps its element.
      if (!item && w.m && w.m.client_message_id) {
        item = ui.items.get('c:' + w.m.client_message_id);
        if (item) {
          item.className = 'm v';
          item.lastChild.textContent = formatTime(w.m.created_at);
        }
      }
      if (!item) {
        if (w.m) {
          var kind = w.m.author_kind === 'visitor' ? 'v' : w.m.author_kind === 'system' ? 's' : 'a';
          item = messageElement(kind, shownText(w.m), w.m.attachments);
          item.lastChild.textContent = formatTime(w.m.created_at);
          if (kind === 'v') addedOwn = true;
        } else {
          item = messageElement('v', w.o.text, w.o.attachments);
          addedOwn = true;
        }
      }
      if (w.o) {
        item.className = 'm v ' + (w.o.failed ? 'failed' : 'pending');
        item.lastChild.textContent = t(w.o.failed ? 'not_sent' : 'sending');
      }
      next.set(w.key, item);
      if (item !== before) list.insertBefore(item, before);
      else before = item.nextSibling;
    });
    var kept = new Set(next.values());
    ui.items.forEach(function (item) {
      if (!kept.has(item)) item.remove();
    });
    ui.items = next;
    ui.empty.hidden = wanted.length > 0;
    // One time under a run of messages from the same side in the same minute.
    var items = Array.from(next.values());
    items.forEach(function (item, index) {
      var after = items[index + 1];
      var time = item.lastChild;
      time.hidden = !!after && after.className === item.className && after.lastChild.textContent === time.textContent;
    });
    if (forceScroll || addedOwn || nearBottom) list.scrollTop = list.scrollHeight;
  }

  function fitInput() {
    var input = ui.input;
    input.style.height = '';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
    ui.sendButton.disabled = !canSend();
  }

  /** Opens or closes the window; focus: move the focus with it (a person's action). */
  function setOpen(open, focus) {
    isOpen = open;
    save('open', open);
    if (!ui || !cfg) return;
    var focusInside = !!ui.root.activeElement;
    paint();
    if (open) {
      unread = [];
      save('unread', null);
      sendShown();
      renderMessages(true);
      fitInput();
      if (focus) requestAnimationFrame(function () { ui.input.focus({ preventScroll: true }); });
    } else if (focus || focusInside) {
      ui.button.focus({ preventScroll: true });
    }
    renderBadge();
  }

  /** The visitor pressed Send: the offline e-mail first, then the message. */
  function submit() {
    var text = ui.input.value.trim();
    var attachments = readyAttachments();
    if ((!text && !attachments.length) || uploading()) return;
    if (!ui.email.hidden) {
      var email = ui.email.value.trim();
      if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        showEmailError(t('bad_email'));
        ui.email.focus();
        return;
      }
      if (email && email !== load('email_sent', null)) {
        save('email', email);
        identify({ email: email });
        save('email_sent', email);
      }
    }
    var entry = { client_message_id: uuid(), text: text.slice(0, MAX_TEXT), created_at: new Date().toISOString(), attachments: attachments };
    outbox.push(entry);
    save('outbox', outbox);
    ui.input.value = '';
    save('draft', null);
    setTray([]);
    fitInput();
    renderMessages(true);
    sendEntry(entry);
    ui.input.focus();
  }

  /** Sends (again) a message of the outbox, with the ids of its files. */
  function sendEntry(o) {
    var frame = { type: 'send', client_message_id: o.client_message_id, text: o.text };
    if (o.attachments && o.attachments.length) frame.attachments = o.attachments.map(function (a) { return a.id; });
    sendFrame(frame);
  }

  function showEmailError(text) {
    if (!ui) return;
    ui.emailError.textContent = text;
    ui.emailError.hidden = false;
  }

  // ------------------------------------------------------------------ files
  // Files attached (the paperclip, a drop on the window, a paste) upload at
  // once and show as chips above the text; Send takes the uploaded ones by
  // id. Files are fetched with the visitor's token, so never by <img src>:
  // thumbnails become blob URLs, kept while a message shows them.

  // Chips: { name, size, state: 'up' | 'ok' | 'bad', att, error, abort, tok, file };
  // tok: the token it was uploaded with; file: waiting for a token (before
  // the first hello). The uploaded ones are kept across the shop's pages,
  // like the draft, with their token: no other visitor's (after a reset, a
  // tab that did not know yet may write them back) are shown.
  var savedFiles = load('files', null) || {};
  var tray = (savedFiles.token && savedFiles.token === load('token', null) && savedFiles.list || []).map(function (a) {
    return { name: a.name, size: a.size, state: 'ok', att: a, tok: savedFiles.token };
  });
  var trayNotice = null;
  var thumbs = {};

  /** A message's files as the server gave them, only what is shown. */
  function cleanAttachments(list) {
    return (Array.isArray(list) ? list : []).filter(function (a) { return a && typeof a.id === 'string'; }).map(function (a) {
      return { id: a.id, name: String(a.name || ''), size: +a.size || 0, width: +a.width || 0, height: +a.height || 0 };
    });
  }

  function readyAttachments() {
    return tray.filter(function (c) { return c.state === 'ok'; }).map(function (c) { return c.att; });
  }

  function uploading() {
    return tray.some(function (c) { return c.state === 'up'; });
  }

  function canSend() {
    return !uploading() && !!(ui.input.value.trim() || readyAttachments().length);
  }

  /** Replaces the chips (one removed, all sent, a reset), stopping the uploads dropped. */
  function setTray(chips) {
    tray.forEach(function (c) { if (c.abort && chips.indexOf(c) < 0) c.abort.abort(); });
    tray = chips;
    trayNotice = null;
    trayChanged();
  }

  function trayChanged() {
    var ok = tray.filter(function (c) { return c.state === 'ok'; });
    var token = ok.length && ok[0].tok;
    save('files', token ? { token: token, list: ok.filter(function (c) { return c.tok === token; }).map(function (c) { return c.att; }) } : null);
    if (!ui) return;
    renderChips();
    ui.sendButton.disabled = !canSend();
  }

  /** Files chosen, dropped or pasted: more than MAX_FILES in all are refused at once. */
  function attach(files) {
    files = Array.prototype.slice.call(files || []);
    if (!files.length) return;
    var kept = tray.filter(function (c) { return c.state !== 'bad'; }).length;
    trayNotice = kept + files.length > MAX_FILES ? plural('too_many_files', MAX_FILES) : null;
    if (!trayNotice) files.forEach(function (file) {
      var chip = { name: file.name || file.type.replace('/', '.'), size: file.size, state: 'up' };
      tray.push(chip);
      if (file.size > MAX_FILE_MB * 1048576) fail(chip, { status: 413 });
      else upload(chip, file);
    });
    trayChanged();
    ui.input.focus();
  }

  function upload(chip, file) {
    var token = load('token', null);
    // No token yet: it uploads once hello brings one (ownFiles).
    chip.file = token ? null : file;
    if (!token) return;
    chip.tok = token;
    chip.abort = new AbortController();
    fetch(ORIGIN + '/widget/v1/attachments?site_key=' + encodeURIComponent(SITE_KEY) + '&name=' + encodeURIComponent(chip.name), {
      method: 'POST', credentials: 'omit', body: file, signal: chip.abort.signal,
      headers: { authorization: 'Bearer ' + token, 'content-type': file.type || 'application/octet-stream' },
    })
      .then(function (response) {
        // A proxy's refusal may not be JSON: its status says enough.
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) throw { status: response.status, error: body.error };
          chip.att = cleanAttachments([body])[0];
          chip.name = chip.att.name;
          chip.size = chip.att.size;
          chip.state = 'ok';
        });
      })
      .catch(function (problem) { fail(chip, problem || {}); })
      .then(function () {
        chip.abort = null;
        if (tray.indexOf(chip) >= 0) trayChanged();
      });
  }

  /** A chip refused, and why in the visitor's words (the server's reason when it gave one). */
  function fail(chip, problem) {
    var fields = (problem.error && problem.error.fields) || {};
    var why = String(fields.data || fields.name || '');
    chip.state = 'bad';
    chip.error = problem.status === 413 || / MiB$/.test(why) ? t('file_too_large', { max: MAX_FILE_MB })
      : problem.status === 429 ? t('file_busy')
      : /^is empty/.test(fields.data) ? t('file_empty')
      : /^is not a kind/.test(why) ? t('file_kind')
      : /whatever its name/.test(why) ? t('file_not_image')
      : /image|pixels/.test(why) ? t('file_image')
      : t('file_failed');
  }

  /** The visitor's token is known (hello): another visitor's chips go; files waiting for it upload. */
  function ownFiles() {
    var token = load('token', null);
    var mine = tray.filter(function (c) { return !c.tok || c.tok === token; });
    if (mine.length < tray.length) setTray(mine);
    if ((load('files', null) || {}).token !== token) trayChanged();
    tray.forEach(function (c) { if (c.file) upload(c, c.file); });
  }

  /** Words over the chips for a while (a file that would not open). */
  function notice(words) {
    trayNotice = words;
    renderChips();
    setTimeout(function () {
      if (trayNotice !== words) return;
      trayNotice = null;
      renderChips();
    }, 6000);
  }

  function renderChips() {
    var box = ui.chips;
    box.textContent = '';
    if (trayNotice) box.appendChild(el('div', 'cn', trayNotice)).setAttribute('role', 'alert');
    tray.forEach(function (chip) {
      var node = el('div', 'chip ' + chip.state);
      node.setAttribute('data-state', { up: 'uploading', ok: 'ready', bad: 'failed' }[chip.state]);
      var body = el('div', 'cb');
      body.append(el('div', 'cname', chip.name), el('div', 'cs', chip.error || (chip.att ? sizeText(chip.size) : t('uploading'))));
      body.title = chip.name;
      var remove = el('button', 'chip-x');
      remove.type = 'button';
      remove.setAttribute('aria-label', t('remove_file', { name: chip.name }));
      remove.appendChild(icon('close'));
      remove.addEventListener('click', function () {
        setTray(tray.filter(function (c) { return c !== chip; }));
        ui.input.focus();
      });
      node.append(chip.state === 'up' ? el('span', 'spin') : icon(chip.error ? 'alert' : 'file'), body, remove);
      box.appendChild(node);
    });
    box.hidden = !trayNotice && !tray.length;
  }

  /** The paperclip, pastes, and drops on the window (a hint shows while files are dragged over it). */
  function watchFiles(u) {
    u.clip.addEventListener('click', function () { u.files.click(); });
    u.files.addEventListener('change', function () {
      attach(u.files.files);
      u.files.value = ''; // the same file again is a change again
    });
    u.input.addEventListener('paste', function (event) {
      var data = event.clipboardData;
      // Office puts a picture of copied text beside the text: the text wins.
      if (!data || !data.files.length || (data.types.indexOf('text/html') >= 0 && data.getData('text/plain').trim())) return;
      event.preventDefault();
      attach(data.files);
    });
    var depth = 0; // dragenter and dragleave come for every child passed over
    function on(type, handle) {
      u.win.addEventListener(type, function (event) {
        var types = event.dataTransfer && event.dataTransfer.types;
        if (!types || Array.prototype.indexOf.call(types, 'Files') < 0) return;
        if (type !== 'dragleave') event.preventDefault();
        handle(event);
        u.drop.hidden = depth <= 0;
      });
    }
    on('dragenter', function () { depth++; });
    on('dragover', function (event) { event.dataTransfer.dropEffect = 'copy'; });
    on('dragleave', function () { depth = Math.max(0, depth - 1); });
    on('drop', function (event) {
      depth = 0;
      attach(event.dataTransfer.files);
    });
  }

  /** "512 B", "14 KB", "1.2 MB" in the visitor's language. */
  function sizeText(bytes) {
    var unit = bytes < 1024 ? 0 : bytes < 1048576 ? 1 : 2;
    var value = bytes / Math.pow(1024, unit);
    var size = new Intl.NumberFormat(locale, { maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
    return unit === 0 ? t('size_b', { size: size }) : unit === 1 ? t('size_kb', { size: size }) : t('size_mb', { size: size });
  }

  /** A message's files: an image as its thumbnail, in a box of its proportions; any other file by name and size. */
  function attachmentsElement(attachments) {
    var box = el('div', 'at');
    attachments.forEach(function (a) {
      var image = a.width > 0 && a.height > 0;
      var node = el('button', image ? 'at-i' : 'at-f');
      node.type = 'button';
      node.setAttribute('data-attachment-id', a.id);
      node.setAttribute('aria-label', t('open_file', { name: a.name }));
      if (image) {
        // At most 240 by 320 px in its proportions (narrower in a narrow window), so nothing
        // jumps when it comes; a sliver is cropped to 48 px.
        var scale = Math.min(1, 240 / a.width, 320 / a.height);
        var width = Math.max(48, Math.round(a.width * scale));
        node.style.width = width + 'px';
        node.style.aspectRatio = width + '/' + Math.max(48, Math.round(a.height * scale));
        var img = node.appendChild(el('img'));
        img.alt = a.name;
        var thumb = thumbs[a.id];
        if (!thumb) {
          thumb = thumbs[a.id] = fetchFile(a.id, '/thumbnail').then(function (blob) { return URL.createObjectURL(blob); });
          thumb.catch(function () { if (thumbs[a.id] === thumb) delete thumbs[a.id]; });
        }
        // Its message gone before it came: forgetThumbnails revokes it.
        thumb.then(function (url) { if (thumbs[a.id] === thumb) img.src = url; }, function () {});
      } else {
        node.append(icon('file'), el('span', 'fn', a.name), el('span', 'fs', sizeText(a.size)));
      }
      node.addEventListener('click', function () { openAttachment(a, image); });
      box.appendChild(node);
    });
    return box;
  }

  /** A file of the visitor's dialog (suffix '/thumbnail': an image's small copy), as a Blob. */
  function fetchFile(id, suffix) {
    return fetch(ORIGIN + '/widget/v1/attachments/' + encodeURIComponent(id) + suffix + '?site_key=' + encodeURIComponent(SITE_KEY), {
      credentials: 'omit', headers: { authorization: 'Bearer ' + load('token', '') },
    }).then(function (response) {
      if (!response.ok) throw response.status;
      return response.blob();
    });
  }

  /** Lets go of the thumbnails no message kept or unsent shows any more (once fetched, if still on their way). */
  function forgetThumbnails() {
    var shown = {};
    messages.concat(outbox).forEach(function (m) {
      (m.attachments || []).forEach(function (a) { shown[a.id] = 1; });
    });
    for (var id in thumbs) {
      if (shown[id]) continue;
      thumbs[id].then(function (url) { URL.revokeObjectURL(url); }, function () {});
      delete thumbs[id];
    }
  }

  /** An image opens in a new tab (opened at the click, so no popup blocker stops it); any other file is saved under its name. */
  function openAttachment(a, image) {
    var tab = image ? window.open('', '_blank') : null;
    fetchFile(a.id, '').then(function (blob) {
      var url = URL.createObjectURL(blob);
      if (tab) tab.location.href = url;
      else {
        var link = ui.root.appendChild(el('a'));
        link.href = url;
        link.download = a.name;
        link.click();
        link.remove();
      }
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    }, function () {
      if (tab) tab.close();
      notice(t('file_failed'));
    });
  }

  // ----------------------------------------------------------------- sounds
  // Synthesized with WebAudio, no audio files; browsers allow audio only
  // after a user gesture, so the context is made on the first one.

  var audio = null;
  var lastSoundAt = 0;

  function unlockAudio() {
    var AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!audio && AudioContextClass) {
      try {
        audio = new AudioContextClass();
      } catch (e) {
        audio = null;
      }
    }
    if (audio && audio.state === 'suspended') audio.resume();
    window.removeEventListener('pointerdown', unlockAudio, true);
    window.removeEventListener('keydown', unlockAudio, true);
  }
  window.addEventListener('pointerdown', unlockAudio, true);
  window.addEventListener('keydown', unlockAudio, true);

  function tone(type, frequency, endFrequency, start, duration, peak) {
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.type = type;
    oscillator.frequency.setValueAtTime(frequency, start);
    if (endFrequency) oscillator.frequency.exponentialRampToValueAtTime(endFrequency, start + duration);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(peak, start + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + duration + 0.05);
  }

  var SOUNDS = {
    // Two soft rising tones (E6, A6), as in the console.
    chime: function (t) {
      tone('sine', 1318.5, 0, t, 0.35, 0.12);
      tone('sine', 1760, 0, t + 0.12, 0.5, 0.1);
    },
    // A struck bell: a fundamental with inharmonic partials and a long decay.
    bell: function (t) {
      tone('sine', 880, 0, t, 1.4, 0.12);
      tone('sine', 880 * 2.76, 0, t, 0.7, 0.04);
      tone('sine', 880 * 5.4, 0, t, 0.35, 0.02);
    },
    // A short upward blip.
    pop: function (t) {
      tone('sine', 420, 1100, t, 0.09, 0.16);
    },
  };

  function playSound() {
    var play = cfg && SOUNDS[cfg.visitor_sound];
    var now = Date.now();
    if (!play || !audio || audio.state !== 'running' || now - lastSoundAt < 1000) return;
    lastSoundAt = now;
    play(audio.currentTime + 0.01);
  }

  // ----------------------------------------------------------------- socket

  var socket = null;
  var ready = false; // hello received on the current socket
  var wanted = false; // the page shows the widget: keep a socket
  var attempt = 0;
  var retryTimer = null;
  var pingTimer = null;
  var awaitingPong = false;
  var helloLastSeq = 0; // messages up to this seq on this socket are history
  var connectedAfterSeq = 0;
  var socketFrom = 0; // the seq this socket sends after, in the current dialog
  var pendingIdentify = [];

  function socketUrl() {
    var token = load('token', null);
    connectedAfterSeq = socketFrom = heldThrough();
    return ORIGIN.replace(/^http/, 'ws') + '/ws/visitor?site_key=' + encodeURIComponent(SITE_KEY) +
      (token ? '&visitor_token=' + encodeURIComponent(token) : '') + '&after_seq=' + connectedAfterSeq;
  }

  function connect() {
    wanted = true;
    if (socket) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    var ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      // A shop's CSP may refuse the address outright.
      return afterClose(1006);
    }
    socket = ws;
    ready = false;
    ws.onmessage = function (event) {
      if (socket !== ws) return;
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame.type === 'string' && Object.prototype.hasOwnProperty.call(HANDLERS, frame.type)) HANDLERS[frame.type](frame);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      dropSocket();
      afterClose(event.code);
    };
  }

  function dropSocket() {
    clearInterval(pingTimer);
    if (socket) {
      socket.onclose = socket.onmessage = null;
      if (socket.readyState < 2) socket.close(1000);
    }
    socket = null;
    ready = false;
  }

  function disconnect() {
    wanted = false;
    clearTimeout(retryTimer);
    retryTimer = null;
    dropSocket();
    setReconnecting(false);
  }

  function afterClose(code) {
    if (code === 4403 || code === 4404) {
      // An unknown site key, or the chat is off: nothing to show here.
      apply(null);
      return;
    }
    if (code === 4401) {
      save('token', null);
      setTray([]); // uploaded by a visitor this browser no longer is
      // Unsent messages keep their words, not those files (refused for good
      // if sent with them): shown again without them, and sent on hello.
      outbox = outbox.filter(function (o) {
        if (!(o.attachments || []).length) return true;
        var item = ui && ui.items.get('c:' + o.client_message_id);
        if (item) {
          item.remove();
          ui.items.delete('c:' + o.client_message_id);
        }
        o.attachments = [];
        o.failed = false;
        return o.text;
      });
      save('outbox', outbox);
      forgetConversation();
    } else if (code === 4409 || code === 4400) {
      forgetConversation();
    }
    renderMessages(true);
    renderBadge();
    setReconnecting(true);
    var immediate = code === 4401 || code === 4409 || code === 4400;
    scheduleReconnect(immediate ? 0 : Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, attempt)));
    attempt++;
  }

  function scheduleReconnect(delay) {
    clearTimeout(retryTimer);
    if (!wanted) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      if (wanted && !socket) connect();
    }, delay);
  }

  /** Back online or back to the tab: try now rather than at the backoff's end. */
  function reconnectNow() {
    if (wanted && !socket && document.visibilityState !== 'hidden') scheduleReconnect(0);
  }
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', reconnectNow);

  // Another tab opened the window: its unread answers are read here too.
  window.addEventListener('storage', function (event) {
    if (event.key !== PREFIX + 'unread') return;
    unread = load('unread', []);
    renderBadge();
  });

  function setReconnecting(on) {
    reconnecting = on;
    if (ui) ui.bar.hidden = !on;
  }

  function sendFrame(frame) {
    if (!socket || !ready || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function heartbeat() {
    if (awaitingPong) {
      // No pong since the last ping: a half-open socket. Start over.
      var ws = socket;
      dropSocket();
      if (ws) afterClose(1006);
      return;
    }
    awaitingPong = true;
    sendFrame({ type: 'ping' });
  }

  var HANDLERS = {
    hello: function (frame) {
      if (typeof frame.visitor_token === 'string' && frame.visitor_token) save('token', frame.visitor_token);
      ownFiles();
      var dialog = frame.dialog;
      // What we kept belongs to another dialog or runs ahead of the server's
      // (a reset server): forget it and take the whole history again.
      var stale = messages.length > 0 && (!dialog || dialog.id !== dialogId || lastSeq() > (dialog.last_seq || 0));
      if (stale) {
        forgetConversation();
        renderMessages(true);
        if (dialog) {
          var ws = socket;
          dropSocket();
          if (ws) scheduleReconnect(0);
          return;
        }
      }
      if (dialog && dialog.id && dialog.id !== dialogId) {
        dialogId = dialog.id;
        save('dialog', dialogId);
      }
      helloLastSeq = dialog ? dialog.last_seq || 0 : 0;
      ready = true;
      attempt = 0;
      awaitingPong = false;
      clearInterval(pingTimer);
      pingTimer = setInterval(heartbeat, PING_EVERY_MS);
      setReconnecting(false);
      if (!configAnsweredSinceSocket) loadConfig(false);
      configAnsweredSinceSocket = false;
      if (cfg && typeof frame.managers_online === 'boolean') {
        cfg.managers_online = frame.managers_online;
        paint();
      }
      sendPage();
      pendingIdentify.splice(0).forEach(function (fields) { sendFrame(fields); });
      if (isOpen) sendShown();
      outbox.forEach(function (o) {
        if (!o.failed) sendEntry(o);
      });
    },
    dialog_created: function (frame) {
      if (frame.dialog && frame.dialog.id && frame.dialog.id !== dialogId) {
        if (messages.length) forgetConversation();
        dialogId = frame.dialog.id;
        save('dialog', dialogId);
      }
    },
    message: function (frame) {
      var m = frame.message;
      var isNew = keep(m);
      // What this socket started after was here, and it has sent since, in
      // order, everything the visitor may see up to this one.
      var through = m && m.dialog_id === dialogId ? Math.max(held, socketFrom, m.seq) : held;
      if (through !== held) {
        held = through;
        save('held', held);
      }
      if (!isNew) return;
      var live = m.seq > helloLastSeq;
      if (m.author_kind !== 'visitor' && !isOpen && (live || connectedAfterSeq > 0)) {
        unread.push(m.id);
        if (unread.length > 100) unread = unread.slice(-100);
        save('unread', unread);
      }
      if (m.author_kind === 'manager' && live) playSound();
      renderMessages(false);
      renderBadge();
    },
    ack: function (frame) {
      dropFromOutbox(frame.client_message_id);
      keep(frame.message);
      renderMessages(false);
    },
    presence: function (frame) {
      if (cfg && typeof frame.managers_online === 'boolean') {
        cfg.managers_online = frame.managers_online;
        paint();
      }
    },
    settings: function (frame) {
      if (frame.settings && typeof frame.settings === 'object') {
        var next = {};
        for (var key in cfg) next[key] = cfg[key];
        for (key in frame.settings) next[key] = frame.settings[key];
        apply(next);
      }
    },
    error: function (frame) {
      var id = frame.client_message_id;
      if (id && (frame.code === 'rate_limited' || frame.code === 'unavailable')) {
        // Nothing was stored: the same send, a moment later.
        setTimeout(function () {
          outbox.forEach(function (o) {
            if (o.client_message_id === id) sendEntry(o);
          });
        }, 1500);
      } else if (id) {
        // Refused for good (an invalid text): shown as not sent, never sent again.
        outbox.forEach(function (o) {
          if (o.client_message_id === id) o.failed = true;
        });
        save('outbox', outbox);
        renderMessages(false);
      } else if (frame.fields && frame.fields.email && ui && !ui.email.hidden) {
        save('email_sent', null);
        showEmailError(t('bad_email'));
      }
    },
    pong: function () {
      awaitingPong = false;
    },
    identified: function () {},
  };

  // ------------------------------------------------------------- the page

  var pageViewId = null;
  var pageUrl = location.href;
  var pageReferrer = document.referrer;
  var shownFor = null;

  /** A new page view: its id, and the visit's start and page count. */
  function countPageView() {
    pageViewId = uuid();
    var now = Date.now();
    var visit = load('visit', null);
    if (!visit || typeof visit.last_at !== 'number' || now - visit.last_at > VISIT_GAP_MS) {
      visit = { started_at: new Date(now).toISOString(), pages: 0 };
    }
    visit.pages += 1;
    visit.last_at = now;
    save('visit', visit);
  }

  function sendPage() {
    var visit = load('visit', {});
    sendFrame({
      type: 'page',
      url: location.href,
      title: document.title,
      referrer: pageReferrer,
      visit_started_at: visit.started_at,
      pages_seen: visit.pages,
      page_view_id: pageViewId,
    });
  }

  function sendShown() {
    if (shownFor !== pageViewId && sendFrame({ type: 'shown', page_view_id: pageViewId })) shownFor = pageViewId;
  }

  var withoutHash = function (url) { return url.split('#')[0]; };
  var navTimer = null;

  function onNavigation() {
    clearTimeout(navTimer);
    // Let the app set its title first.
    navTimer = setTimeout(function () {
      if (withoutHash(location.href) === withoutHash(pageUrl)) return;
      pageReferrer = pageUrl;
      pageUrl = location.href;
      countPageView();
      loadConfig(true);
    }, NAV_SETTLE_MS);
  }

  ['pushState', 'replaceState'].forEach(function (name) {
    var original = history[name];
    if (typeof original !== 'function') return;
    history[name] = function () {
      var result = original.apply(this, arguments);
      onNavigation();
      return result;
    };
  });
  window.addEventListener('popstate', onNavigation);

  // ----------------------------------------------------------------- config

  var configRequest = 0;
  var configTries = 0;
  var configAnsweredSinceSocket = false; // the config is newer than any socket of this page
  var dead = false; // an unknown site key: stop for good
  // While the widget is off here (the chat off, the page hidden, the site
  // not allowed), the config is asked again this often while the tab shows,
  // so turning the chat on or allowing the site brings it back.
  var WATCH_MS = 30000;
  var watchTimer = null;

  function watchForReturn() {
    clearTimeout(watchTimer);
    watchTimer = setTimeout(function () {
      watchTimer = null;
      if (document.visibilityState !== 'hidden') loadConfig(false);
    }, WATCH_MS);
  }

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'hidden' && !cfg && !dead && !watchTimer) loadConfig(false);
  });

  /**
   * Asks the config for this page: on load, after an in-page navigation
   * (navigated), and on every socket but the first after an answer, since
   * a change of the settings saved while it was down went by unseen.
   */
  function loadConfig(navigated) {
    configTries = 0;
    askConfig(navigated);
  }

  function askConfig(navigated) {
    if (dead) return;
    var request = ++configRequest;
    var url = ORIGIN + '/widget/v1/config?site_key=' + encodeURIComponent(SITE_KEY) + '&url=' + encodeURIComponent(location.href);
    fetch(url, { credentials: 'omit' })
      .then(function (response) {
        if (response.status === 404) return { dead: true };
        if (response.status === 403) return { enabled: false }; // this site is not allowed, for now
        if (!response.ok) throw new Error('status ' + response.status);
        return response.json();
      })
      .then(function (config) {
        if (request !== configRequest) return;
        configTries = 0;
        if (config.dead) {
          dead = true;
          apply(null);
          return;
        }
        var wasShown = !!(cfg && socket && ready);
        if (!socket) configAnsweredSinceSocket = true;
        apply(config);
        // Same socket, new page: tell the server where the visitor is now.
        if (navigated && wasShown && cfg) sendPage();
      })
      .catch(function () {
        if (request !== configRequest || ++configTries >= CONFIG_TRIES) return;
        setTimeout(function () {
          if (request === configRequest) askConfig(navigated);
        }, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, configTries)));
      });
  }

  /** Shows the widget for this config, or removes it (chat off, page hidden). */
  function apply(config) {
    if (!config || typeof config !== 'object' || !config.enabled || config.hidden) {
      cfg = null;
      disconnect();
      unmount();
      if (!dead) watchForReturn();
      return;
    }
    clearTimeout(watchTimer);
    watchTimer = null;
    cfg = config;
    if (mount()) {
      // Open on the last page: open here too, without taking the focus.
      if (isOpen) setOpen(true, false);
      waitingCalls.splice(0).forEach(function (call) { call(); });
    }
    connect();
  }

  // -------------------------------------------------------------------- API

  var IDENTIFY_FIELDS = ['name', 'email', 'phone', 'user_hash'];

  function identify(fields) {
    var frame = { type: 'identify' };
    for (var key in fields) frame[key] = fields[key];
    if (!sendFrame(frame)) pendingIdentify.push(frame);
  }

  var waitingCalls = []; // open() before the widget is on the page

  var VERBS = {
    open: function () {
      if (cfg) setOpen(true, true);
      else waitingCalls.push(function () { setOpen(true, true); });
    },
    close: function () {
      waitingCalls = [];
      setOpen(false, false);
    },
    // The shop's customer signed out: this browser becomes a new visitor,
    // so the next person at it does not read their conversation.
    reset: function () {
      save('token', null);
      outbox = [];
      save('outbox', null);
      pendingIdentify.length = 0;
      setTray([]);
      forgetConversation();
      if (ui) {
        renderMessages(true);
        renderBadge();
      }
      if (socket) {
        dropSocket();
        connect();
      }
    },
    identify: function (details) {
      if (!details || typeof details !== 'object') return console.warn('ChatWidget: identify takes an object like {name, email, phone, user_hash}');
      var fields = {};
      var any = false;
      IDENTIFY_FIELDS.forEach(function (key) {
        var value = details[key];
        if (value == null) return;
        if (typeof value !== 'string') return console.warn('ChatWidget: identify: ' + key + ' must be a string');
        fields[key] = value.slice(0, 1000);
        any = true;
      });
      if (any) identify(fields);
    },
  };

  function api(verb) {
    if (typeof verb !== 'string' || !Object.prototype.hasOwnProperty.call(VERBS, verb)) {
      console.warn('ChatWidget: unknown command', verb);
      return;
    }
    VERBS[verb].apply(null, Array.prototype.slice.call(arguments, 1));
  }
  api.loaded = true;

  var queued = (stub && stub.q) || [];
  window.ChatWidget = api;
  for (var i = 0; i < queued.length; i++) api.apply(null, queued[i]);

  countPageView();
  if (document.body) loadConfig(false);
  else document.addEventListener('DOMContentLoaded', function () { loadConfig(false); });
})();
