// Calls to the callcoach JSON API under /api/v1 with the bearer token that
// the sign-in box keeps in localStorage, plus small DOM helpers shared by
// the pages.

const API_BASE = "/api/v1";
const TOKEN_KEY = "callcoach.token";

/** An error response of the API: HTTP status, `error` code and `detail`. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** Returns the stored bearer token, or an empty string. */
export function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

/** Stores a value under a page setting key, or removes it when empty. */
export function remember(key, value) {
  if (value) {
    localStorage.setItem(`callcoach.${key}`, value);
  } else {
    localStorage.removeItem(`callcoach.${key}`);
  }
}

/** Returns a stored page setting, or an empty string. */
export function recall(key) {
  return localStorage.getItem(`callcoach.${key}`) || "";
}

/**
 * Sends a request to `path` under /api/v1 and returns the response.
 *
 * `options.json` is sent as a JSON body, `options.body` as is. A response
 * status outside 2xx raises an ApiError with the API's `error` and `detail`.
 */
export async function request(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const saved = token();
  if (saved) {
    headers.set("Authorization", `Bearer ${saved}`);
  }
  let body = options.body;
  if (options.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(API_BASE + path, { method: options.method || "GET", headers, body });
  } catch (err) {
    throw new ApiError(0, "network", `no response from the service (${err.message})`);
  }
  if (!response.ok) {
    throw await errorOf(response);
  }
  return response;
}

/** Sends a request and returns the parsed JSON body. */
export async function getJson(path, options = {}) {
  const response = await request(path, options);
  return response.json();
}

async function errorOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.detail === "string") {
      return new ApiError(response.status, body.error || "error", body.detail);
    }
  } catch (_) {
    // Not JSON: fall through and show the status with the raw text.
  }
  const detail = text.trim() || response.statusText || "request failed";
  return new ApiError(response.status, "http_" + response.status, detail);
}

/**
 * Returns whether a token is stored. Without one it shows a sign-in request
 * in `region`, with one it clears the region.
 */
export function requireToken(region) {
  if (token()) {
    say(region, "");
    return true;
  }
  say(region, "Sign in: paste the bearer token that `callcoach user add` printed for you.", "info");
  return false;
}

/** Returns a message for an error, naming the HTTP status when known. */
export function describe(err) {
  if (err instanceof ApiError) {
    const status = err.status ? `${err.status} ${err.code}: ` : "";
    if (err.status === 401) {
      return `${status}${err.detail}. Paste a valid token into the sign-in box.`;
    }
    return status + err.detail;
  }
  return String(err && err.message ? err.message : err);
}

/** Creates an element with attributes and children (nodes or text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === "class") {
      node.className = value;
    } else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

/** Shows `text` in a message region; kind is `error`, `info` or `ok`. */
export function say(region, text, kind = "info") {
  region.className = `message ${kind}`;
  region.textContent = text || "";
}

/** Formats milliseconds as seconds with one decimal, such as `1.3 s`. */
export function seconds(ms) {
  if (typeof ms !== "number" || Number.isNaN(ms)) {
    return "–";
  }
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Formats milliseconds as `m:ss`. */
export function clock(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(total / 60);
  const rest = String(total % 60).padStart(2, "0");
  return `${minutes}:${rest}`;
}

/**
 * Wires the sign-in box: a token field kept in localStorage, and a sign-out
 * button. Calls `onChange` after each change and once at start.
 */
export function mountLogin(form, onChange) {
  const input = form.querySelector("input[name=token]");
  const out = form.querySelector("button[name=signout]");
  const state = form.querySelector("[data-login-state]");
  const refresh = () => {
    const signedIn = Boolean(token());
    input.value = "";
    input.placeholder = signedIn ? "token saved" : "paste your token";
    out.disabled = !signedIn;
    state.textContent = signedIn ? "Signed in." : "Not signed in.";
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) {
      localStorage.setItem(TOKEN_KEY, value);
    }
    refresh();
    onChange();
  });
  out.addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    refresh();
    onChange();
  });
  refresh();
  onChange();
}

/** Downloads an API response body as a file named `name`. */
export async function download(path, name) {
  const response = await request(path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
