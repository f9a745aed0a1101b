// Every request to the server goes through apiFetch: one place for the base
// URL, the optional API key and the error shape.

const KEY_STORAGE = "kokoro-server.api-key";

let sessionKey = getApiKey();
let unauthorizedHandler = () => {};

/** The server's root, from the page's own address (/web/ -> /), so the page
 * keeps working behind a proxy that mounts the server under a prefix. */
export const serverRoot = new URL("../", document.baseURI);

export function apiUrl(path) {
  return new URL(path.replace(/^\/+/, ""), serverRoot);
}

/** An error the server reported ({"error": {message, type, param, code}}) or a
 * failure to reach it (status 0). */
export class ApiError extends Error {
  constructor(message, { status = 0, type = null, param = null, code = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }
}

export function getApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    return "";
  }
}

export function setApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage can be off (private windows); the key then lasts until reload.
  }
  sessionKey = key;
}

/** Called with the ApiError whenever the server answers 401. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** The server's message for a failed response, in OpenAI's shape or not. */
export async function errorFrom(response) {
  const text = await response.text().catch(() => "");
  let detail = null;
  try {
    const body = JSON.parse(text);
    detail = body?.error ?? (typeof body?.detail === "string" ? { message: body.detail } : null);
  } catch {
    // Not JSON: a proxy's page or plain text.
  }
  const plain = text.trim().startsWith("<") ? "" : text.trim().slice(0, 500);
  const message =
    detail?.message || plain || `The server answered ${response.status} ${response.statusText}.`;
  return new ApiError(message, {
    status: response.status,
    type: detail?.type ?? null,
    param: detail?.param ?? null,
    code: detail?.code ?? null,
  });
}

/** fetch() against the server: adds the Bearer key when one is set, sends
 * `json` as a JSON body, and throws an ApiError unless the answer is 2xx. */
export async function apiFetch(path, { method = "GET", json, body, signal } = {}) {
  const headers = new Headers();
  if (sessionKey) headers.set("Authorization", `Bearer ${sessionKey}`);
  let payload = body;
  if (json !== undefined) {
    headers.set("Content-Type", "application/json");
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(apiUrl(path), { method, headers, body: payload, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`Cannot reach the server: ${error.message}`);
  }
  if (response.ok) return response;
  const error = await errorFrom(response);
  if (response.status === 401) unauthorizedHandler(error);
  throw error;
}

export async function apiJson(path, options) {
  const response = await apiFetch(path, options);
  return response.json();
}
