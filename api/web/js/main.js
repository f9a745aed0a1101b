// The page: wires the controls to the server and the player.
//
// Playback always streams "pcm" (raw 16-bit, 24 kHz) and plays it through Web
// Audio as it arrives: one path that starts with the first chunk whatever the
// chosen format. WAV and PCM downloads are built from those same bytes; MP3,
// Opus, AAC and FLAC are encoded by the server when the user downloads them
// (complete files with exact headers), so nothing is synthesized twice unless
// a compressed file is asked for. Dialogues take the same path through
// /v1/audio/dialogue. Live mode feeds its text to the text-streaming WebSocket
// (live.js) and plays the PCM that comes back through the same player.

import { ApiError, apiFetch, apiJson, getApiKey, onUnauthorized, setApiKey } from "./api.js";
import { DialogueEditor, DraftError } from "./dialogue.js";
import { byId, clock, el, saveBlob, secondsText } from "./dom.js";
import { renderHistory, takeFilename } from "./history.js";
import { LexiconEditor } from "./lexicon.js";
import { LiveError, LiveStream, SpokenWords, feedSeconds, paceFrom, renderSent } from "./live.js";
import { DEFAULT_WEIGHT, Mixer } from "./mixer.js";
import { PcmDecoder, wavBlob } from "./pcm.js";
import { StreamPlayer } from "./player.js";
import { bindTabs } from "./tabs.js";
import { filterVoices, renderLanguageOptions, renderVoiceList } from "./voices.js";
import { Waveform } from "./waveform.js";

const PREFS_STORAGE = "kokoro-server.web-prefs";
const DIALOGUE_STORAGE = "kokoro-server.web-dialogue";
const SPEECH_PATH = "/v1/audio/speech";
const DIALOGUE_PATH = "/v1/audio/dialogue";
// A typical speaking rate at speed 1, only for the length the progress view expects.
const CHARACTERS_PER_SECOND = 15;
const PREVIEW_TEXT = "This is how the blend sounds.";
const PREVIEW_MAX_CHARACTERS = 200;
const HEALTH_EVERY_MS = 30_000;
const MODES = ["text", "dialogue", "live"];
// The socket's address names its voice, so with none chosen Live mode names the
// server's own default (unless KOKORO_DEFAULT_VOICE changes it); the page says which.
const LIVE_DEFAULT_VOICE = "af_heart";

const FORMAT_NOTES = {
  wav: "Plays while it is generated; the download is a WAV of the same audio.",
  pcm: "Plays while it is generated; the download is the raw 16-bit, 24 kHz mono stream.",
  mp3: "Plays while it is generated; the server encodes the MP3 when you download it.",
  opus: "Plays while it is generated; the server encodes the Opus file when you download it.",
  aac: "Plays while it is generated; the server encodes the AAC file when you download it.",
  flac: "Plays while it is generated; the server encodes the FLAC file when you download it.",
};

const ui = {
  skipLink: byId("skip-link"),
  alert: byId("alert"),
  health: byId("health"),
  healthText: byId("health-text"),
  keyBox: byId("key-box"),
  keyForm: byId("key-form"),
  keyInput: byId("api-key"),
  keyClear: byId("key-clear"),
  keyNote: byId("key-note"),
  modeTabs: byId("mode-tabs"),
  dialoguePanel: byId("panel-dialogue"),
  liveText: byId("live-text"),
  liveCount: byId("live-count"),
  livePace: byId("live-pace"),
  liveSent: byId("live-sent"),
  liveUnsent: byId("live-unsent"),
  liveProgress: byId("live-progress"),
  text: byId("text"),
  textCount: byId("text-count"),
  textFile: byId("text-file"),
  openFile: byId("open-file"),
  clearText: byId("clear-text"),
  voiceSearch: byId("voice-search"),
  voiceLanguage: byId("voice-language"),
  voiceGender: byId("voice-gender"),
  voiceCount: byId("voice-count"),
  voiceList: byId("voice-list"),
  voiceDelete: byId("voice-delete"),
  mixer: byId("mixer"),
  mixRows: byId("mix-rows"),
  mixAdd: byId("mix-add"),
  mixSpec: byId("mix-spec"),
  mixPreview: byId("mix-preview"),
  mixUse: byId("mix-use"),
  mixSave: byId("mix-save"),
  mixName: byId("mix-name"),
  mixOverwrite: byId("mix-overwrite"),
  mixStatus: byId("mix-status"),
  chosen: byId("chosen"),
  chosenDialogue: byId("chosen-dialogue"),
  chosenVoice: byId("chosen-voice"),
  speed: byId("speed"),
  speedOut: byId("speed-out"),
  format: byId("format"),
  formatNote: byId("format-note"),
  generate: byId("generate"),
  stop: byId("stop"),
  wave: byId("wave"),
  seek: byId("seek"),
  play: byId("play"),
  time: byId("time"),
  status: byId("gen-status"),
  progress: byId("gen-progress"),
  download: byId("download"),
  history: byId("history"),
  historyEmpty: byId("history-empty"),
};

