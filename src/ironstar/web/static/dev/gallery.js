/*
 * Demo controls for the component gallery only (dev/gallery.html); the app never loads this.
 * Simulates what the server would do: SSE errors, toasts, a running query's timer.
 */
(() => {
  "use strict";

  function startTimer(el) {
    el.dataset.elapsedSince = String(Date.now() - 3400);
    window.Ironstar.init(el);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const theme = new URLSearchParams(window.location.search).get("theme");
    if (theme) window.Ironstar.setTheme(theme);
    document.querySelectorAll("#demo-elapsed, #timeline-elapsed").forEach(startTimer);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-demo]");
    if (!button) return;
    const status = document.getElementById("demo-status");
    const timer = document.getElementById("demo-elapsed");
    const sse = document.body;
    switch (button.dataset.demo) {
      case "sse-error":
        sse.dispatchEvent(new CustomEvent("htmx:sseError", { bubbles: true, detail: { elt: sse } }));
        break;
      case "sse-open":
        sse.dispatchEvent(new CustomEvent("htmx:sseOpen", { bubbles: true, detail: { elt: sse } }));
        break;
      case "run":
        status.className = "badge badge--status badge--running";
        status.textContent = "Running";
        startTimer(timer);
        break;
      case "cancel":
        timer.removeAttribute("data-elapsed-since");
        status.className = "badge badge--status badge--cancelled";
        status.textContent = "Cancelled";
        break;
      case "toast-error":
        window.Ironstar.toast({
          level: "error",
          code: "CATALOG_UNAVAILABLE",
          message: "The catalog hf://datasets/sciexp/fixtures is unavailable.",
        });
        break;
      case "toast-success":
        window.Ironstar.toast({ level: "success", message: "Query saved as “Mass by island”." });
        break;
      default:
        window.Ironstar.toast({ message: "Metadata refresh started." });
    }
  });
})();
