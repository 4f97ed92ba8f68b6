// The manager's WebSocket: connects with the session cookie, reconnects with
// full-jitter exponential backoff (capped at 10 s), detects half-open sockets
// with an application ping, and reports frames and state to the store.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10_000;
const PING_EVERY_MS = 25_000;

/** Close codes after which the server wants us to stay away. */
const SESSION_ENDED = 4401;

export function socketUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/manager';
}

/** Full jitter: a random delay between 0 and min(cap, base·2^attempt). */
export function backoffDelay(attempt) {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

export class ManagerSocket {
  /**
   * onFrame(frame), onState('connecting'|'online'|'reconnecting'|'stopped'),
   * onSessionEnded(), onOpened(isReconnect), onConnectFailed() → Promise
   * (lets the store check the session before the next attempt).
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.attempt = 0;
    this.stopped = true;
    this.everOpened = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.awaitingPong = false;
    this.onBrowserOnline = () => this.reconnectNow();
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.everOpened = false;
    this.attempt = 0;
    window.addEventListener('online', this.onBrowserOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener('online', this.onBrowserOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
    this.handlers.onState('stopped');
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(frame) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.handlers.onState(this.everOpened ? 'reconnecting' : 'connecting');
    let opened = false;
    const socket = new WebSocket(socketUrl());
    this.socket = socket;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      const isReconnect = this.everOpened;
      this.everOpened = true;
      this.startHeartbeat();
      this.handlers.onState('online');
      this.handlers.onOpened(isReconnect);
    };
    socket.onmessage = (event) => {
      this.awaitingPong = false;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.onFrame(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      if (event.code === SESSION_ENDED) {
        this.stopped = true;
        this.handlers.onSessionEnded();
        return;
      }
      this.scheduleReconnect(opened);
    };
  }

  async scheduleReconnect(wasOpen) {
    if (this.stopped) return;
    this.handlers.onState('reconnecting');
    // An upgrade refused before opening may mean the session is gone: ask.
    if (!wasOpen && this.handlers.onConnectFailed) {
      await this.handlers.onConnectFailed();
      if (this.stopped) return;
    }
    const delay = backoffDelay(this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Skips the wait when the browser says it is back online or the tab is shown again. */
  reconnectNow() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this.connect();
  }

  startHeartbeat() {
    clearInterval(this.pingTimer);
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        // No frame since the last ping: the connection is half-open.
        this.socket?.close(4000, 'no pong');
        return;
      }
      this.awaitingPong = true;
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }
}