const state = {
  mode: "text", // the tab shown: "text", "dialogue" or "live"
  voices: [],
  voice: "", // a voice id, a blend spec, or "" for the server's default voice
  takes: [],
  current: null,
  job: null, // what is being generated: its abort() stops it
  live: null, // the last live stream: its text, what was sent, when its words are heard
  expectedSeconds: 0,
  takeCount: 0,
  seeking: false,
};

const player = new StreamPlayer();
const waveform = new Waveform(ui.wave);
const mixer = new Mixer(ui.mixRows, (spec) => {
  ui.mixSpec.value = spec;
});
const dialogue = new DialogueEditor(
  {
    root: ui.dialoguePanel,
    speakers: byId("dlg-speakers"),
    addSpeaker: byId("dlg-add-speaker"),
    turns: byId("dlg-turns"),
    addTurn: byId("dlg-add-turn"),
    gap: byId("dlg-gap"),
    count: byId("dlg-count"),
    script: byId("dlg-script"),
    scriptReplace: byId("dlg-script-replace"),
    scriptAdd: byId("dlg-script-add"),
    status: byId("dlg-status"),
  },
  { storageKey: DIALOGUE_STORAGE, estimateSeconds, getSpeed: () => Number(ui.speed.value) },
);
const lexicon = new LexiconEditor(
  {
    language: byId("lex-language"),
    count: byId("lex-count"),
    list: byId("lex-entries"),
    form: byId("lex-form"),
    word: byId("lex-word"),
    kind: byId("lex-kind"),
    value: byId("lex-value"),
    preview: byId("lex-preview"),
    phonemes: byId("lex-phonemes"),
    status: byId("lex-status"),
  },
  {
    // The word in the chosen voice, read as the lexicon's language.
    onPreview: (text, language) => speak(text, state.voice, "preview", { lang_code: language }),
    onError: (context, error) => showError(context, error),
  },
);

// ---- errors ---------------------------------------------------------------

/** Show what went wrong, in the server's own words, in the alert region. */
function showError(context, error) {
  const message = error instanceof Error ? error.message : String(error);
  let status = "";
  if (error instanceof ApiError && error.status) status = ` (HTTP ${error.status})`;
  if (error instanceof LiveError && error.closeCode) status = ` (closed ${error.closeCode})`;
  ui.alert.replaceChildren(
    el("p", { class: "alert-title" }, `${context}${status}`),
    el("p", { class: message.includes("\n") ? "alert-message code" : "alert-message" }, message),
    el(
      "button",
      { type: "button", class: "icon", "aria-label": "Dismiss the message", onclick: clearError },
      "×",
    ),
  );
}

function clearError() {
  ui.alert.replaceChildren();
}

// ---- preferences ----------------------------------------------------------

function loadPrefs() {
  try {
    const prefs = JSON.parse(localStorage.getItem(PREFS_STORAGE) ?? "{}");
    if (typeof prefs.voice === "string") state.voice = prefs.voice;
    if (MODES.includes(prefs.mode)) state.mode = prefs.mode;
    if (prefs.speed) ui.speed.value = prefs.speed;
    if (prefs.format in FORMAT_NOTES) ui.format.value = prefs.format;
    if (prefs.livePace) ui.livePace.value = prefs.livePace;
  } catch {
    // No storage or a stale value: keep the defaults.
  }
}

function savePrefs() {
  const prefs = {
    voice: state.voice,
    speed: ui.speed.value,
    format: ui.format.value,
    mode: state.mode,
    livePace: ui.livePace.value,
  };
  try {
    localStorage.setItem(PREFS_STORAGE, JSON.stringify(prefs));
  } catch {
    // Storage off: preferences last until reload.
  }
}

