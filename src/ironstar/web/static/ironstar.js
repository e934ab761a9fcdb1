/*
 * Ironstar's browser client: plain ES2020, no build step, no inline code in templates.
 *
 * Everything is wired by data attributes and delegated listeners, and re-initialised on
 * `htmx:load`, so server-rendered fragments swapped in by htmx (or the SSE extension) work
 * like a fresh page. Every init is idempotent. Sections:
 *
 *   utilities · live region · toasts · requests (CSRF, idempotency keys, errors) ·
 *   theme · charts · dashboard grid · idempotent forms · elapsed time · resizable panels ·
 *   tabs · SSE connection badge · start-up
 *
 * The page must load htmx, its sse extension and echarts before this file (all `defer`).
 * Public surface for other scripts and tests: window.Ironstar (see the end of this file).
 *
 * A single file rather than ES modules on purpose: static_url() versions the URL of this
 * file for caching, and relative module imports would escape that versioning.
 *
 * Contract with the templates (attributes read, requests made):
 *   <meta name="csrf-token">         sent as X-CSRF-Token on htmx requests and on the fetches below
 *   <meta name="server-time">        optional epoch ms, corrects elapsed times for clock skew
 *   <html data-theme>                light | dark | system; [data-theme-choice] radios/selects set it
 *   [data-chart-src="/url"]          GET → ECharts option JSON (unless <script id="chart-data">
 *                                    carries {path: option}, used once); or [data-chart] with a child
 *                                    <script type="application/json" data-chart-json>. Sets
 *                                    data-chart-state = loading | drawn | error and the mark
 *                                    performance.mark("chart-drawn:<id>"); [data-chart-titled]:
 *                                    the card shows the title, the chart leaves it out
 *   [data-grid] > [data-grid-item]   data-x data-y data-w data-h (cells, 12 columns), optional
 *                                    data-grid-label; [data-grid-handle] moves, [data-grid-resize]
 *                                    resizes; a form[data-grid-form] inside gets inputs x y w h and
 *                                    is submitted through htmx (if it has hx-post) or fetch POST
 *                                    (form-encoded, Idempotency-Key header); a refusal
 *                                    ({code, message}) moves the chart back and shows a toast
 *   form[data-idempotent]            hidden idempotency_key, also sent as Idempotency-Key; renewed
 *                                    after a successful htmx submission. On a lone htmx control
 *                                    the key is kept on the element until a request succeeds
 *   [data-elapsed-since="epoch ms"]  ticking mm:ss.d until the attribute is removed
 *   [data-resizable-panel="name"]    with [data-panel-handle="name"] (or a handle right after it),
 *                                    optional data-size (px) and data-panel-axis="y"; sizes are
 *                                    POSTed as JSON {"panels": {name: px}} to the closest
 *                                    [data-ui-state-url]
 *   [role=tablist] > button[role=tab][aria-controls]   client-side tabs (arrow keys, Home, End)
 *   [data-connection-status]         shown while an SSE source (htmx sse extension) is failing
 *   [data-toast-region], [data-live-region]            where toasts and announcements go
 * Events: "ironstar:toast" {level, code, message} (e.g. from an HX-Trigger header) shows a
 * toast; "ironstar:chart-refresh" {target: selector} reloads charts; "ironstar:themechange",
 * "ironstar:chart-drawn" and "ironstar:grid-change" are dispatched for other scripts.
 */
