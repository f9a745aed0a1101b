// The pronunciation editor: one language's lexicon entries (GET, PUT and DELETE
// /v1/audio/lexicon/{language}), and a preview that says a word and shows the
// phonemes the model gets for it (POST /dev/phonemize).

import { ApiError, apiJson } from "./api.js";
import { el } from "./dom.js";
import { LANGUAGE_NAMES } from "./voices.js";

const LEXICON_PATH = "/v1/audio/lexicon";
// The order a person looks for them in, English first.
const LANGUAGES = ["en-us", "en-gb", "es", "fr-fr", "it", "pt-br", "hi", "ja", "cmn"];

/** The text that says `word` as a draft entry would: the inline form the server
 * reads for phonemes, the respelling itself; the word alone without a draft. */
export function draftText(word, kind, value) {
  const said = value.trim();
  if (!said) return word;
  return kind === "ipa" ? `[${word}](/${said}/)` : said;
}

/** "/kˈOkəɹO/" or "“engine x”": how an entry says its word. */
export function entrySaid(entry) {
  return entry.ipa !== undefined && entry.ipa !== null ? `/${entry.ipa}/` : `“${entry.respell}”`;
}

export class LexiconEditor {
  #ui;
  #onPreview;
  #onError;
  entries = {};

  /** `ui`: the editor's elements; `onPreview(text, language)` speaks a text;
   * `onError(context, error)` shows a failure. */
  constructor(ui, { onPreview, onError }) {
    this.#ui = ui;
    this.#onPreview = onPreview;
    this.#onError = onError;
    ui.language.replaceChildren(
      ...LANGUAGES.map((code) => el("option", { value: code }, LANGUAGE_NAMES[code] ?? code)),
    );
    ui.language.addEventListener("change", () => this.load());
    ui.form.addEventListener("submit", (event) => this.#save(event));
    ui.preview.addEventListener("click", () => this.#previewDraft());
  }

  get language() {
    return this.#ui.language.value;
  }

  #path(word = null) {
    const base = `${LEXICON_PATH}/${encodeURIComponent(this.language)}`;
    return word === null ? base : `${base}/${encodeURIComponent(word)}`;
  }

  async load() {
    const language = this.language;
    let body;
    try {
      body = await apiJson(this.#path());
    } catch (error) {
      this.#ui.count.textContent = "The words could not be loaded.";
      if (!(error instanceof ApiError && error.status === 401)) {
        this.#onError("Could not load the pronunciations", error);
      }
      return;
    }
    if (language !== this.language) return; // another language was picked meanwhile
    this.#show(body.entries);
  }

  #show(entries) {
    this.entries = entries;
    const words = Object.keys(entries);
    const name = LANGUAGE_NAMES[this.language] ?? this.language;
    this.#ui.count.textContent =
      words.length === 0
        ? `No words taught in ${name} yet.`
        : `${words.length} ${words.length === 1 ? "word" : "words"} in ${name}.`;
    this.#ui.list.replaceChildren(...words.map((word) => this.#row(word, entries[word])));
  }

  #row(word, entry) {
    return el(
      "li",
      { class: "lex-entry", "data-word": word },
      el("span", { class: "lex-word" }, word),
      el(
        "button",
        {
          type: "button",
          "aria-label": `Preview “${word}”`,
          onclick: () => this.preview(word, word),
        },
        "Preview",
      ),
      el(
        "button",
        {
          type: "button",
          class: "icon",
          "aria-label": `Delete “${word}”`,
          onclick: () => this.#remove(word),
        },
        "×",
      ),
      el("span", { class: "lex-said" }, `said ${entrySaid(entry)}`),
    );
  }

  async #save(event) {
    event.preventDefault();
    const word = this.#ui.word.value.trim();
    const value = this.#ui.value.value.trim();
    if (!word) return;
    if (!value) {
      this.#ui.status.textContent = "Write the phonemes or the respelling first.";
      this.#ui.value.focus();
      return;
    }
    const entry = this.#ui.kind.value === "ipa" ? { ipa: value } : { respell: value };
    this.#ui.status.textContent = "Saving…";
    let body;
    try {
      body = await apiJson(this.#path(), { method: "PUT", json: { entries: { [word]: entry } } });
    } catch (error) {
      this.#ui.status.textContent = "";
      this.#onError(`Could not save “${word}”`, error);
      return;
    }
    this.#show(body.entries);
    this.#ui.value.value = "";
    this.#ui.status.textContent = `Saved “${word}”: every request now says it so.`;
  }

  async #remove(word) {
    try {
      const body = await apiJson(this.#path(word), { method: "DELETE" });
      this.#show(body.entries);
    } catch (error) {
      this.#onError(`Could not delete “${word}”`, error);
      return;
    }
    this.#ui.status.textContent = `Deleted “${word}”.`;
  }

  #previewDraft() {
    const word = this.#ui.word.value.trim();
    if (!word) {
      this.#ui.word.focus();
      return;
    }
    this.preview(word, draftText(word, this.#ui.kind.value, this.#ui.value.value));
  }

  /** Say `text` (the word, or a draft of it) and show its phonemes. */
  async preview(word, text) {
    const language = this.language;
    const output = this.#ui.phonemes;
    output.value = "…";
    this.#onPreview(text, language);
    try {
      const body = await apiJson("/dev/phonemize", { method: "POST", json: { text, language } });
      output.value = body.phonemes;
      output.dataset.word = word;
    } catch (error) {
      output.value = "";
      this.#onError(`Could not show the phonemes of “${word}”`, error);
    }
  }
}