// ---- server status and API key ---------------------------------------------

async function refreshHealth() {
  try {
    const health = await apiJson("/health");
    ui.health.dataset.state = "ok";
    const { backend, device, voices } = health;
    ui.healthText.textContent = `Ready · ${backend} on ${device} · ${voices} voices`;
    ui.health.title = `Model sha256 ${health.model_sha256}`;
  } catch (error) {
    ui.health.dataset.state = "error";
    ui.healthText.textContent =
      error.status === 401 ? "API key needed" : `Not ready: ${error.message}`;
  }
}

let keyPrompted = false;

/** On a 401: open the key field once (not again on every health check). */
function askForKey(error) {
  ui.keyNote.textContent = `The server asks for an API key: ${error.message}`;
  if (keyPrompted) return;
  keyPrompted = true;
  ui.keyBox.open = true;
  ui.keyInput.focus();
}

function saveKey(event) {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  setApiKey(key);
  keyPrompted = false;
  clearError();
  ui.keyNote.textContent = key
    ? "Saved in this browser; every request now carries it."
    : "No key: requests go without one.";
  refreshHealth();
  loadVoices();
  lexicon.load();
}

function forgetKey() {
  setApiKey("");
  ui.keyInput.value = "";
  ui.keyNote.textContent = "Key removed from this browser.";
}

// ---- text, dialogue or live ------------------------------------------------------

const SKIP_TARGETS = { text: "#text", dialogue: "#panel-dialogue", live: "#live-text" };

/** Show the text, the dialogue editor or live mode; the player and the rest are shared. */
function showMode(mode) {
  state.mode = mode;
  const dialogueMode = mode === "dialogue";
  ui.chosen.hidden = dialogueMode;
  ui.chosenDialogue.hidden = !dialogueMode;
  ui.skipLink.href = SKIP_TARGETS[mode];
  ui.generate.textContent = mode === "live" ? "Speak live" : "Speak";
  showChosenVoice();
  savePrefs();
}

// ---- text -------------------------------------------------------------------

function estimateSeconds(text, speed) {
  return text.trim().length / CHARACTERS_PER_SECOND / speed;
}

function updateCount() {
  const count = ui.text.value.length;
  const about = estimateSeconds(ui.text.value, Number(ui.speed.value));
  const unit = count === 1 ? "character" : "characters";
  ui.textCount.textContent =
    count === 0
      ? "0 characters"
      : `${count.toLocaleString()} ${unit} · about ${clock(about)} of speech`;
}

async function loadTextFile(file) {
  const looksLikeText = file.type.startsWith("text/") || /\.(txt|md|text)$/i.test(file.name);
  if (!looksLikeText) {
    showError("Could not open the file", new Error(`${file.name} is not a plain text file.`));
    return;
  }
  ui.text.value = await file.text();
  updateCount();
  ui.text.focus();
}

// ---- voices -----------------------------------------------------------------

function describeVoice(spec) {
  if (!spec) return "Server's default voice";
  const voice = state.voices.find((candidate) => candidate.id === spec);
  return voice ? `${voice.name} (${voice.id})` : `Blend ${spec}`;
}

function showChosenVoice() {
  ui.chosenVoice.textContent = describeVoice(state.mode === "live" ? liveVoice() : state.voice);
  const voice = state.voices.find((candidate) => candidate.id === state.voice);
  ui.voiceDelete.disabled = !voice || voice.source === "builtin";
}

function selectVoice(spec) {
  state.voice = spec;
  savePrefs();
  showChosenVoice();
}

function renderVoices() {
  const shown = filterVoices(state.voices, {
    search: ui.voiceSearch.value,
    language: ui.voiceLanguage.value,
    gender: ui.voiceGender.value,
  });
  renderVoiceList(ui.voiceList, shown, state.voice, selectVoice);
  const total = state.voices.length;
  ui.voiceCount.textContent =
    shown.length === total ? `${total} voices` : `${shown.length} of ${total} voices shown`;
}

