// Small DOM helpers. Text always goes in as text nodes, never as markup.

export const byId = (id) => document.getElementById(id);

/** el("button", {class: "x", onclick: fn}, "Label") -> <button class="x">Label</button> */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

/** 75.3 -> "1:15" */
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** Seconds with one decimal: 2.345 -> "2.3 s". */
export function secondsText(seconds) {
  return `${seconds.toFixed(1)} s`;
}

/** Save a blob under a file name, as a link the user clicked would. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once the click is handled; free the URL later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
