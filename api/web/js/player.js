// Plays float samples through Web Audio while more are still arriving.
//
// Samples are appended as the network delivers them and scheduled back to
// back on the AudioContext's clock, so playback starts with the first chunk
// and continues without gaps. All samples stay in memory, which makes pause,
// seek and replay simple: stop the scheduled sources and schedule again from
// the wanted offset.

import { SAMPLE_RATE } from "./pcm.js";

// Schedule this far ahead of "now": enough for the audio thread to pick it up.
const LEAD_SECONDS = 0.06;

export class StreamPlayer extends EventTarget {
  #context = null;
  #samples = new Float32Array(SAMPLE_RATE * 10);
  #length = 0;
  #complete = true;
  #sources = new Set();
  #playing = false;
  #pausedAt = 0;
  #anchor = { contextTime: 0, offset: 0 };
  #scheduledTo = 0;
  #nextStartFrame = 0;
  #frame = 0;

  /** Create or wake the AudioContext. Call it from a click: browsers only
   * start audio in answer to the user. */
  unlock() {
    if (!this.#context) {
      // At the audio's own rate the buffers join sample-exactly, and the browser
      // resamples once for the output device; a browser that refuses the rate
      // gets its default and resamples each buffer.
      try {
        this.#context = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: "interactive" });
      } catch {
        this.#context = new AudioContext({ latencyHint: "interactive" });
      }
    }
    if (this.#context.state === "suspended") this.#context.resume();
    return this.#context;
  }

  /** Start a new clip: `samples` so far, and whether more will follow. */
  load(samples = new Float32Array(0), { complete = true } = {}) {
    this.#stopSources();
    this.#playing = false;
    this.#samples = new Float32Array(Math.max(samples.length, SAMPLE_RATE * 10));
    this.#samples.set(samples);
    this.#length = samples.length;
    this.#complete = complete;
    this.#pausedAt = 0;
    this.#emit();
  }

  /** More samples of the clip being generated. */
  append(samples) {
    if (this.#length + samples.length > this.#samples.length) {
      const size = Math.max(this.#samples.length * 2, this.#length + samples.length);
      const grown = new Float32Array(size);
      grown.set(this.#samples.subarray(0, this.#length));
      this.#samples = grown;
    }
    this.#samples.set(samples, this.#length);
    this.#length += samples.length;
    if (this.#playing) this.#scheduleTail();
    this.#emit();
  }

  /** No more samples will come. */
  finish() {
    this.#complete = true;
    this.#emit();
  }

  get samples() {
    return this.#samples.subarray(0, this.#length);
  }

  get duration() {
    return this.#length / SAMPLE_RATE;
  }

  get complete() {
    return this.#complete;
  }

  get playing() {
    return this.#playing;
  }

  /** Seconds into the clip that are being heard now. */
  get position() {
    if (!this.#playing) return this.#pausedAt;
    const elapsed = Math.max(0, this.#context.currentTime - this.#anchor.contextTime);
    return Math.min(this.#anchor.offset + elapsed, this.#scheduledTo / SAMPLE_RATE);
  }

  play(from = this.position) {
    const context = this.unlock();
    let offset = from;
    if (this.#complete && offset >= this.duration - 0.01) offset = 0;
    this.#stopSources();
    this.#playing = true;
    this.#scheduledTo = Math.round(offset * SAMPLE_RATE);
    this.#nextStartFrame = this.#earliestFrame();
    this.#anchor = { contextTime: this.#nextStartFrame / context.sampleRate, offset };
    this.#scheduleTail();
    this.#tick();
    this.#emit();
  }

  pause() {
    if (!this.#playing) return;
    this.#pausedAt = this.position;
    this.#playing = false;
    this.#stopSources();
    this.#emit();
  }

  seek(seconds) {
    const offset = Math.min(Math.max(0, seconds), this.duration);
    if (this.#playing) this.play(offset);
    else {
      this.#pausedAt = offset;
      this.#emit();
    }
  }

  /** The first context frame that can still be scheduled safely. */
  #earliestFrame() {
    const context = this.#context;
    return Math.ceil((context.currentTime + LEAD_SECONDS) * context.sampleRate);
  }

  /** Schedule the samples not scheduled yet right after the ones that are.
   * Start times are whole frames of the context's clock, so buffers join
   * without a gap or an overlap. */
  #scheduleTail() {
    const start = this.#scheduledTo;
    const count = this.#length - start;
    if (count <= 0) return;
    const context = this.#context;
    const earliest = this.#earliestFrame();
    if (this.#nextStartFrame < earliest) {
      // The network fell behind playback: go on from here after a short gap.
      this.#nextStartFrame = earliest;
      this.#anchor = { contextTime: earliest / context.sampleRate, offset: start / SAMPLE_RATE };
    }
    const buffer = context.createBuffer(1, count, SAMPLE_RATE);
    buffer.copyToChannel(this.#samples.subarray(start, this.#length), 0);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    source.addEventListener("ended", () => this.#sources.delete(source));
    source.start(this.#nextStartFrame / context.sampleRate);
    this.#sources.add(source);
    this.#scheduledTo = this.#length;
    this.#nextStartFrame += Math.round((count * context.sampleRate) / SAMPLE_RATE);
  }

  #stopSources() {
    for (const source of this.#sources) {
      source.stop();
      source.disconnect();
    }
    this.#sources.clear();
  }

  #tick() {
    cancelAnimationFrame(this.#frame);
    if (!this.#playing) return;
    if (this.#complete && this.position >= this.duration) {
      this.#playing = false;
      this.#pausedAt = this.duration;
      this.#stopSources();
      this.#emit();
      this.dispatchEvent(new Event("ended"));
      return;
    }
    this.dispatchEvent(new Event("timeupdate"));
    this.#frame = requestAnimationFrame(() => this.#tick());
  }

  #emit() {
    this.dispatchEvent(new Event("change"));
  }
}