async function loadVoices() {
  let body;
  try {
    body = await apiJson("/v1/audio/voices");
  } catch (error) {
    showError("Could not load the voices", error);
    return;
  }
  state.voices = body.voices;
  renderLanguageOptions(ui.voiceLanguage, state.voices);
  renderVoices();
  mixer.setVoices(state.voices);
  dialogue.setVoices(state.voices);
  if (mixer.rows.length === 0) {
    for (const voice of state.voices.slice(0, 2)) {
      mixer.add(voice.id, DEFAULT_WEIGHT, { focus: false });
    }
  }
  showChosenVoice();
}

function clearVoiceFilters() {
  ui.voiceSearch.value = "";
  ui.voiceLanguage.value = "";
  ui.voiceGender.value = "";
}

async function deleteVoice() {
  const id = state.voice;
  if (!window.confirm(`Delete the voice “${id}”? This cannot be undone.`)) return;
  try {
    await apiFetch(`/v1/audio/voices/${encodeURIComponent(id)}`, { method: "DELETE" });
  } catch (error) {
    showError(`Could not delete “${id}”`, error);
    return;
  }
  selectVoice("");
  await loadVoices();
}

// ---- mixer ------------------------------------------------------------------

async function saveMix(event) {
  event.preventDefault();
  clearError();
  const name = ui.mixName.value.trim();
  const spec = ui.mixSpec.value.trim();
  ui.mixStatus.textContent = "Saving…";
  try {
    const response = await apiFetch("/v1/audio/voices/combine", {
      method: "POST",
      json: { voices: spec, name, overwrite: ui.mixOverwrite.checked },
    });
    await response.arrayBuffer(); // the .pt file; the saved voice is what we want here
  } catch (error) {
    ui.mixStatus.textContent = "";
    showError("Could not save the mix", error);
    return;
  }
  selectVoice(name);
  clearVoiceFilters();
  await loadVoices();
  ui.mixStatus.textContent = `Saved “${name}”: it is in the voice list and selected.`;
  byId(`voice-${name}`)?.scrollIntoView({ block: "nearest" });
}

function previewText() {
  const text = ui.text.value.trim();
  if (!text) return PREVIEW_TEXT;
  const sentence = text.split(/(?<=[.!?。！？])\s+/u)[0];
  return sentence.slice(0, PREVIEW_MAX_CHARACTERS);
}

function useMix() {
  const spec = ui.mixSpec.value.trim();
  if (!spec) return;
  selectVoice(spec);
  for (const radio of ui.voiceList.querySelectorAll("input[type=radio]")) radio.checked = false;
}

// ---- speaking ----------------------------------------------------------------

function setBusy(busy) {
  ui.generate.disabled = busy;
  ui.stop.disabled = !busy;
}

function stopAll() {
  state.job?.abort();
  player.pause();
}

/** Whatever the player plays now is not the live stream's audio. */
function leaveLive() {
  if (state.live) state.live.inPlayer = false;
  syncLive();
}

/** Speak `text` in `voice` (a take of `kind` "speech" or "preview"); `fields` go
 * into the request as they are (a preview's lang_code). */
function speak(text, voice, kind, fields = {}) {
  const speed = Number(ui.speed.value);
  const request = { model: "kokoro", input: text, speed, ...fields };
  if (voice) request.voice = voice;
  generate(SPEECH_PATH, request, {
    take: { kind, text, voiceLabel: voice || "default voice", speed },
    expectedSeconds: estimateSeconds(text, speed),
    failure: "Could not speak the text",
  });
}

/** Speak the dialogue editor's script; the server's complaint about a turn or a
 * speaker marks that row. */
function speakDialogue() {
  clearError();
  dialogue.clearInvalid();
  const speed = Number(ui.speed.value);
  let script;
  try {
    script = dialogue.request(speed);
  } catch (error) {
    if (!(error instanceof DraftError)) throw error;
    showError("The dialogue is not ready", error);
    return;
  }
  const { request, text, voiceLabel, expectedSeconds } = script;
  generate(DIALOGUE_PATH, request, {
    take: { kind: "dialogue", text, voiceLabel, speed },
    expectedSeconds,
    failure: "Could not speak the dialogue",
    onError: (error) => dialogue.showServerError(error.param),
  });
}

/** POST `request` to `path` as streamed PCM, play it as it arrives, and keep
 * it as a take (`take`: what the history shows). A compressed download sends
 * the same request again in the chosen format. */
