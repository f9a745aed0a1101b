// The progress view: the clip's waveform as it grows, what has been heard,
// and (while generating) how much is still expected.

import { SAMPLE_RATE } from "./pcm.js";

export class Waveform {
  #canvas;
  #peaks = new Float32Array(0);
  #peaksKey = "";

  constructor(canvas) {
    this.#canvas = canvas;
  }

  /** Draw `samples` over a time axis of `total` seconds, heard up to `position`. */
  draw(samples, position, total) {
    const canvas = this.#canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const style = getComputedStyle(canvas);
    const colour = (name) => style.getPropertyValue(name).trim();
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, width, height);

    const bar = Math.max(2, Math.round(3 * ratio));
    const columns = Math.floor(width / bar);
    const seconds = Math.max(total, samples.length / SAMPLE_RATE, 0.001);
    const peaks = this.#columnPeaks(samples, columns, seconds);
    const middle = height / 2;
    const generatedX = (samples.length / SAMPLE_RATE / seconds) * width;
    const heardX = (position / seconds) * width;

    // Still to come: a thin baseline.
    context.fillStyle = colour("--wave-pending");
    context.fillRect(generatedX, middle - ratio / 2, width - generatedX, Math.max(1, ratio));
    for (let column = 0; column < columns; column += 1) {
      const x = column * bar;
      if (x >= generatedX) break;
      const half = Math.max(ratio / 2, peaks[column] * (middle - ratio));
      context.fillStyle = colour(x < heardX ? "--wave-heard" : "--wave");
      context.fillRect(x, middle - half, bar - Math.max(1, Math.round(ratio)), half * 2);
    }
    if (samples.length > 0) {
      context.fillStyle = colour("--wave-head");
      context.fillRect(Math.min(heardX, width - ratio * 2), 0, ratio * 2, height);
    }
  }

  /** Peak per column; recomputed only when the data or the scale changed, not
   * for every move of the play head. */
  #columnPeaks(samples, columns, seconds) {
    const key = `${samples.length}:${columns}:${seconds}`;
    if (key === this.#peaksKey) return this.#peaks;
    const peaks = new Float32Array(columns);
    const perColumn = (seconds * SAMPLE_RATE) / columns;
    for (let column = 0; column < columns; column += 1) {
      const start = Math.floor(column * perColumn);
      const end = Math.min(samples.length, Math.floor((column + 1) * perColumn));
      let peak = 0;
      for (let i = start; i < end; i += 1) {
        const value = Math.abs(samples[i]);
        if (value > peak) peak = value;
      }
      peaks[column] = peak;
    }
    this.#peaks = peaks;
    this.#peaksKey = key;
    return peaks;
  }
}
