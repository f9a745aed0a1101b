// The mixer: rows of (voice, weight) that write a blend spec such as
// "af_heart(60)+am_michael(40)", which the server accepts anywhere a voice goes.

import { el } from "./dom.js";
import { voiceOptionGroups } from "./voices.js";

export const DEFAULT_WEIGHT = 50;

/** The spec for rows of {voice, weight}; rows with weight 0 are left out. */
export function blendSpec(rows) {
  const terms = rows.filter((row) => row.voice && row.weight > 0);
  if (terms.length === 1) return terms[0].voice;
  return terms.map((row) => `${row.voice}(${row.weight})`).join("+");
}

/** Each row's share of the blend, in percent (the server normalizes the same way). */
export function shares(rows) {
  const total = rows.reduce((sum, row) => sum + (row.voice ? row.weight : 0), 0);
  return rows.map((row) => (total > 0 && row.voice ? (100 * row.weight) / total : 0));
}

export class Mixer {
  #list;
  #onChange;
  #voices = [];
  rows = [];

  /** `list`: the <ol> that holds the rows; `onChange(spec)` after every edit. */
  constructor(list, onChange) {
    this.#list = list;
    this.#onChange = onChange;
  }

  /** The voices a row may pick (saved mixes included). */
  setVoices(voices) {
    this.#voices = voices;
    this.render();
  }

  add(voice, weight = DEFAULT_WEIGHT, { focus = true } = {}) {
    this.rows.push({ voice, weight });
    this.render();
    this.#changed();
    if (focus) [...this.#list.querySelectorAll("select")].at(-1)?.focus();
  }

  get spec() {
    return blendSpec(this.rows);
  }

  #remove(index) {
    this.rows.splice(index, 1);
    this.render();
    this.#changed();
    this.#list.querySelectorAll("select")[Math.min(index, this.rows.length - 1)]?.focus();
  }

  #changed() {
    this.#onChange(this.spec);
    this.#showShares();
  }

  #showShares() {
    const percents = shares(this.rows);
    this.#list.querySelectorAll("output").forEach((output, index) => {
      output.value = `${Math.round(percents[index])} %`;
    });
  }

  #voiceSelect(row, number) {
    const select = el(
      "select",
      {
        id: `mix-voice-${number}`,
        onchange: (event) => {
          row.voice = event.target.value;
          this.#changed();
        },
      },
      voiceOptionGroups(this.#voices),
    );
    select.value = row.voice;
    return select;
  }

  render() {
    this.#list.replaceChildren(
      ...this.rows.map((row, index) => {
        const number = index + 1;
        const weight = el("input", {
          type: "range",
          id: `mix-weight-${number}`,
          min: 0,
          max: 100,
          step: 5,
          value: row.weight,
          oninput: (event) => {
            row.weight = Number(event.target.value);
            this.#changed();
          },
        });
        return el(
          "li",
          { class: "mix-row" },
          el("label", { for: `mix-voice-${number}` }, `Voice ${number}`),
          this.#voiceSelect(row, number),
          el(
            "label",
            { for: `mix-weight-${number}` },
            "Weight",
            el("span", { class: "visually-hidden" }, ` of voice ${number}`),
          ),
          weight,
          el("output", { for: `mix-weight-${number}` }),
          el(
            "button",
            {
              type: "button",
              class: "icon",
              "aria-label": `Remove voice ${number}`,
              onclick: () => this.#remove(index),
            },
            "×",
          ),
        );
      }),
    );
    this.#showShares();
  }
}
