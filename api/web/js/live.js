// Live mode: text fed to the server's text-streaming WebSocket a few words at a
// time, as an LLM writes its answer, and heard as soon as each sentence is
// complete. The socket speaks ElevenLabs' stream-input protocol
// (/v1/text-to-speech/{voice}/stream-input): JSON text messages in; base64 PCM
// with each piece's timing out, then {"isFinal": true} and a normal close, or an
// error message and a close with its code.

import { serverRoot } from "./api.js";
import { el } from "./dom.js";

// How often the feeder sends; the pace is characters per tick (an LLM's is about 20).
const TICK_MS = 100;
const DEFAULT_PACE = 20;
const PACE_RANGE = { min: 1, max: 500 };
// Highlight a word this long past its end: the spaces between words have no time.
const WORD_LINGER_S = 0.25;
// A word the server spoke is looked for this far past the last one placed; further
// on, it is some other occurrence and the timing is left out.
const WORD_SEARCH_CHARS = 64;

/** The text as an LLM streams it: each word with the spaces before it (trailing
 * spaces last), so the pieces join back into the text exactly. */
export function textPieces(text) {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** The pace a pace field's `value` asks for, in whole characters per tick. */
export function paceFrom(value) {
  const pace = Math.round(Number(value));
  if (!Number.isFinite(pace) || value === "") return DEFAULT_PACE;
  return Math.min(Math.max(pace, PACE_RANGE.min), PACE_RANGE.max);
}

/** Seconds the feeder takes to send `characters` at `pace`. */
export function feedSeconds(characters, pace) {
  return ((characters / pace) * TICK_MS) / 1000;
}

/** The socket's address for `voice`, beside the page's server root (a proxy's prefix
 * holds), asking for the PCM the player plays: 16-bit mono at 24 kHz. */
export function liveUrl(voice) {
  const url = new URL(`v1/text-to-speech/${encodeURIComponent(voice)}/stream-input`, serverRoot);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("output_format", "pcm_24000");
  return url;
}

/** What the socket said went wrong (`code`: the server's error code, such as
 * "voice_not_found"; `closeCode`: the WebSocket close code), or why it broke. */
export class LiveError extends Error {
  constructor(message, { code = null, closeCode = null } = {}) {
    super(message);
    this.name = "LiveError";
    this.code = code;
    this.closeCode = closeCode;
  }
}

function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** One live stream: opens the socket, feeds `text` at `pace` characters per tick and
 * hands on what comes back. `handlers`: onOpen(), onSent(characters sent),
 * onAudio(PCM bytes, alignment or null), onDone(), onError(LiveError). After
 * stop() none of them is called again. */
export class LiveStream {
  #options;
  #handlers;
  #socket = null;
  #pieces;
  #next = 0;
  #sentChars = 0;
  #credit = 0;
  #timer = 0;
  #opened = false;
  #final = false;
  #failure = null;
  #stopped = false;

  constructor({ voice, text, speed, pace, key = "" }, handlers) {
    this.#options = { voice, speed, pace, key };
    this.#pieces = textPieces(text);
    this.#handlers = handlers;
  }

  start() {
    const socket = new WebSocket(liveUrl(this.#options.voice));
    this.#socket = socket;
    socket.addEventListener("open", () => this.#open());
    socket.addEventListener("message", (event) => this.#received(event.data));
    socket.addEventListener("close", (event) => this.#closed(event));
  }

  /** Close the socket: the server stops speaking, no handler hears more. */
  stop() {
    this.#stopped = true;
    clearInterval(this.#timer);
    // Closing a socket still connecting makes the browser log an error; it closes
    // once open instead (#open).
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.close(1000, "stopped");
  }

  #open() {
    this.#opened = true;
    if (this.#stopped) {
      this.#socket.close(1000, "stopped");
      return;
    }
    // The key goes in the first message, not the address: addresses end up in logs.
    const first = { text: " ", voice_settings: { speed: this.#options.speed } };
    if (this.#options.key) first.xi_api_key = this.#options.key;
    this.#send(first);
    this.#handlers.onOpen();
    this.#timer = setInterval(() => this.#feed(), TICK_MS);
    this.#feed();
  }

  /** Send the words this tick's characters pay for; a word longer than a tick's
   * worth waits until enough ticks have passed. After the last, the end. */
  #feed() {
    this.#credit += this.#options.pace;
    while (this.#next < this.#pieces.length && this.#pieces[this.#next].length <= this.#credit) {
      const piece = this.#pieces[this.#next];
      this.#next += 1;
      this.#credit -= piece.length;
      this.#sentChars += piece.length;
      this.#send({ text: piece });
    }
    this.#handlers.onSent(this.#sentChars);
    if (this.#next === this.#pieces.length) {
      clearInterval(this.#timer);
      this.#send({ text: "" });
    }
  }

  #send(message) {
    // After the server's close the browser logs every send as an error; what is
    // left to send no longer matters then.
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #received(data) {
    if (this.#stopped) return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this.#failure = new LiveError("The server sent a message that is not JSON.");
      return;
    }
    if (typeof message.error === "string" || (message.message && !("audio" in message))) {
      this.#failure = new LiveError(String(message.message ?? message.error), {
        code: message.error ?? null,
        closeCode: message.code ?? null,
      });
      return;
    }
    if (typeof message.audio === "string") {
      this.#handlers.onAudio(decodeBase64(message.audio), message.alignment ?? null);
    }
    if (message.isFinal === true) this.#final = true;
  }

  #closed(event) {
    clearInterval(this.#timer);
    if (this.#stopped) return;
    if (this.#failure) {
      this.#failure.closeCode ??= event.code;
      this.#handlers.onError(this.#failure);
    } else if (this.#final) {
      this.#handlers.onDone();
    } else if (!this.#opened) {
      this.#handlers.onError(
        new LiveError("Cannot reach the server's live socket.", { closeCode: event.code }),
      );
    } else {
      const reason = event.reason ? `: ${event.reason}` : "";
      this.#handlers.onError(
        new LiveError(`The connection closed before the end (code ${event.code}${reason}).`, {
          closeCode: event.code,
        }),
      );
    }
  }
}

/** When each word of a live text is heard, from the alignment the server sends
 * with the last audio of each piece (its times count from the piece's first audio). */
export class SpokenWords {
  #text;
  #cursor = 0;
  #pieceStart = 0;
  /** [{from, to, start, end}]: characters of the text, seconds of the clip. */
  words = [];

  constructor(text) {
    this.#text = text;
  }

  /** A piece's `alignment`; `heardBy`: seconds of audio received with it, its own
   * included (the next piece starts there). */
  place(alignment, heardBy) {
    const start = this.#pieceStart;
    this.#pieceStart = heardBy;
    const chars = alignment?.chars;
    const starts = alignment?.charStartTimesMs;
    const durations = alignment?.charsDurationsMs;
    if (!Array.isArray(chars) || !Array.isArray(starts) || !Array.isArray(durations)) return;
    const spoken = chars.join("");
    for (const match of spoken.matchAll(/\S+/g)) {
      // The server may have tidied the text (spaces, control characters): each word
      // is found in the text as sent, near where the last one was.
      const at = this.#text.indexOf(match[0], this.#cursor);
      if (at < 0 || at - this.#cursor > WORD_SEARCH_CHARS) continue;
      const first = match.index;
      const last = first + match[0].length - 1;
      this.words.push({
        from: at,
        to: at + match[0].length,
        start: start + (starts[first] ?? 0) / 1000,
        end: start + ((starts[last] ?? 0) + (durations[last] ?? 0)) / 1000,
      });
      this.#cursor = at + match[0].length;
    }
  }

  /** The word heard `seconds` into the clip, or null. */
  wordAt(seconds) {
    const word = this.words.findLast((candidate) => candidate.start <= seconds);
    return word && seconds < word.end + WORD_LINGER_S ? word : null;
  }
}

/** The sent-text view: in `sentNode` the `sent` characters of `text` sent so far,
 * `word` (being heard) marked; in `unsentNode` the rest, still to send. */
export function renderSent(sentNode, unsentNode, text, sent, word) {
  const done = text.slice(0, sent);
  if (word && word.to <= sent) {
    sentNode.replaceChildren(
      done.slice(0, word.from),
      el("mark", {}, done.slice(word.from, word.to)),
      done.slice(word.to),
    );
  } else {
    sentNode.replaceChildren(done);
  }
  unsentNode.textContent = text.slice(sent);
}