async function generate(path, request, { take, expectedSeconds, failure, onError }) {
  clearError();
  state.job?.abort();
  leaveLive();
  player.unlock(); // still inside the click: browsers let audio start now
  const controller = new AbortController();
  state.job = controller;
  setBusy(true);
  const format = ui.format.value;
  const started = performance.now();
  state.current = null;
  state.expectedSeconds = expectedSeconds;
  player.load(new Float32Array(0), { complete: false });
  ui.status.textContent = "Generating…";
  ui.progress.textContent = "";
  const chunks = [];
  const decoder = new PcmDecoder();
  let firstAudioMs = null;
  try {
    const response = await apiFetch(path, {
      method: "POST",
      json: { ...request, response_format: "pcm", stream: true },
      signal: controller.signal,
    });
    player.play(0);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      const samples = decoder.push(value);
      if (samples.length === 0) continue;
      firstAudioMs ??= performance.now() - started;
      player.append(samples);
      ui.progress.textContent = `${secondsText(player.duration)} generated`;
    }
    if (decoder.hasPartialSample) throw new Error("The audio stream ended inside a sample.");
  } catch (error) {
    if (state.job !== controller) return; // a newer request took over the player
    player.finish();
    if (error.name === "AbortError") {
      ui.status.textContent = "Stopped.";
    } else {
      ui.status.textContent = "Failed.";
      const context =
        player.duration > 0
          ? `The audio stream broke off after ${secondsText(player.duration)}`
          : failure;
      showError(context, error);
      onError?.(error);
    }
    return;
  } finally {
    if (state.job === controller) {
      state.job = null;
      setBusy(false);
    }
  }
  player.finish();
  if (player.duration === 0) {
    ui.status.textContent = "No audio: the text holds nothing to speak.";
    return;
  }
  addTake({
    ...take,
    path,
    request,
    format,
    chunks,
    firstAudioMs,
    doneMs: performance.now() - started,
  });
}

function addTake({ chunks, ...details }) {
  state.takeCount += 1;
  let blob = null;
  if (details.format === "wav") blob = wavBlob(chunks);
  else if (details.format === "pcm") blob = new Blob(chunks, { type: "audio/pcm" });
  const take = {
    ...details,
    number: state.takeCount,
    excerpt: details.text.length > 120 ? `${details.text.slice(0, 119)}…` : details.text,
    samples: player.samples.slice(),
    seconds: player.duration,
    blob,
  };
  state.takes.unshift(take);
  state.current = take;
  const made = secondsText(take.doneMs / 1000);
  ui.status.textContent = `Done: ${secondsText(take.seconds)} of audio in ${made}.`;
  renderTakes();
}

function renderTakes() {
  renderHistory(ui.history, state.takes, state.current, {
    onPlay: playTake,
    onDownload: downloadTake,
  });
  ui.historyEmpty.hidden = state.takes.length > 0;
  syncPlayer();
}

function playTake(take) {
  stopAll();
  leaveLive();
  state.current = take;
  state.expectedSeconds = take.seconds;
  player.load(take.samples);
  player.play(0);
  renderTakes();
}

/** The take in its chosen format: already here for WAV and PCM, encoded by the
 * server (once, on first download) for the compressed formats. */
async function downloadTake(take, button) {
  if (!take.blob) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = `Encoding ${take.format.toUpperCase()}…`;
    const request = { ...take.request, response_format: take.format, stream: false };
    try {
      const response = await apiFetch(take.path, { method: "POST", json: request });
      take.blob = await response.blob();
    } catch (error) {
      showError(`Could not make the ${take.format.toUpperCase()} file`, error);
      return;
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }
  saveBlob(take.blob, takeFilename(take));
}

// ---- live ---------------------------------------------------------------------------

function liveVoice() {
  return state.voice || LIVE_DEFAULT_VOICE;
}

function updateLiveCount() {
  const count = ui.liveText.value.length;
  const unit = count === 1 ? "character" : "characters";
  const feeding = feedSeconds(count, paceFrom(ui.livePace.value));
  ui.liveCount.textContent =
    count === 0
      ? "0 characters"
      : `${count.toLocaleString()} ${unit} · sent in about ${secondsText(feeding)}`;
}

/** The live view: the text sent so far, the word being heard marked, and the
 * stream's state and audio received (also as data- attributes). */
