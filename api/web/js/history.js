// This session's generations ("takes"): kept in memory until the page closes.

import { el, secondsText } from "./dom.js";

const KIND_PREFIXES = { preview: "Preview: ", dialogue: "Dialogue: ", live: "Live: " };

/** The file name a take downloads as: kokoro-<voice>-<n>.<format>, or
 * kokoro-dialogue-<n>.<format>. */
export function takeFilename(take) {
  const label = take.kind === "dialogue" ? "dialogue" : take.voiceLabel;
  const voice = label.replace(/[^a-z0-9_-]+/gi, "-").replace(/^-+|-+$/g, "") || "voice";
  return `kokoro-${voice.slice(0, 60)}-${take.number}.${take.format}`;
}

export function takeSummary(take) {
  const parts = [take.voiceLabel, `${take.speed.toFixed(2)}×`, take.format.toUpperCase()];
  parts.push(`${secondsText(take.seconds)} of audio`);
  if (take.firstAudioMs !== null) {
    parts.push(`first audio ${secondsText(take.firstAudioMs / 1000)}`);
  }
  parts.push(`done in ${secondsText(take.doneMs / 1000)}`);
  return parts.join(" · ");
}

/** Render `takes` (newest first) into `list`; `current` is the take in the player. */
export function renderHistory(list, takes, current, { onPlay, onDownload }) {
  list.replaceChildren(
    ...takes.map((take) =>
      el(
        "li",
        {
          class: "take",
          "aria-current": take === current ? "true" : null,
          "data-number": take.number,
          "data-kind": take.kind,
          "data-seconds": take.seconds.toFixed(3),
          "data-first-audio-ms": take.firstAudioMs === null ? null : Math.round(take.firstAudioMs),
          "data-done-ms": Math.round(take.doneMs),
        },
        el("p", { class: "take-text" }, KIND_PREFIXES[take.kind] ?? "", take.excerpt),
        el("p", { class: "take-meta" }, takeSummary(take)),
        el(
          "div",
          { class: "row" },
          el(
            "button",
            {
              type: "button",
              onclick: () => onPlay(take),
              "aria-label": `Play take ${take.number}`,
            },
            "Play",
          ),
          el(
            "button",
            {
              type: "button",
              onclick: (event) => onDownload(take, event.currentTarget),
              "aria-label": `Download take ${take.number} as ${take.format.toUpperCase()}`,
            },
            `Download .${take.format}`,
          ),
        ),
      ),
    ),
  );
}