(() => {
  "use strict";

  const doc = document;
  const root = doc.documentElement;

  /* ── utilities ─────────────────────────────────────────────────────────────────── */

  function metaContent(name) {
    const el = doc.querySelector(`meta[name="${name}"]`);
    return el ? el.getAttribute("content") || "" : "";
  }

  /** A random UUID; crypto.randomUUID exists only in secure contexts (https, localhost). */
  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Calls fn for scope itself (if it matches) and every matching descendant. */
  function each(scope, selector, fn) {
    if (!scope || scope.nodeType !== 1) return;
    if (scope.matches(selector)) fn(scope);
    scope.querySelectorAll(selector).forEach(fn);
  }

  function intData(el, name, fallback) {
    const value = Number.parseInt(el.dataset[name], 10);
    return Number.isFinite(value) ? value : fallback;
  }

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /* ── live region (screen-reader announcements) ─────────────────────────────────── */

  let liveRegion = null;

  function announce(text) {
    if (!liveRegion || !liveRegion.isConnected) {
      liveRegion = doc.querySelector("[data-live-region]");
      if (!liveRegion) {
        liveRegion = doc.createElement("div");
        liveRegion.className = "sr-only";
        liveRegion.setAttribute("aria-live", "polite");
        liveRegion.setAttribute("aria-atomic", "true");
        liveRegion.dataset.liveRegion = "";
        doc.body.append(liveRegion);
      }
    }
    // Clearing first makes a repeated message be read again.
    liveRegion.textContent = "";
    requestAnimationFrame(() => {
      liveRegion.textContent = text;
    });
  }

  /* ── toasts ────────────────────────────────────────────────────────────────────── */

  const TOAST_LEVELS = new Set(["info", "success", "warning", "error"]);

  function toastRegion() {
    let region = doc.querySelector("[data-toast-region]");
    if (!region) {
      region = doc.createElement("div");
      region.className = "toast-region";
      region.dataset.toastRegion = "";
      region.setAttribute("aria-live", "polite");
      doc.body.append(region);
    }
    return region;
  }

  /**
   * Shows a toast. Errors stay until closed; other levels close themselves.
   * Built with DOM calls and textContent only: messages may come from the server or the user.
   */
  function toast({ level = "info", message = "", code = "", timeout } = {}) {
    const kind = TOAST_LEVELS.has(level) ? level : "info";
    const el = doc.createElement("div");
    el.className = `toast toast--${kind}`;
    if (kind === "error") el.setAttribute("role", "alert"); // the region itself is polite
    const text = doc.createElement("p");
    text.className = "toast__message";
    text.textContent = message;
    el.append(text);
    if (code) {
      const codeEl = doc.createElement("span");
      codeEl.className = "toast__code";
      const chip = doc.createElement("code");
      chip.className = "error-code";
      chip.textContent = code;
      codeEl.append(chip);
      el.append(codeEl);
    }
    const close = doc.createElement("button");
    close.type = "button";
    close.className = "dismiss";
    close.dataset.toastClose = "";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    el.append(close);
    toastRegion().append(el);
    const ms = timeout ?? (kind === "error" ? 0 : 6000);
    if (ms > 0) setTimeout(() => el.remove(), ms);
    return el;
  }

  doc.addEventListener("click", (event) => {
    const close = event.target.closest("[data-toast-close]");
    if (close) close.closest(".toast, .alert")?.remove();
  });

  // Servers raise toasts with the response header HX-Trigger: {"ironstar:toast": {...}}.
  doc.addEventListener("ironstar:toast", (event) => toast(event.detail || {}));

  /* ── requests: CSRF token, idempotency keys, error bodies ──────────────────────── */

  function requestHeaders(extra = {}) {
    return {
      Accept: "application/json",
      "X-CSRF-Token": metaContent("csrf-token"),
      "Idempotency-Key": newKey(),
      ...extra,
    };
  }

  /** Reads {code, message} from an error response (our JSON shape, FastAPI's, or plain text). */
  async function errorFromResponse(response) {
    const fallback = {
      code: response.headers.get("X-Error-Code") || `HTTP_${response.status}`,
      message: `The server answered ${response.status} ${response.statusText}`.trim(),
      status: response.status,
    };
    try {
      const type = response.headers.get("Content-Type") || "";
      if (!type.includes("json")) return fallback;
      const body = await response.json();
      const err = body && typeof body.error === "object" ? body.error : body;
      return {
        code: String(err.code || fallback.code),
        message: String(err.message || (typeof err.detail === "string" ? err.detail : "") || fallback.message),
        status: response.status,
      };
    } catch {
      return fallback;
    }
  }

  function errorFromXhr(xhr) {
    const fallback = {
      code: xhr.getResponseHeader("X-Error-Code") || `HTTP_${xhr.status}`,
      message: `The server answered ${xhr.status} ${xhr.statusText}`.trim(),
    };
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (!type.includes("json")) return fallback;
    try {
      const body = JSON.parse(xhr.responseText);
      const err = body && typeof body.error === "object" ? body.error : body;
      return {
        code: String(err.code || fallback.code),
        message: String(err.message || (typeof err.detail === "string" ? err.detail : "") || fallback.message),
      };
    } catch {
      return fallback;
    }
  }

  doc.addEventListener("htmx:configRequest", (event) => {
    const detail = event.detail;
    const token = metaContent("csrf-token");
    if (token) detail.headers["X-CSRF-Token"] = token;
    const form = detail.elt && detail.elt.closest ? detail.elt.closest("form") : null;
    if (form && form.matches("[data-idempotent]")) {
      // A form htmx.process()ed without htmx:load has no key yet: give it one now.
      const key = ensureIdempotencyKey(form, false);
      detail.headers["Idempotency-Key"] = key;
      if (detail.parameters && !detail.parameters.has("idempotency_key")) {
        detail.parameters.set("idempotency_key", key);
      }
    } else if (form && form.matches("[data-grid-form]")) {
      detail.headers["Idempotency-Key"] = newKey();
    } else {
      // A lone control, e.g. <button hx-post="…/cancel" data-idempotent>: the key lives on it.
      const holder = detail.elt && detail.elt.closest ? detail.elt.closest("[data-idempotent]") : null;
      if (holder) {
        if (!holder.dataset.idempotencyKey) holder.dataset.idempotencyKey = newKey();
        detail.headers["Idempotency-Key"] = holder.dataset.idempotencyKey;
      }
    }
  });

  // 4xx/5xx that htmx does not swap (see the htmx-config meta in base.html) become toasts.
  doc.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    toast({ level: "error", ...errorFromXhr(xhr) });
  });

  doc.addEventListener("htmx:sendError", () => {
    toast({
      level: "error",
      code: "NETWORK_ERROR",
      message: "The server could not be reached. Check your connection and try again.",
    });
  });

  /* ── theme ─────────────────────────────────────────────────────────────────────── */

  const THEMES = new Set(["light", "dark", "system"]);
  const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");

  function themeSetting() {
    const value = root.dataset.theme;
    return THEMES.has(value) ? value : "system";
  }

  /** "light" or "dark": what the page actually shows. */
  function effectiveTheme() {
    const setting = themeSetting();
    if (setting === "system") return darkQuery.matches ? "dark" : "light";
    return setting;
  }

  function syncThemeControls() {
    const setting = themeSetting();
    doc.querySelectorAll("[data-theme-choice]").forEach((control) => {
      if (control.type === "radio") control.checked = control.value === setting;
      else if (control.tagName === "SELECT") control.value = setting;
    });
  }

  function setTheme(value) {
    if (!THEMES.has(value) || value === root.dataset.theme) return;
    root.dataset.theme = value; // the attribute observer below does the rest
  }

  function onThemeChanged() {
    syncThemeControls();
    charts.retheme();
    root.dispatchEvent(
      new CustomEvent("ironstar:themechange", {
        bubbles: true,
        detail: { theme: themeSetting(), effective: effectiveTheme() },
      }),
    );
  }

  // Applies at once; the control's form still posts the choice to the server as usual.
  doc.addEventListener("change", (event) => {
    const control = event.target.closest("[data-theme-choice]");
    if (!control || (control.type === "radio" && !control.checked)) return;
    setTheme(control.value);
  });

  new MutationObserver(onThemeChanged).observe(root, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });

  darkQuery.addEventListener("change", () => {
    if (themeSetting() === "system") onThemeChanged();
  });

  /* ── charts (ECharts) ──────────────────────────────────────────────────────────── */

  const charts = (() => {
    const states = new Map(); // element -> {option, chart, theme, size, waitingForSize, drawnOnce}
    let resizeQueued = new Set();

    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const el = entry.target;
        const state = states.get(el);
        if (!state) continue;
        if (state.waitingForSize && el.clientWidth > 0 && el.clientHeight > 0) {
          state.waitingForSize = false;
          draw(el);
        } else if (state.chart && sizeOf(el) !== state.size) {
          // Not on the first report after observe(), which only repeats the drawn size:
          // a resize redraws the whole chart, and did so for every chart on page load.
          state.size = sizeOf(el);
          resizeQueued.add(el);
        }
      }
      if (resizeQueued.size) {
        const queued = resizeQueued;
        resizeQueued = new Set();
        requestAnimationFrame(() => {
          queued.forEach((el) => states.get(el)?.chart?.resize());
        });
      }
    });

    function sizeOf(el) {
      return `${el.clientWidth}x${el.clientHeight}`;
    }

    function chartId(el) {
      return el.id || el.dataset.chartId || el.dataset.chartSrc || "chart";
    }

    function inlineOption(el) {
      const script = el.querySelector(':scope > script[type="application/json"][data-chart-json]');
      return script ? JSON.parse(script.textContent) : null;
    }

    let carried = null; // {path: option} the page came with (#chart-data), each used once

    /** The option the page carried for this URL, for its first drawing only: a refresh, or
     *  the same chart swapped in again later, asks the server for current data. */
    function carriedOption(src) {
      if (carried === null) {
        const script = doc.getElementById("chart-data");
        carried = script ? JSON.parse(script.textContent) : {};
      }
      const path = new URL(src, window.location.href).pathname;
      const option = carried[path];
      delete carried[path];
      return option;
    }

    async function loadOption(el) {
      const inline = inlineOption(el);
      if (inline) return inline;
      const src = el.dataset.chartSrc;
      if (!src) throw { code: "CHART_NO_SOURCE", message: "This chart has no data source." };
      const pageData = carriedOption(src);
      if (pageData) return pageData;
      // No custom headers: the request must match the page's <link rel="preload" as="fetch"
      // crossorigin> for this URL (same mode and credentials, no extra headers), so that the
      // data fetched while the scripts loaded is used instead of being asked for again.
      const response = await fetch(src, { credentials: "same-origin" });
      if (!response.ok) throw await errorFromResponse(response);
      return response.json();
    }

    let look = null; // {theme, colors, font}: read once per theme, not once per chart

    /** Series colours (--chart-1 … --chart-8 from ironstar.css) and font of the theme.
     *  Reading computed styles forces a style pass, which is slow between chart draws. */
    function pageLook(theme) {
      if (look && look.theme === theme) return look;
      const style = getComputedStyle(root);
      const colors = [];
      for (let i = 1; i <= 8; i += 1) {
        const value = style.getPropertyValue(`--chart-${i}`).trim();
        if (value) colors.push(value);
      }
      look = { theme, colors, font: getComputedStyle(doc.body).fontFamily };
      return look;
    }

    /** Page-wide defaults; anything the server's option sets wins. */
    function prepare(option, theme, el) {
      const prepared = { ...option };
      // In a card that shows the title already (dashboards), the plot takes the title's
      // room; the notes stay, and so does the room for the y axis name above the plot.
      if (el.hasAttribute("data-chart-titled") && option.title) {
        const notes = Boolean(option.title.subtext);
        prepared.title = { ...option.title, text: "", top: 0 };
        if (option.grid) prepared.grid = { ...option.grid, top: notes ? 52 : 32 };
      }
      // Small charts (history previews): fewer ticks, so their labels do not run together.
      if (el.clientHeight < 220 || el.clientWidth < 320) {
        for (const key of ["xAxis", "yAxis"]) {
          const axis = prepared[key];
          if (axis && !Array.isArray(axis) && axis.type !== "category" && !("splitNumber" in axis)) {
            prepared[key] = { ...axis, splitNumber: 3 };
          }
        }
      }
      const { colors, font } = pageLook(theme);
      if (!("backgroundColor" in prepared)) prepared.backgroundColor = "transparent";
      if (!("color" in prepared) && colors.length) prepared.color = colors;
      prepared.textStyle = { fontFamily: font, ...(option.textStyle || {}) };
      prepared.aria = { enabled: true, ...(option.aria || {}) };
      // HTML tooltips carry inline style attributes, which style-src 'self' blocks:
      // draw them on the canvas instead unless the server chose otherwise.
      if (option.tooltip && !Array.isArray(option.tooltip)) {
        prepared.tooltip = { renderMode: "richText", ...option.tooltip };
      }
      return prepared;
    }

    function markDrawn(el, state) {
      el.dataset.chartState = "drawn";
      el.removeAttribute("aria-busy");
      if (!state.drawnOnce) {
        state.drawnOnce = true;
        try {
          performance.mark(`chart-drawn:${chartId(el)}`);
        } catch {
          /* marks are best effort */
        }
      }
      el.dispatchEvent(new CustomEvent("ironstar:chart-drawn", { bubbles: true }));
    }

    function fail(el, error) {
      const state = states.get(el);
      if (state?.chart) state.chart.dispose();
      states.delete(el);
      observer.unobserve(el);
      el.dataset.chartState = "error";
      el.removeAttribute("aria-busy");
      const message = (error && error.message) || "The chart could not be drawn.";
      el.textContent = error && error.code ? `${message} (${error.code})` : message;
      console.warn("ironstar: chart", chartId(el), error);
    }

    function draw(el) {
      const state = states.get(el);
      if (!state || !el.isConnected) return;
      if (!window.echarts) {
        fail(el, { code: "CHART_LIBRARY_MISSING", message: "The chart library did not load." });
        return;
      }
      if (el.clientWidth === 0 || el.clientHeight === 0) {
        // Hidden (another tab, a collapsed panel): draw once it gets a size.
        state.waitingForSize = true;
        observer.observe(el);
        return;
      }
      if (state.chart) state.chart.dispose();
      state.theme = effectiveTheme();
      const chart = window.echarts.init(el, state.theme === "dark" ? "dark" : null, {
        renderer: "canvas",
      });
      state.chart = chart;
      state.size = sizeOf(el);
      let pending = true;
      const done = () => {
        if (!pending || state.chart !== chart) return;
        pending = false;
        chart.off("rendered", done);
        markDrawn(el, state);
      };
      chart.on("rendered", done);
      try {
        chart.setOption(prepare(state.option, state.theme, el), { notMerge: true });
      } catch (error) {
        fail(el, { code: "CHART_OPTION_INVALID", message: String(error && error.message) });
        return;
      }
      // An option that paints nothing emits no frame: do not leave waiters hanging.
      setTimeout(done, 1500);
      observer.observe(el);
    }

    // Charts are drawn in the order their data arrives, a frame's worth of work at a time:
    // a chart whose data arrives while the frame has time left is drawn at once (ECharts
    // paints synchronously in setOption), the rest in the frames after. So the first chart
    // is on screen as soon as its data is here, not after every chart that arrived with it.
    const drawQueue = [];
    const FRAME_BUDGET_MS = 8;
    let drawFrame = 0;
    let frameStarted = 0;

    function queueDraw(el) {
      drawQueue.push(el);
      drawWithinBudget();
    }

    function drawWithinBudget() {
      if (!drawFrame) {
        frameStarted = performance.now();
        drawFrame = requestAnimationFrame(() => {
          drawFrame = 0;
          if (drawQueue.length) drawWithinBudget();
        });
      }
      while (drawQueue.length && performance.now() - frameStarted < FRAME_BUDGET_MS) {
        draw(drawQueue.shift());
      }
    }

    async function init(el) {
      if (states.has(el) || el.dataset.chartState === "error") return;
      const state = { option: null, chart: null, theme: null, waitingForSize: false, drawnOnce: false };
      states.set(el, state);
      el.dataset.chartState = "loading";
      el.setAttribute("aria-busy", "true");
      try {
        state.option = await loadOption(el);
      } catch (error) {
        fail(el, error);
        return;
      }
      queueDraw(el);
    }

    function refresh(el) {
      dispose(el);
      el.removeAttribute("data-chart-state");
      init(el);
    }

    function dispose(el) {
      const state = states.get(el);
      if (!state) return;
      if (state.chart) state.chart.dispose();
      observer.unobserve(el);
      states.delete(el);
    }

    function retheme() {
      const theme = effectiveTheme();
      for (const [el, state] of states) {
        if (!el.isConnected) dispose(el);
        else if (state.chart && state.theme !== theme) draw(el);
      }
    }

    return { init, refresh, dispose, retheme };
  })();

  function initCharts(scope) {
    each(scope, "[data-chart-src], [data-chart]", charts.init);
    if (scope && scope.nodeType === 1) {
      scope.querySelectorAll('script[type="application/json"][data-chart-json]').forEach((script) => {
        if (script.parentElement) charts.init(script.parentElement);
      });
    }
  }

  doc.addEventListener("htmx:beforeCleanupElement", (event) => {
    each(event.detail.elt, "[data-chart-state]", charts.dispose);
  });

  // Ask a chart to reload its data, e.g. HX-Trigger: {"ironstar:chart-refresh": {"target": "#c1"}}.
  doc.addEventListener("ironstar:chart-refresh", (event) => {
    const selector = event.detail && event.detail.target;
    const targets = selector ? doc.querySelectorAll(selector) : [event.target];
    targets.forEach((el) => {
      if (el.nodeType === 1 && el.matches("[data-chart-src], [data-chart]")) charts.refresh(el);
    });
  });

  /* ── dashboard grid (12 columns) ───────────────────────────────────────────────── */

  const GRID_COLUMNS = 12;
  const GRID_MAX_ROWS = 500; // the domain's limit (ironstar.domain.grid)
  const saved = new WeakMap(); // item -> last rect the server accepted (or the page rendered)

  function readRect(item) {
    return {
      x: intData(item, "x", 0),
      y: intData(item, "y", 0),
      w: intData(item, "w", 4),
      h: intData(item, "h", 3),
    };
  }

  function applyRect(item, rect) {
    for (const key of ["x", "y", "w", "h"]) {
      item.dataset[key] = String(rect[key]);
      item.style.setProperty(`--${key}`, String(rect[key]));
    }
  }

  function sameRect(a, b) {
    return a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;
  }

  function gridOf(item) {
    return item.closest("[data-grid]") || item.parentElement;
  }

  function itemLabel(item) {
    return item.dataset.gridLabel || item.getAttribute("aria-label") || "Chart";
  }

  function fitsGrid(item, rect) {
    const maxRows = intData(gridOf(item), "gridRows", GRID_MAX_ROWS);
    return (
      rect.x >= 0 &&
      rect.y >= 0 &&
      rect.w >= 1 &&
      rect.h >= 1 &&
      rect.x + rect.w <= GRID_COLUMNS &&
      rect.y + rect.h <= maxRows
    );
  }

  /** The first other item in the same grid that rect would overlap, or null. */
  function blockerOf(item, rect) {
    for (const other of gridOf(item).querySelectorAll("[data-grid-item]")) {
      if (other === item || gridOf(other) !== gridOf(item)) continue;
      const o = readRect(other);
      if (rect.x < o.x + o.w && o.x < rect.x + rect.w && rect.y < o.y + o.h && o.y < rect.y + rect.h) {
        return other;
      }
    }
    return null;
  }

  function describeRect(rect) {
    return `column ${rect.x + 1}, row ${rect.y + 1}, ${rect.w} by ${rect.h} cells`;
  }

  function initGridItem(item) {
    if (saved.has(item)) return;
    const rect = readRect(item);
    saved.set(item, rect);
    applyRect(item, rect);
    if (!item.hasAttribute("tabindex")) item.tabIndex = 0;
    if (!item.hasAttribute("aria-roledescription")) {
      item.setAttribute("aria-roledescription", "movable chart");
    }
    item.setAttribute(
      "aria-keyshortcuts",
      "ArrowUp ArrowDown ArrowLeft ArrowRight Shift+ArrowUp Shift+ArrowDown Shift+ArrowLeft Shift+ArrowRight Enter Escape",
    );
  }

  /** Moves/resizes to rect if it fits and overlaps nothing; returns whether it did. */
  function tryRect(item, rect, { speak }) {
    if (!fitsGrid(item, rect)) {
      if (speak) announce(`${itemLabel(item)}: at the edge of the grid.`);
      return false;
    }
    const blocker = blockerOf(item, rect);
    item.classList.toggle("is-blocked", Boolean(blocker));
    if (blocker) {
      if (speak) announce(`${itemLabel(item)}: blocked by ${itemLabel(blocker)}.`);
      return false;
    }
    applyRect(item, rect);
    return true;
  }

  function revert(item) {
    const rect = saved.get(item);
    if (rect) applyRect(item, rect);
    item.classList.remove("is-pending", "is-blocked", "is-dragging");
  }

  function setGridInputs(form, rect) {
    for (const key of ["x", "y", "w", "h"]) {
      let input = form.querySelector(`input[name="${key}"]`);
      if (!input) {
        input = doc.createElement("input");
        input.type = "hidden";
        input.name = key;
        form.append(input);
      }
      input.value = String(rect[key]);
    }
  }

  function rejectMove(item, previous, error) {
    saved.set(item, previous);
    applyRect(item, previous);
    toast({
      level: "error",
      code: error.code,
      message: `${itemLabel(item)} was not moved: ${error.message}`,
    });
    announce(`${itemLabel(item)} was not moved and is back at ${describeRect(previous)}.`);
  }

  /** Sends the new place to the server (the form inside the item), or reverts on refusal. */
  async function commitItem(item) {
    item.classList.remove("is-pending", "is-blocked", "is-dragging");
    const rect = readRect(item);
    const previous = saved.get(item) || rect;
    if (sameRect(rect, previous)) return;
    saved.set(item, rect);
    item.dispatchEvent(new CustomEvent("ironstar:grid-change", { bubbles: true, detail: rect }));
    const form = item.querySelector("form[data-grid-form]");
    if (!form) {
      announce(`${itemLabel(item)} placed at ${describeRect(rect)}.`);
      return;
    }
    setGridInputs(form, rect);
    const usesHtmx =
      window.htmx && ["hx-post", "hx-put", "hx-patch", "data-hx-post"].some((a) => form.hasAttribute(a));
    if (usesHtmx) {
      gridSubmissions.set(form, { item, previous, rect });
      window.htmx.trigger(form, "submit");
      return;
    }
    item.classList.add("is-saving");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: requestHeaders(),
        credentials: "same-origin",
      });
      if (!response.ok) throw await errorFromResponse(response);
      announce(`${itemLabel(item)} saved at ${describeRect(rect)}.`);
    } catch (error) {
      rejectMove(item, previous, error && error.code ? error : { code: "NETWORK_ERROR", message: String(error) });
    } finally {
      item.classList.remove("is-saving");
    }
  }

  const gridSubmissions = new WeakMap(); // form -> {item, previous, rect} while htmx sends it

  doc.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    const pending = form && gridSubmissions.get(form);
    if (!pending) return;
    gridSubmissions.delete(form);
    if (event.detail.successful) {
      announce(`${itemLabel(pending.item)} saved at ${describeRect(pending.rect)}.`);
    } else if (pending.item.isConnected) {
      const xhr = event.detail.xhr;
      const error = xhr && xhr.status ? errorFromXhr(xhr) : { code: "NETWORK_ERROR", message: "no answer" };
      rejectMove(pending.item, pending.previous, error);
    }
  });

  // Keyboard: focus an item; arrows move, Shift+arrows resize, Enter saves, Escape reverts.
  doc.addEventListener("keydown", (event) => {
    const item = event.target;
    if (!(item instanceof HTMLElement) || !item.matches("[data-grid-item]")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (event.key in steps) {
      event.preventDefault();
      const [dx, dy] = steps[event.key];
      const rect = readRect(item);
      const next = event.shiftKey
        ? { ...rect, w: rect.w + dx, h: rect.h + dy }
        : { ...rect, x: rect.x + dx, y: rect.y + dy };
      if (tryRect(item, next, { speak: true })) {
        item.classList.add("is-pending");
        const verb = event.shiftKey ? "resized to" : "moved to";
        announce(`${itemLabel(item)} ${verb} ${describeRect(next)}. Enter saves, Escape cancels.`);
      }
    } else if (event.key === "Enter" && item.classList.contains("is-pending")) {
      event.preventDefault();
      commitItem(item);
    } else if (event.key === "Escape" && item.classList.contains("is-pending")) {
      event.preventDefault();
      revert(item);
      announce(`${itemLabel(item)} back at ${describeRect(readRect(item))}.`);
    }
  });

  // Leaving an item with an unsaved keyboard move saves it, so no move is silently lost.
  doc.addEventListener("focusout", (event) => {
    const item = event.target;
    if (!(item instanceof HTMLElement) || !item.matches("[data-grid-item].is-pending")) return;
    if (event.relatedTarget && item.contains(event.relatedTarget)) return;
    commitItem(item);
  });

  // Pointer: drag [data-grid-handle] to move, [data-grid-resize] to resize; snaps to cells.
  let drag = null;

  function gridMetrics(grid) {
    const style = getComputedStyle(grid);
    const columnGap = Number.parseFloat(style.columnGap) || 0;
    const rowGap = Number.parseFloat(style.rowGap) || 0;
    const width = grid.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
    const rowHeight = Number.parseFloat(style.gridAutoRows) || 80;
    return {
      columnPitch: (width + columnGap) / GRID_COLUMNS,
      rowPitch: rowHeight + rowGap,
    };
  }

  doc.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const handle = event.target.closest("[data-grid-handle], [data-grid-resize]");
    const item = handle && handle.closest("[data-grid-item]");
    if (!item || event.target.closest("button, a, input, select, textarea")) return;
    event.preventDefault();
    const grid = gridOf(item);
    drag = {
      item,
      grid,
      handle,
      pointerId: event.pointerId,
      mode: handle.matches("[data-grid-resize]") ? "resize" : "move",
      startX: event.clientX,
      startY: event.clientY,
      start: readRect(item),
      metrics: gridMetrics(grid),
    };
    handle.setPointerCapture(event.pointerId);
    item.classList.add("is-dragging");
    grid.classList.add("is-arranging");
    item.focus({ preventScroll: true });
  });

  doc.addEventListener("pointermove", (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const dc = Math.round((event.clientX - drag.startX) / drag.metrics.columnPitch);
    const dr = Math.round((event.clientY - drag.startY) / drag.metrics.rowPitch);
    const s = drag.start;
    const next =
      drag.mode === "move"
        ? { ...s, x: clamp(s.x + dc, 0, GRID_COLUMNS - s.w), y: Math.max(0, s.y + dr) }
        : { ...s, w: clamp(s.w + dc, 1, GRID_COLUMNS - s.x), h: Math.max(1, s.h + dr) };
    if (!sameRect(next, readRect(drag.item))) tryRect(drag.item, next, { speak: false });
  });

  function endDrag(event, cancelled) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const { item, grid, handle } = drag;
    drag = null;
    if (handle.hasPointerCapture(event.pointerId)) handle.releasePointerCapture(event.pointerId);
    grid.classList.remove("is-arranging");
    if (cancelled) revert(item);
    else commitItem(item);
  }

  doc.addEventListener("pointerup", (event) => endDrag(event, false));
  doc.addEventListener("pointercancel", (event) => endDrag(event, true));
  doc.addEventListener("keydown", (event) => {
    if (drag && event.key === "Escape") {
      const { item, grid } = drag;
      drag = null;
      grid.classList.remove("is-arranging");
      revert(item);
    }
  });

  /* ── idempotent forms ──────────────────────────────────────────────────────────── */

  /** The form's idempotency_key (created if missing); refresh=true starts a new submission. */
  function ensureIdempotencyKey(form, refresh) {
    let input = form.querySelector('input[name="idempotency_key"]');
    if (!input) {
      input = doc.createElement("input");
      input.type = "hidden";
      input.name = "idempotency_key";
      form.prepend(input);
    }
    if (refresh || !input.value) input.value = newKey();
    return input.value;
  }

  // Same key until the server accepts the submission: a double click cannot write twice.
  doc.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    if (!event.detail.successful || !elt || !elt.closest) return;
    const form = elt.closest("form[data-idempotent]");
    if (form) {
      ensureIdempotencyKey(form, true);
      return;
    }
    const holder = elt.closest("[data-idempotent]");
    if (holder) delete holder.dataset.idempotencyKey;
  });

  // Back/forward cache restores the old key with the old page: start afresh.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      doc.querySelectorAll("form[data-idempotent]").forEach((form) => ensureIdempotencyKey(form, true));
    }
  });

  /* ── elapsed time ──────────────────────────────────────────────────────────────── */

  // <meta name="server-time" content="epoch ms"> corrects for a client clock that is off.
  const serverTime = Number(metaContent("server-time"));
  const clockSkew = Number.isFinite(serverTime) && serverTime > 0 ? serverTime - Date.now() : 0;
  let elapsedTimer = 0;

  function formatElapsed(ms) {
    const tenths = Math.floor(Math.max(0, ms) / 100);
    const seconds = Math.floor(tenths / 10) % 60;
    const minutes = Math.floor(tenths / 600) % 60;
    const hours = Math.floor(tenths / 36000);
    const ss = `${String(seconds).padStart(2, "0")}.${tenths % 10}`;
    const mm = String(minutes).padStart(2, "0");
    return hours > 0 ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  function tickElapsed() {
    const elements = doc.querySelectorAll("[data-elapsed-since]");
    if (!elements.length) {
      clearInterval(elapsedTimer);
      elapsedTimer = 0;
      return;
    }
    const now = Date.now() + clockSkew;
    elements.forEach((el) => {
      const since = Number(el.dataset.elapsedSince);
      if (Number.isFinite(since)) el.textContent = formatElapsed(now - since);
    });
  }

  function startElapsed(scope) {
    each(scope, "[data-elapsed-since]", (el) => {
      if (!el.hasAttribute("role")) el.setAttribute("role", "timer");
    });
    if (!elapsedTimer && doc.querySelector("[data-elapsed-since]")) {
      tickElapsed();
      elapsedTimer = setInterval(tickElapsed, 100);
    }
  }

  /* ── resizable panels (sizes saved as UI state) ────────────────────────────────── */

  const PANEL_MIN = 160;
  const PANEL_MAX_FRACTION = 0.6; // as max-width in ironstar.css

  function panelFor(handle) {
    const name = handle.dataset.panelHandle;
    if (name) {
      const scope = handle.parentElement || doc;
      return scope.querySelector(`[data-resizable-panel="${CSS.escape(name)}"]`);
    }
    const prev = handle.previousElementSibling;
    return prev && prev.matches("[data-resizable-panel]") ? prev : null;
  }

  function panelAxis(panel) {
    return panel.dataset.panelAxis === "y" ? "y" : "x";
  }

  function panelSize(panel) {
    const box = panel.getBoundingClientRect();
    return Math.round(panelAxis(panel) === "y" ? box.height : box.width);
  }

  function setPanelSize(panel, px, handle) {
    const container = panel.parentElement;
    const room = container
      ? panelAxis(panel) === "y"
        ? container.clientHeight
        : container.clientWidth
      : px;
    const size = Math.round(clamp(px, PANEL_MIN, Math.max(PANEL_MIN, room * PANEL_MAX_FRACTION)));
    panel.style.setProperty("--panel-size", `${size}px`);
    panel.dataset.size = String(size);
    if (handle) handle.setAttribute("aria-valuenow", String(size));
    return size;
  }

  function initPanel(panel) {
    const size = intData(panel, "size", 0);
    if (size > 0) panel.style.setProperty("--panel-size", `${size}px`);
  }

  function initPanelHandle(handle) {
    if (handle.hasAttribute("role")) return;
    const panel = panelFor(handle);
    handle.setAttribute("role", "separator");
    handle.setAttribute("aria-orientation", panel && panelAxis(panel) === "y" ? "horizontal" : "vertical");
    if (!handle.hasAttribute("tabindex")) handle.tabIndex = 0;
    if (panel) {
      if (panel.id) handle.setAttribute("aria-controls", panel.id);
      handle.setAttribute("aria-valuemin", String(PANEL_MIN));
      const size = intData(panel, "size", 0) || panelSize(panel);
      if (size > 0) handle.setAttribute("aria-valuenow", String(size));
    }
  }

  const saveUiState = debounce(async (url) => {
    const panels = {};
    doc.querySelectorAll("[data-resizable-panel]").forEach((panel) => {
      const size = intData(panel, "size", 0);
      if (size > 0) panels[panel.dataset.resizablePanel] = size;
    });
    try {
      const response = await fetch(url, {
        method: "POST",
        body: JSON.stringify({ panels }),
        headers: requestHeaders({ "Content-Type": "application/json" }),
        credentials: "same-origin",
      });
      if (!response.ok) throw await errorFromResponse(response);
    } catch (error) {
      // Panel sizes are a convenience: never interrupt the user over them.
      console.warn("ironstar: could not save panel sizes", error);
    }
  }, 400);

  function panelSaved(panel) {
    const holder = panel.closest("[data-ui-state-url]") || doc.querySelector("[data-ui-state-url]");
    if (holder) saveUiState(holder.dataset.uiStateUrl);
  }

  let panelDrag = null;

  doc.addEventListener("pointerdown", (event) => {
    const handle = event.target.closest("[data-panel-handle]");
    if (!handle || event.button !== 0) return;
    const panel = panelFor(handle);
    if (!panel) return;
    event.preventDefault();
    const axis = panelAxis(panel);
    const after = Boolean(panel.compareDocumentPosition(handle) & Node.DOCUMENT_POSITION_FOLLOWING);
    panelDrag = {
      handle,
      panel,
      axis,
      sign: after ? 1 : -1,
      start: axis === "y" ? event.clientY : event.clientX,
      startSize: panelSize(panel),
      pointerId: event.pointerId,
    };
    handle.setPointerCapture(event.pointerId);
    handle.classList.add("is-dragging");
  });

  doc.addEventListener("pointermove", (event) => {
    if (!panelDrag || event.pointerId !== panelDrag.pointerId) return;
    const d = panelDrag;
    const pos = d.axis === "y" ? event.clientY : event.clientX;
    setPanelSize(d.panel, d.startSize + d.sign * (pos - d.start), d.handle);
  });

  function endPanelDrag(event) {
    if (!panelDrag || event.pointerId !== panelDrag.pointerId) return;
    const { handle, panel, startSize } = panelDrag;
    panelDrag = null;
    handle.classList.remove("is-dragging");
    if (panelSize(panel) !== startSize) panelSaved(panel);
  }

  doc.addEventListener("pointerup", endPanelDrag);
  doc.addEventListener("pointercancel", endPanelDrag);

  doc.addEventListener("keydown", (event) => {
    const handle = event.target;
    if (!(handle instanceof HTMLElement) || !handle.matches("[data-panel-handle]")) return;
    const panel = panelFor(handle);
    if (!panel) return;
    const grow = panelAxis(panel) === "y" ? ["ArrowDown", "ArrowUp"] : ["ArrowRight", "ArrowLeft"];
    const index = grow.indexOf(event.key);
    if (index < 0) return;
    event.preventDefault();
    const after = Boolean(panel.compareDocumentPosition(handle) & Node.DOCUMENT_POSITION_FOLLOWING);
    const step = (event.shiftKey ? 64 : 16) * (index === 0 ? 1 : -1) * (after ? 1 : -1);
    setPanelSize(panel, panelSize(panel) + step, handle);
    panelSaved(panel);
  });

  /* ── tabs (client-side panels; server tabs are plain links) ────────────────────── */

  function selectTab(tab) {
    const list = tab.closest('[role="tablist"]');
    if (!list) return;
    list.querySelectorAll('[role="tab"]').forEach((other) => {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      const panelId = other.getAttribute("aria-controls");
      const panel = panelId && doc.getElementById(panelId);
      if (panel) panel.hidden = !selected;
    });
  }

  doc.addEventListener("click", (event) => {
    const tab = event.target.closest('button[role="tab"][aria-controls]');
    if (tab) selectTab(tab);
  });

  doc.addEventListener("keydown", (event) => {
    const tab = event.target.closest && event.target.closest('[role="tab"]');
    const list = tab && tab.closest('[role="tablist"]');
    if (!list) return;
    const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
    const index = tabs.indexOf(tab);
    const target = {
      ArrowLeft: tabs[(index - 1 + tabs.length) % tabs.length],
      ArrowRight: tabs[(index + 1) % tabs.length],
      Home: tabs[0],
      End: tabs[tabs.length - 1],
    }[event.key];
    if (!target) return;
    event.preventDefault();
    target.focus();
    if (target.matches("button[aria-controls]")) selectTab(target);
  });

  /* ── SSE connection badge ──────────────────────────────────────────────────────── */

  const failingSources = new Set();

  function showConnectionState() {
    doc.querySelectorAll("[data-connection-status]").forEach((badge) => {
      badge.hidden = failingSources.size === 0;
    });
  }

  doc.addEventListener("htmx:sseError", (event) => {
    failingSources.add(event.detail.elt || event.target);
    showConnectionState();
  });

  doc.addEventListener("htmx:sseOpen", (event) => {
    failingSources.delete(event.detail.elt || event.target);
    showConnectionState();
  });

  doc.addEventListener("htmx:sseClose", (event) => {
    failingSources.delete(event.detail.elt || event.target);
    showConnectionState();
  });

  /* ── live pages: reload requests, auto-submitting controls, editor shortcut ──── */

  // The server sends `event: reload` when this page fell behind or its subject changed
  // beyond a fragment (the stream carries an element with sse-swap="reload").
  doc.addEventListener("htmx:sseBeforeMessage", (event) => {
    const message = event.detail;
    if (message && message.type === "reload") {
      event.preventDefault();
      window.location.reload();
    }
  });

  // After an SSE swap, keep the user's place: announce it for screen readers.
  doc.addEventListener("htmx:sseMessage", (event) => {
    const message = event.detail;
    if (message && message.type && message.type !== "reload") announce("Updated.");
  });

  // <form data-autosubmit>: a changed control saves at once (e.g. the theme choice).
  doc.addEventListener("change", (event) => {
    const form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (form && typeof form.requestSubmit === "function") form.requestSubmit();
  });

  // Ctrl/Cmd+Enter anywhere in the query form (the SQL, the dataset, the chart fields)
  // runs the query.
  doc.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const form = event.target.closest && event.target.closest("#query-form");
    if (form && typeof form.requestSubmit === "function") {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  /* ── start-up ──────────────────────────────────────────────────────────────────── */

  function init(scope) {
    each(scope, "[data-grid-item]", initGridItem);
    each(scope, "form[data-idempotent]", (form) => ensureIdempotencyKey(form, false));
    each(scope, "[data-resizable-panel]", initPanel);
    each(scope, "[data-panel-handle]", initPanelHandle);
    initCharts(scope);
    startElapsed(scope);
  }

  doc.addEventListener("htmx:load", (event) => init(event.detail.elt));

  function start() {
    syncThemeControls();
    init(doc.body);
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();

  window.Ironstar = Object.freeze({
    announce,
    effectiveTheme,
    formatElapsed,
    init,
    newKey,
    refreshChart: (el) => charts.refresh(el),
    setTheme,
    toast,
  });
})();
