// The voice list: search, language and gender filters, one radio per voice.

import { el } from "./dom.js";

// The server's language codes (from the voice name's first letter).
export const LANGUAGE_NAMES = {
  "en-us": "American English",
  "en-gb": "British English",
  ja: "Japanese",
  cmn: "Mandarin Chinese",
  es: "Spanish",
  "fr-fr": "French",
  hi: "Hindi",
  it: "Italian",
  "pt-br": "Brazilian Portuguese",
};

const SOURCE_NAMES = { builtin: "built-in", imported: "imported", mix: "saved mix" };

export function languageName(code) {
  if (!code) return "Unknown language";
  return LANGUAGE_NAMES[code] ?? code;
}

/** Voices matching a search text (id, name, language, blend) and the filters. */
export function filterVoices(voices, { search = "", language = "", gender = "" }) {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  return voices.filter((voice) => {
    if (language && (voice.language ?? "") !== language) return false;
    if (gender && voice.gender !== gender) return false;
    const haystack = [voice.id, voice.name, languageName(voice.language), voice.spec ?? ""]
      .join(" ")
      .toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** Fill the language filter with the languages present, keeping the choice. */
export function renderLanguageOptions(select, voices) {
  const chosen = select.value;
  const codes = [...new Set(voices.map((voice) => voice.language ?? ""))];
  codes.sort((a, b) => languageName(a).localeCompare(languageName(b)));
  select.replaceChildren(
    el("option", { value: "" }, "All languages"),
    ...codes.map((code) => el("option", { value: code }, languageName(code))),
  );
  select.value = codes.includes(chosen) ? chosen : "";
}

export function voiceDetails(voice) {
  const parts = [languageName(voice.language)];
  if (voice.gender) parts.push(voice.gender);
  parts.push(SOURCE_NAMES[voice.source] ?? voice.source);
  // The publisher's overall grade of an official voice (A best, F worst).
  if (voice.quality) parts.push(`grade ${voice.quality}`);
  return parts.join(" · ");
}

/** <optgroup>s of <option>s for a voice picker: by language, saved mixes apart. */
export function voiceOptionGroups(voices) {
  const groups = new Map();
  for (const voice of voices) {
    const group = voice.source === "mix" ? "Saved mixes" : languageName(voice.language);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(voice);
  }
  return [...groups].map(([group, members]) =>
    el(
      "optgroup",
      { label: group },
      members.map((voice) => el("option", { value: voice.id }, `${voice.name} (${voice.id})`)),
    ),
  );
}

/** One radio per voice, inside `fieldset`; `selected` is checked. */
export function renderVoiceList(fieldset, voices, selected, onSelect) {
  const items = voices.map((voice) => {
    const id = `voice-${voice.id}`;
    const input = el("input", {
      type: "radio",
      name: "voice",
      id,
      value: voice.id,
      checked: voice.id === selected,
      onchange: () => onSelect(voice.id),
    });
    const label = el(
      "label",
      { for: id },
      el("span", { class: "voice-name" }, voice.name),
      el("code", { class: "voice-id" }, voice.id),
      el("span", { class: "voice-meta" }, voiceDetails(voice)),
      voice.spec ? el("code", { class: "voice-spec" }, voice.spec) : null,
      // What the server lacks to read this voice's own language (the Japanese reader).
      voice.requires ? el("span", { class: "voice-requires" }, voice.requires) : null,
    );
    return el("div", { class: "voice", "data-source": voice.source }, input, label);
  });
  const legend = fieldset.querySelector("legend");
  fieldset.replaceChildren(legend, ...items);
}