function syncLive() {
  const live = state.live;
  if (!live) return;
  const word = live.inPlayer && player.playing ? live.words.wordAt(player.position) : null;
  // Called on every animation frame while playing: the page changes only with the view.
  const shown = [live.sent, word?.from, live.state, live.bytes].join(":");
  if (shown === live.shown) return;
  live.shown = shown;
  renderSent(ui.liveSent, ui.liveUnsent, live.text, live.sent, word);
  const progress = ui.liveProgress;
  progress.dataset.state = live.state;
  progress.dataset.sentChars = String(live.sent);
  progress.dataset.bytes = String(live.bytes);
  progress.dataset.seconds = live.seconds.toFixed(3);
  progress.textContent =
    `${live.sent.toLocaleString()} of ${live.text.length.toLocaleString()} characters sent · ` +
    `${secondsText(live.seconds)} of audio received`;
}

/** Feed the live text to the socket at the chosen pace and play what comes back;
 * when the stream ends it becomes a take like any other. */
function speakLive() {
  clearError();
  state.job?.abort();
  player.unlock(); // still inside the click: browsers let audio start now
  const text = ui.liveText.value;
  const voice = liveVoice();
  const speed = Number(ui.speed.value);
  const started = performance.now();
  const chunks = [];
  const decoder = new PcmDecoder();
  let firstAudioMs = null;
  const live = {
    text,
    sent: 0,
    bytes: 0,
    seconds: 0,
    state: "connecting",
    words: new SpokenWords(text),
    inPlayer: true,
    shown: null,
  };
  state.live = live;
  state.current = null;
  state.expectedSeconds = estimateSeconds(text, speed);
  player.load(new Float32Array(0), { complete: false });
  setBusy(true);
  ui.status.textContent = "Connecting…";
  ui.progress.textContent = "";
  syncLive();

  const job = {};
  const settle = (liveState, status) => {
    player.finish();
    live.state = liveState;
    ui.status.textContent = status;
    if (state.job === job) {
      state.job = null;
      setBusy(false);
    }
    syncLive();
  };
  const stream = new LiveStream(
    { voice, text, speed, pace: paceFrom(ui.livePace.value), key: getApiKey() },
    {
      onOpen() {
        player.play(0);
        live.state = "speaking";
        ui.status.textContent = "Speaking live…";
        syncLive();
      },
      onSent(count) {
        live.sent = count;
        syncLive();
      },
      onAudio(bytes, alignment) {
        chunks.push(bytes);
        live.bytes += bytes.length;
        const samples = decoder.push(bytes);
        if (samples.length > 0) {
          firstAudioMs ??= performance.now() - started;
          player.append(samples);
        }
        live.seconds = player.duration;
        if (alignment) live.words.place(alignment, player.duration);
        ui.progress.textContent = `${secondsText(player.duration)} received`;
        syncLive();
      },
      onDone() {
        if (player.duration === 0) {
          settle("done", "No audio: the text holds nothing to speak.");
          return;
        }
        settle("done", "");
        addTake({
          kind: "live",
          text,
          voiceLabel: voice,
          speed,
          path: SPEECH_PATH,
          request: { model: "kokoro", input: text, voice, speed },
          format: ui.format.value,
          chunks,
          firstAudioMs,
          doneMs: performance.now() - started,
        });
      },
      onError(error) {
        settle("failed", "Failed.");
        const context =
          player.duration > 0
            ? `The live stream broke off after ${secondsText(player.duration)}`
            : "Could not speak live";
        showError(context, error);
        if (error.code === "invalid_api_key") askForKey(error);
      },
    },
  );
  job.abort = () => {
    stream.stop();
    settle("stopped", "Stopped.");
  };
  state.job = job;
  stream.start();
}

// ---- player view ----------------------------------------------------------------

let shownTime = "";

function syncPlayer() {
  const duration = player.duration;
  const position = player.position;
  const generating = !player.complete;
  const total = generating ? Math.max(duration, state.expectedSeconds) : duration;
  waveform.draw(player.samples, position, total);
  ui.play.textContent = player.playing ? "Pause" : "Play";
  ui.play.disabled = duration === 0;
  ui.download.disabled = !state.current;
  ui.download.textContent = state.current
    ? `Download .${state.current.format}`
    : `Download .${ui.format.value}`;
  ui.seek.disabled = duration === 0;
  ui.seek.max = String(duration);
  if (!state.seeking) ui.seek.value = String(position);
  const time = `${clock(position)} / ${clock(duration)}${generating ? "…" : ""}`;
  if (time !== shownTime) {
    shownTime = time;
    ui.time.textContent = time;
    ui.seek.setAttribute("aria-valuetext", `${clock(position)} of ${clock(duration)}`);
  }
  ui.wave.parentElement.dataset.state = player.playing ? "playing" : "paused";
  ui.wave.parentElement.dataset.position = position.toFixed(3);
  ui.wave.parentElement.dataset.duration = duration.toFixed(3);
  syncLive();
}

