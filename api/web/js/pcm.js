// The server's "pcm" format: raw 16-bit little-endian mono samples at 24 kHz.

export const SAMPLE_RATE = 24000;

/** Turns network reads of PCM bytes into float samples. A read can end in the
 * middle of a sample; that odd byte waits for the next read. */
export class PcmDecoder {
  #carry = null;

  /** Bytes in (a Uint8Array of any length), the whole samples they complete out. */
  push(bytes) {
    let data = bytes;
    if (this.#carry !== null) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.#carry;
      data.set(bytes, 1);
      this.#carry = null;
    }
    const usable = data.length - (data.length % 2);
    if (usable < data.length) this.#carry = data[data.length - 1];
    const view = new DataView(data.buffer, data.byteOffset, usable);
    const samples = new Float32Array(usable / 2);
    for (let i = 0; i < samples.length; i += 1) {
      samples[i] = view.getInt16(i * 2, true) / 32768;
    }
    return samples;
  }

  /** True when a byte is still waiting for its partner (a cut-off stream). */
  get hasPartialSample() {
    return this.#carry !== null;
  }
}

/** A WAV file (16-bit mono PCM) around raw PCM byte chunks, with its true sizes. */
export function wavBlob(pcmChunks, sampleRate = SAMPLE_RATE) {
  const dataBytes = pcmChunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset, text) => {
    for (let i = 0; i < text.length; i += 1) header.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  header.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  header.setUint32(16, 16, true); // size of the fmt chunk
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * 2, true); // bytes per second
  header.setUint16(32, 2, true); // bytes per frame
  header.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  header.setUint32(40, dataBytes, true);
  return new Blob([header, ...pcmChunks], { type: "audio/wav" });
}
