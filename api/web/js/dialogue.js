// The dialogue editor: speakers (a name, a voice, an optional speed) and turns
// (a speaker and a text), written into a POST /v1/audio/dialogue request. The
// draft is kept in local storage after every edit, so a reload loses nothing.

import { clock, el } from "./dom.js";
import { voiceOptionGroups } from "./voices.js";

// The voice picker's last option; "+" cannot start a voice id, so it never
// collides with one.
const OTHER_VOICE = "+other";
const FIRST_NAMES = ["host", "guest"];
// Speakers' rows and turns share a colour (style.css has this many).
const COLOURS = 6;
const SPEED_RANGE = { min: 0.25, max: 4 };
const GAP_RANGE = { min: 0, max: 10 };
// A speaker label: up to 40 characters of letters, digits, spaces and . _ ' -
// before a colon followed by a space or the line's end (so "10:30" and
// "https://" are not labels); a full-width colon needs no space (Japanese).
// At most LABEL_WORDS words, so "We ask one thing: why?" stays a sentence.
const LABELLED_LINE = /^\s*([\p{L}\p{N}][\p{L}\p{N} ._'’-]{0,39}?)\s*(?::\s+|:$|：\s*)(.*)$/u;
// Markdown bold around a label, as in "**host:** Hello" or "**host**: Hello".
const BOLD_LABEL = /^\s*\*\*([^*]+)\*\*/;
const LABEL_WORDS = 3;

/** Lines like "host: Hello there." as turns, in order: [{speaker, text}]. A line
 * without a label continues the turn before it; text before the first label
 * has the speaker null. Blank lines are skipped. */
export function parseScript(script) {
  const turns = [];
  for (const line of script.split(/\r\n|\r|\n/)) {
    if (!line.trim()) continue;
    const labelled = LABELLED_LINE.exec(line.replace(BOLD_LABEL, "$1"));
    if (labelled && labelled[1].trim().split(/\s+/).length <= LABEL_WORDS) {
      turns.push({ speaker: labelled[1].trim(), text: labelled[2].trim() });
    } else if (turns.length > 0) {
      const last = turns.at(-1);
      last.text = last.text ? `${last.text}\n${line.trim()}` : line.trim();
    } else {
      turns.push({ speaker: null, text: line.trim() });
    }
  }
  return turns.filter((turn) => turn.text);
}

/** Where an error's `param` points: {turn: index, field} for "turns[2].speaker"
 * (or a validation error's "turns.2.speaker"), {speaker: rest} for
 * "speakers.guest…" (names may hold dots, so the caller matches the rest), else null. */
export function paramTarget(param) {
  if (!param) return null;
  const turn = /^turns(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?$/.exec(param);
  if (turn) return { turn: Number(turn[1] ?? turn[2]), field: turn[3] ?? "text" };
  if (param.startsWith("speakers.")) return { speaker: param.slice("speakers.".length) };
  return null;
}

/** A mistake in the draft, found before anything is sent. */
export class DraftError extends Error {
  constructor(message) {
    super(message);
    this.name = "DraftError";
  }
}

function emptyDraft() {
  return {
    speakers: FIRST_NAMES.map((name, index) => ({
      id: `s${index + 1}`,
      name,
      voice: "",
      custom: false,
      speed: "",
    })),
    turns: [
      { id: "t1", speaker: "s1", text: "" },
      { id: "t2", speaker: "s2", text: "" },
    ],
    gap: "0.5",
    script: "",
    nextId: 3,
  };
}

/** A stored draft, or null when it is not one (an old or foreign value). Ids
 * become parts of element ids, so they must look like the ones made here. */
function checkedDraft(value) {
  const isText = (x) => typeof x === "string";
  const isId = (x) => typeof x === "string" && /^[st]\d+$/.test(x);
  if (
    !value ||
    !Array.isArray(value.speakers) ||
    !Array.isArray(value.turns) ||
    value.speakers.length === 0 ||
    !Number.isInteger(value.nextId)
  ) {
    return null;
  }
  const speakers = value.speakers.filter(
    (s) => isId(s?.id) && isText(s.name) && isText(s.voice) && isText(s.speed),
  );
  if (speakers.length === 0) return null;
  const ids = new Set(speakers.map((speaker) => speaker.id));
  const turns = value.turns.filter((t) => isId(t?.id) && isText(t.text) && ids.has(t.speaker));
  return {
    speakers: speakers.map(({ id, name, voice, custom, speed }) => ({
      id,
      name,
      voice,
      custom: custom === true,
      speed,
    })),
    turns: turns.map(({ id, speaker, text }) => ({ id, speaker, text })),
    gap: isText(value.gap) ? value.gap : "0.5",
    script: isText(value.script) ? value.script : "",
    nextId: value.nextId,
  };
}

function inRange(text, { min, max }) {
  const value = Number(text);
  return text.trim() !== "" && Number.isFinite(value) && value >= min && value <= max;
}

export class DialogueEditor {
  #ui;
  #storageKey;
  #estimateSeconds;
  #getSpeed;
  #voices = null; // null until the server's list arrives
  #draft;
  #sent = null; // names and turn ids of the last request, to place the server's errors

  /** `ui`: the editor's elements (see main.js); `estimateSeconds(text, speed)`
   * and `getSpeed()` (the page's speed) feed the length estimate. */
  constructor(ui, { storageKey, estimateSeconds, getSpeed }) {
    this.#ui = ui;
    this.#storageKey = storageKey;
    this.#estimateSeconds = estimateSeconds;
    this.#getSpeed = getSpeed;
    this.#draft = this.#load() ?? emptyDraft();
    ui.gap.value = this.#draft.gap;
    ui.script.value = this.#draft.script;
    this.#bind();
    this.render();
  }

  /** The voices a speaker may pick (saved mixes included). */
  setVoices(voices) {
    this.#voices = voices;
    for (const speaker of this.#draft.speakers) {
      if (!speaker.voice) speaker.voice = this.#unusedVoice();
    }
    this.#save();
    this.render();
  }

  /** The draft as a dialogue request (without format and streaming), or a
   * DraftError with the control at fault marked. Empty turns are left out, and
   * so are speakers no turn uses. */
  request(speed) {
    const turns = this.#draft.turns.filter((turn) => turn.text.trim());
    if (turns.length === 0) {
      this.#markInvalid(this.#turnControl(this.#draft.turns[0]?.id, "text"));
      throw new DraftError("Write at least one turn.");
    }
    const used = this.#draft.speakers.filter((speaker) =>
      turns.some((turn) => turn.speaker === speaker.id),
    );
    const names = new Map();
    for (const speaker of used) {
      const number = this.#draft.speakers.indexOf(speaker) + 1;
      const name = speaker.name.trim();
      if (!name) this.#reject(speaker, "name", `Speaker ${number} needs a name.`);
      if (names.has(name)) {
        this.#reject(speaker, "name", `Two speakers are called “${name}”; rename one.`);
      }
      if (!speaker.voice.trim()) this.#reject(speaker, "voice", `Give ${name} a voice.`);
      if (speaker.speed && !inRange(speaker.speed, SPEED_RANGE)) {
        this.#reject(speaker, "speed", `${name}'s speed must be 0.25 to 4, or empty.`);
      }
      const voice = speaker.voice.trim();
      names.set(name, speaker.speed ? { voice, speed: Number(speaker.speed) } : voice);
    }
    if (!inRange(this.#draft.gap, GAP_RANGE)) {
      this.#markInvalid(this.#ui.gap);
      throw new DraftError("The gap between turns must be 0 to 10 seconds.");
    }
    const nameOf = (id) => this.#speaker(id).name.trim();
    this.#sent = { turnIds: turns.map((turn) => turn.id), speakerIds: used.map((s) => s.id) };
    const labels = used.map((speaker) => `${speaker.name.trim()}: ${speaker.voice.trim()}`);
    return {
      request: {
        model: "kokoro",
        turns: turns.map((turn) => ({ speaker: nameOf(turn.speaker), text: turn.text })),
        speakers: Object.fromEntries(names),
        speed,
        gap: Number(this.#draft.gap),
      },
      text: turns.map((turn) => `${nameOf(turn.speaker)}: ${turn.text.trim()}`).join(" / "),
      voiceLabel: labels.join(", "),
      expectedSeconds: this.#expectedSeconds(turns, speed),
    };
  }

  /** Mark the turn or speaker the server's error `param` names, if it names one
   * of the last request's. */
  showServerError(param) {
    const target = paramTarget(param);
    if (!target || !this.#sent) return;
    let control = null;
    if ("turn" in target) {
      const id = this.#sent.turnIds[target.turn];
      control = this.#turnControl(id, target.field === "speaker" ? "speaker" : "text");
    } else {
      // The longest sent name the rest starts with: "a.b.speed" is speaker a.b's.
      const named = (speaker) => {
        const name = speaker.name.trim();
        return target.speaker === name || target.speaker.startsWith(`${name}.`);
      };
      const speaker = this.#sent.speakerIds
        .map((id) => this.#speaker(id))
        .filter((candidate) => candidate && named(candidate))
        .sort((a, b) => b.name.trim().length - a.name.trim().length)[0];
      const field = target.speaker.endsWith(".speed") ? "speed" : "voice";
      if (speaker) control = this.#speakerControl(speaker, field);
    }
    this.#markInvalid(control);
  }

  clearInvalid() {
    for (const control of this.#ui.root.querySelectorAll('[aria-invalid="true"]')) {
      control.removeAttribute("aria-invalid");
      control.closest("li")?.classList.remove("invalid");
    }
  }

  /** Put the pasted script's lines in as turns, making speakers for new names. */
  #addScript() {
    const parsed = parseScript(this.#ui.script.value);
    if (parsed.length === 0) {
      this.#status("No turns found: write one a line, like “host: Hello there.”");
      this.#ui.script.focus();
      return;
    }
    const created = [];
    const byName = new Map(this.#draft.speakers.map((s) => [s.name.trim().toLowerCase(), s]));
    const speakerFor = (name) => {
      const key = (name ?? "narrator").toLowerCase();
      if (!byName.has(key)) {
        const speaker = this.#newSpeaker(name ?? "narrator");
        byName.set(key, speaker);
        created.push(speaker.name);
      }
      return byName.get(key);
    };
    const turns = parsed.map(({ speaker, text }) => ({
      id: this.#nextId("t"),
      speaker: speakerFor(speaker).id,
      text,
    }));
    // Empty turns hold nothing of the user's; the others stay unless asked.
    const kept = this.#ui.scriptReplace.checked
      ? []
      : this.#draft.turns.filter((turn) => turn.text.trim());
    this.#draft.turns = [...kept, ...turns];
    this.#draft.script = "";
    this.#ui.script.value = "";
    this.#changed();
    const made = created.length ? `; new speakers: ${created.join(", ")}` : "";
    const count = turns.length === 1 ? "1 turn" : `${turns.length} turns`;
    this.#status(`Added ${count}${made}.`);
    this.#ui.turns.querySelector(`#dlg-${turns[0].id}-text`)?.focus();
  }

  /** The count and length line; call it when the page's speed changes too. */
  updateCount() {
    const turns = this.#draft.turns.filter((turn) => turn.text.trim());
    const speakers = new Set(turns.map((turn) => turn.speaker)).size;
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    if (turns.length === 0) {
      this.#ui.count.textContent = "No turns written yet.";
      return;
    }
    const seconds = this.#expectedSeconds(turns, this.#getSpeed());
    this.#ui.count.textContent =
      `${plural(turns.length, "turn")} by ${plural(speakers, "speaker")} · ` +
      `about ${clock(seconds)} of speech`;
  }

  render() {
    this.#renderSpeakers();
    this.#renderTurns();
    this.updateCount();
  }

  // ---- the draft ----------------------------------------------------------

  #load() {
    try {
      return checkedDraft(JSON.parse(localStorage.getItem(this.#storageKey) ?? "null"));
    } catch {
      return null; // storage off or a stale value: start afresh
    }
  }

  #save() {
    try {
      localStorage.setItem(this.#storageKey, JSON.stringify(this.#draft));
    } catch {
      // Storage off or full: the draft lasts until reload.
    }
  }

  #changed() {
    this.#save();
    this.render();
  }

  #nextId(prefix) {
    const id = `${prefix}${this.#draft.nextId}`;
    this.#draft.nextId += 1;
    return id;
  }

  #speaker(id) {
    return this.#draft.speakers.find((speaker) => speaker.id === id);
  }

  #unusedVoice() {
    if (!this.#voices?.length) return "";
    const used = new Set(this.#draft.speakers.map((speaker) => speaker.voice));
    return (this.#voices.find((voice) => !used.has(voice.id)) ?? this.#voices[0]).id;
  }

  #newSpeaker(name) {
    const speaker = { id: this.#nextId("s"), name, voice: "", custom: false, speed: "" };
    this.#draft.speakers.push(speaker);
    speaker.voice = this.#unusedVoice();
    return speaker;
  }

  #expectedSeconds(turns, speed) {
    const speaking = turns.reduce((sum, turn) => {
      const own = this.#speaker(turn.speaker)?.speed;
      const rate = own && inRange(own, SPEED_RANGE) ? Number(own) : speed;
      return sum + this.#estimateSeconds(turn.text, rate);
    }, 0);
    const gap = inRange(this.#draft.gap, GAP_RANGE) ? Number(this.#draft.gap) : 0;
    return speaking + gap * Math.max(0, turns.length - 1);
  }

  #status(message) {
    this.#ui.status.textContent = message;
  }

  // ---- errors ---------------------------------------------------------------

  #speakerControl(speaker, field) {
    const id = field === "voice" && this.#showsSpec(speaker) ? "spec" : field;
    return this.#ui.speakers.querySelector(`#dlg-${speaker.id}-${id}`);
  }

  #turnControl(turnId, field) {
    return turnId ? this.#ui.turns.querySelector(`#dlg-${turnId}-${field}`) : null;
  }

  #markInvalid(control) {
    if (!control) return;
    control.setAttribute("aria-invalid", "true");
    control.closest("li")?.classList.add("invalid");
    control.scrollIntoView({ block: "nearest" });
  }

  #reject(speaker, field, message) {
    this.#markInvalid(this.#speakerControl(speaker, field));
    throw new DraftError(message);
  }

  /** An edited control is no longer the one at fault. */
  #edited(control) {
    if (control.getAttribute("aria-invalid") !== "true") return;
    control.removeAttribute("aria-invalid");
    const row = control.closest("li");
    if (row && !row.querySelector('[aria-invalid="true"]')) row.classList.remove("invalid");
  }

  // ---- speakers ------------------------------------------------------------------

  #showsSpec(speaker) {
    if (speaker.custom) return true;
    return this.#voices !== null && !this.#voices.some((voice) => voice.id === speaker.voice);
  }

  #voiceOptions(speaker) {
    if (this.#voices === null) {
      // Until the list arrives: the voice the speaker has, so nothing flickers.
      return speaker.voice ? [el("option", { value: speaker.voice }, speaker.voice)] : [];
    }
    return voiceOptionGroups(this.#voices);
  }

  #speakerRow(speaker, index) {
    const number = index + 1;
    const key = `dlg-${speaker.id}`;
    // A labelled field; the label says whose it is to a screen reader.
    const field = (name, label, control) =>
      el(
        "div",
        { class: `field dlg-${name}` },
        el(
          "label",
          { for: control.id },
          label,
          el("span", { class: "visually-hidden" }, ` of speaker ${number}`),
        ),
        control,
      );
    // Keep an edit in the draft; `then` for what else it changes.
    const keep = (property, then) => (event) => {
      this.#edited(event.target);
      speaker[property] = event.target.value;
      this.#save();
      then?.();
    };
    const showsSpec = this.#showsSpec(speaker);
    const voice = el(
      "select",
      {
        id: `${key}-voice`,
        onchange: (event) => {
          this.#edited(event.target);
          speaker.custom = event.target.value === OTHER_VOICE;
          if (!speaker.custom) speaker.voice = event.target.value;
          this.#changed();
          const next = speaker.custom ? `#${key}-spec` : `#${key}-voice`;
          this.#ui.speakers.querySelector(next)?.focus();
        },
      },
      this.#voiceOptions(speaker),
      el("option", { value: OTHER_VOICE }, "Other voice or blend…"),
    );
    voice.value = showsSpec ? OTHER_VOICE : speaker.voice;
    const spec = el("input", {
      id: `${key}-spec`,
      type: "text",
      value: speaker.voice,
      spellcheck: "false",
      autocomplete: "off",
      placeholder: "af_heart(2)+am_michael(1)",
      oninput: keep("voice"),
    });
    const name = el("input", {
      id: `${key}-name`,
      type: "text",
      value: speaker.name,
      maxlength: 100,
      autocomplete: "off",
      spellcheck: "false",
      oninput: keep("name", () => this.#refreshTurnSpeakers()),
    });
    const speed = el("input", {
      id: `${key}-speed`,
      type: "number",
      min: SPEED_RANGE.min,
      max: SPEED_RANGE.max,
      step: 0.05,
      value: speaker.speed,
      placeholder: "page's",
      inputmode: "decimal",
      "aria-describedby": "dlg-speed-hint",
      oninput: keep("speed", () => this.updateCount()),
    });
    return el(
      "li",
      { class: "dlg-speaker", "data-speaker": speaker.id, "data-colour": index % COLOURS },
      field("name", "Name", name),
      field("voice", "Voice", voice),
      field("speed", "Speed", speed),
      el(
        "button",
        {
          type: "button",
          class: "icon dlg-remove",
          "aria-label": `Remove speaker ${number}`,
          disabled: this.#draft.speakers.length === 1,
          onclick: () => this.#removeSpeaker(speaker),
        },
        "×",
      ),
      showsSpec ? field("spec", "Voice or blend", spec) : null,
    );
  }

  #renderSpeakers() {
    this.#ui.speakers.replaceChildren(
      ...this.#draft.speakers.map((speaker, index) => this.#speakerRow(speaker, index)),
    );
  }

  #addSpeaker() {
    const taken = new Set(this.#draft.speakers.map((s) => s.name.trim().toLowerCase()));
    let number = this.#draft.speakers.length + 1;
    while (taken.has(`speaker ${number}`)) number += 1;
    const speaker = this.#newSpeaker(`speaker ${number}`);
    this.#changed();
    this.#status("");
    const name = this.#ui.speakers.querySelector(`#dlg-${speaker.id}-name`);
    name?.focus();
    name?.select();
  }

  #removeSpeaker(speaker) {
    const index = this.#draft.speakers.indexOf(speaker);
    this.#draft.speakers.splice(index, 1);
    const heir = this.#draft.speakers[0];
    const moved = this.#draft.turns.filter((turn) => turn.speaker === speaker.id);
    for (const turn of moved) turn.speaker = heir.id;
    this.#changed();
    const who = speaker.name.trim() || `Speaker ${index + 1}`;
    const heirName = heir.name.trim() || "speaker 1";
    const turns = moved.length === 1 ? "turn goes" : `${moved.length} turns go`;
    this.#status(
      moved.length ? `Removed ${who}; their ${turns} to ${heirName}.` : `Removed ${who}.`,
    );
    const buttons = this.#ui.speakers.querySelectorAll(".dlg-remove");
    const next = buttons[Math.min(index, buttons.length - 1)];
    (next && !next.disabled ? next : this.#ui.addSpeaker).focus();
  }

  // ---- turns --------------------------------------------------------------------

  #speakerOptions() {
    return this.#draft.speakers.map((speaker, index) =>
      el("option", { value: speaker.id }, speaker.name.trim() || `Speaker ${index + 1}`),
    );
  }

  /** After a rename: the turns' speaker pickers show the new name. */
  #refreshTurnSpeakers() {
    for (const select of this.#ui.turns.querySelectorAll(".dlg-turn-speaker")) {
      const chosen = select.value;
      select.replaceChildren(...this.#speakerOptions());
      select.value = chosen;
    }
  }

  #turnRow(turn, index) {
    const number = index + 1;
    const key = `dlg-${turn.id}`;
    const last = index === this.#draft.turns.length - 1;
    const speakerIndex = this.#draft.speakers.findIndex((s) => s.id === turn.speaker);
    const select = el(
      "select",
      {
        id: `${key}-speaker`,
        class: "dlg-turn-speaker",
        onchange: (event) => {
          this.#edited(event.target);
          turn.speaker = event.target.value;
          this.#changed();
          this.#ui.turns.querySelector(`#${key}-speaker`)?.focus();
        },
      },
      this.#speakerOptions(),
    );
    select.value = turn.speaker;
    const button = (label, text, onclick, disabled = false) =>
      el("button", { type: "button", class: "icon", "aria-label": label, disabled, onclick }, text);
    return el(
      "li",
      {
        class: "dlg-turn",
        "data-turn": turn.id,
        "data-colour": Math.max(0, speakerIndex) % COLOURS,
      },
      el(
        "div",
        { class: "dlg-turn-head" },
        el(
          "label",
          { for: `${key}-speaker` },
          `Turn ${number}`,
          el("span", { class: "visually-hidden" }, " speaker"),
        ),
        select,
        el(
          "div",
          { class: "row dlg-turn-tools" },
          button(`Move turn ${number} up`, "↑", () => this.#moveTurn(turn, -1, "up"), !index),
          button(`Move turn ${number} down`, "↓", () => this.#moveTurn(turn, 1, "down"), last),
          button(`Remove turn ${number}`, "×", () => this.#removeTurn(turn, "remove")),
        ),
      ),
      el("label", { for: `${key}-text`, class: "visually-hidden" }, `Turn ${number} text`),
      el("textarea", {
        id: `${key}-text`,
        rows: 2,
        spellcheck: "true",
        "aria-describedby": "dlg-hint",
        oninput: (event) => {
          this.#edited(event.target);
          turn.text = event.target.value;
          this.#save();
          this.updateCount();
        },
        onkeydown: (event) => this.#turnKey(event, turn),
      }),
    );
  }

  #renderTurns() {
    this.#ui.turns.replaceChildren(
      ...this.#draft.turns.map((turn, index) => this.#turnRow(turn, index)),
    );
    // A textarea's value is not an attribute: set it after building the row.
    for (const turn of this.#draft.turns) {
      this.#ui.turns.querySelector(`#dlg-${turn.id}-text`).value = turn.text;
    }
  }

  #focusText(turn, caret = "end") {
    const text = this.#ui.turns.querySelector(`#dlg-${turn.id}-text`);
    if (!text) return;
    text.focus();
    const at = caret === "end" ? text.value.length : 0;
    text.setSelectionRange(at, at);
  }

  /** A new turn after `after` (or at the end), spoken by the speaker after its one. */
  #addTurn(after = this.#draft.turns.at(-1)) {
    const speakers = this.#draft.speakers;
    const previous = speakers.findIndex((s) => s.id === after?.speaker);
    const speaker = after ? speakers[(previous + 1) % speakers.length] : speakers[0];
    const turn = { id: this.#nextId("t"), speaker: speaker.id, text: "" };
    const at = after ? this.#draft.turns.indexOf(after) + 1 : this.#draft.turns.length;
    this.#draft.turns.splice(at, 0, turn);
    this.#changed();
    this.#focusText(turn);
  }

  #removeTurn(turn, focusOn) {
    const index = this.#draft.turns.indexOf(turn);
    this.#draft.turns.splice(index, 1);
    this.#changed();
    const rows = this.#ui.turns.querySelectorAll(".dlg-turn");
    if (rows.length === 0) {
      this.#ui.addTurn.focus();
    } else if (focusOn === "previous-text") {
      this.#focusText(this.#draft.turns[Math.max(0, index - 1)]);
    } else {
      const row = rows[Math.min(index, rows.length - 1)];
      row.querySelector('button[aria-label^="Remove"]').focus();
    }
  }

  #moveTurn(turn, step, focusOn) {
    const index = this.#draft.turns.indexOf(turn);
    const to = index + step;
    if (to < 0 || to >= this.#draft.turns.length) return;
    this.#draft.turns.splice(index, 1);
    this.#draft.turns.splice(to, 0, turn);
    this.#changed();
    if (focusOn === "text") {
      this.#focusText(turn);
      return;
    }
    const row = this.#ui.turns.querySelector(`[data-turn="${turn.id}"]`);
    const [up, down] = row.querySelectorAll(".dlg-turn-tools button");
    const wanted = focusOn === "up" ? up : down;
    (wanted.disabled ? (wanted === up ? down : up) : wanted).focus();
  }

  #turnKey(event, turn) {
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey && !event.shiftKey;
    if (event.isComposing) return; // an input method is still building a word
    if (event.key === "Enter" && plain) {
      event.preventDefault();
      if (!turn.text.trim()) return;
      const next = this.#draft.turns[this.#draft.turns.indexOf(turn) + 1];
      if (next && !next.text.trim()) this.#focusText(next);
      else this.#addTurn(turn);
    } else if (event.key === "Backspace" && plain && turn.text === "") {
      if (this.#draft.turns.length === 1) return;
      event.preventDefault();
      this.#removeTurn(turn, "previous-text");
    } else if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      this.#moveTurn(turn, event.key === "ArrowUp" ? -1 : 1, "text");
    }
  }

  // ---- wiring ------------------------------------------------------------------

  #bind() {
    this.#ui.addSpeaker.addEventListener("click", () => this.#addSpeaker());
    this.#ui.addTurn.addEventListener("click", () => this.#addTurn());
    this.#ui.gap.addEventListener("input", () => {
      this.#edited(this.#ui.gap);
      this.#draft.gap = this.#ui.gap.value;
      this.#save();
      this.updateCount();
    });
    this.#ui.script.addEventListener("input", () => {
      this.#draft.script = this.#ui.script.value;
      this.#save();
    });
    this.#ui.scriptAdd.addEventListener("click", () => this.#addScript());
  }
}
