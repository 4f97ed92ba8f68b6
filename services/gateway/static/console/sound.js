// The incoming-message chime: two soft sine tones synthesized with WebAudio
// (no audio files), and the on/off preference kept in localStorage.

const STORAGE_KEY = 'console.sound';
let context = null;

export function loadSoundPreference() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== 'off';
  } catch {
    return true;
  }
}

export function saveSoundPreference(on) {
  try {
    localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
  } catch {
    // Private mode: the switch still works for this tab.
  }
}

function audioContext() {
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!AudioContextClass) return null;
  if (!context) context = new AudioContextClass();
  return context;
}

/** Browsers start audio only after a user gesture: unlock on the first one. */
export function unlockAudioOnFirstGesture() {
  const unlock = () => {
    audioContext()?.resume?.();
    window.removeEventListener('pointerdown', unlock);
    window.removeEventListener('keydown', unlock);
  };
  window.addEventListener('pointerdown', unlock);
  window.addEventListener('keydown', unlock);
}

function tone(ctx, frequency, startAt, duration, peak) {
  const oscillator = ctx.createOscillator();
  const gain = ctx.createGain();
  oscillator.type = 'sine';
  oscillator.frequency.setValueAtTime(frequency, startAt);
  gain.gain.setValueAtTime(0.0001, startAt);
  gain.gain.exponentialRampToValueAtTime(peak, startAt + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, startAt + duration);
  oscillator.connect(gain).connect(ctx.destination);
  oscillator.start(startAt);
  oscillator.stop(startAt + duration + 0.05);
}

let lastChimeAt = 0;

/** A short rising two-tone chime (E6 then A6); at most one per second. */
export function playChime() {
  const now = Date.now();
  if (now - lastChimeAt < 1000) return;
  lastChimeAt = now;
  const ctx = audioContext();
  if (!ctx || ctx.state === 'suspended') return;
  const start = ctx.currentTime + 0.01;
  tone(ctx, 1318.5, start, 0.35, 0.12);
  tone(ctx, 1760, start + 0.12, 0.5, 0.1);
}