// ---- wiring ---------------------------------------------------------------------

function bind() {
  onUnauthorized(askForKey);
  ui.keyInput.value = getApiKey();
  ui.keyForm.addEventListener("submit", saveKey);
  ui.keyClear.addEventListener("click", forgetKey);

  ui.text.addEventListener("input", updateCount);
  for (const panel of [ui.text, ui.dialoguePanel, ui.liveText]) {
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        ui.generate.click();
      }
    });
  }
  ui.text.addEventListener("dragover", (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
  ui.text.addEventListener("drop", (event) => {
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    event.preventDefault();
    loadTextFile(file);
  });
  ui.openFile.addEventListener("click", () => ui.textFile.click());
  ui.textFile.addEventListener("change", async () => {
    const file = ui.textFile.files[0];
    if (file) await loadTextFile(file);
    ui.textFile.value = "";
  });
  ui.liveText.addEventListener("input", updateLiveCount);
  ui.livePace.addEventListener("input", () => {
    updateLiveCount();
    savePrefs();
  });
  ui.clearText.addEventListener("click", () => {
    ui.text.value = "";
    updateCount();
    ui.text.focus();
  });

  for (const control of [ui.voiceSearch, ui.voiceLanguage, ui.voiceGender]) {
    control.addEventListener("input", renderVoices);
  }
  ui.voiceDelete.addEventListener("click", deleteVoice);

  ui.mixAdd.addEventListener("click", () => {
    const used = new Set(mixer.rows.map((row) => row.voice));
    const next = state.voices.find((voice) => !used.has(voice.id)) ?? state.voices[0];
    if (next) mixer.add(next.id);
  });
  ui.mixPreview.addEventListener("click", () =>
    speak(previewText(), ui.mixSpec.value.trim(), "preview"),
  );
  ui.mixUse.addEventListener("click", useMix);
  ui.mixSave.addEventListener("submit", saveMix);

  ui.speed.addEventListener("input", () => {
    ui.speedOut.value = `${Number(ui.speed.value).toFixed(2)}×`;
    updateCount();
    dialogue.updateCount();
    savePrefs();
  });
  ui.format.addEventListener("change", () => {
    ui.formatNote.textContent = FORMAT_NOTES[ui.format.value];
    savePrefs();
    syncPlayer();
  });
  ui.generate.addEventListener("click", () => {
    if (state.mode === "dialogue") speakDialogue();
    else if (state.mode === "live") speakLive();
    else speak(ui.text.value, state.voice, "speech");
  });
  ui.stop.addEventListener("click", stopAll);

  ui.play.addEventListener("click", () => (player.playing ? player.pause() : player.play()));
  ui.download.addEventListener("click", () => downloadTake(state.current, ui.download));
  ui.seek.addEventListener("pointerdown", () => {
    state.seeking = true;
  });
  ui.seek.addEventListener("pointerup", () => {
    state.seeking = false;
  });
  ui.seek.addEventListener("input", () => player.seek(Number(ui.seek.value)));

  player.addEventListener("change", syncPlayer);
  player.addEventListener("timeupdate", syncPlayer);
  new ResizeObserver(syncPlayer).observe(ui.wave);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshHealth();
  });
  setInterval(() => {
    if (document.visibilityState === "visible") refreshHealth();
  }, HEALTH_EVERY_MS);
}

function start() {
  loadPrefs();
  ui.speedOut.value = `${Number(ui.speed.value).toFixed(2)}×`;
  ui.formatNote.textContent = FORMAT_NOTES[ui.format.value];
  if (window.matchMedia("(min-width: 60rem)").matches) ui.mixer.open = true;
  bind();
  bindTabs(ui.modeTabs, showMode)(state.mode);
  updateCount();
  updateLiveCount();
  syncPlayer();
  refreshHealth();
  loadVoices();
  lexicon.load();
}

start();
