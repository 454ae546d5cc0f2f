// sendgrid-mirror console: a little plain JavaScript; every page also works without it.
"use strict";

// Forms that destroy something ask first.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// "Copy" buttons copy the text of the element they name.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  const source = button ? document.getElementById(button.dataset.copy) : null;
  if (!button || !source || !navigator.clipboard) {
    return;
  }
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    button.textContent = "Copied";
  });
});

// The inbox polls for new mail and, on its first page, swaps in the new list.
(function liveInbox() {
  const results = document.getElementById("results");
  if (!results || !results.dataset.poll) {
    return;
  }
  const every = 2000;
  let busy = false;

  async function refresh() {
    const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      return false;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("results");
    if (!fresh) {
      return false;
    }
    results.innerHTML = fresh.innerHTML;
    results.dataset.total = fresh.dataset.total;
    results.dataset.newest = fresh.dataset.newest;
    return true;
  }

  async function poll() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    try {
      const response = await fetch(results.dataset.poll, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) {
        return;
      }
      const state = await response.json();
      const before = Number(results.dataset.total || 0);
      if ((state.newest || "") === (results.dataset.newest || "") && state.total === before) {
        return;
      }
      const arrived = Math.max(state.total - before, 0);
      if (results.dataset.firstPage === "yes" && (await refresh())) {
        const live = document.getElementById("live");
        if (live) {
          live.textContent = arrived ? `${arrived} new message${arrived === 1 ? "" : "s"}` : "The list was updated";
        }
      } else {
        results.dataset.total = String(state.total);
        results.dataset.newest = state.newest || "";
        const live = document.getElementById("live");
        if (live) {
          live.textContent = "New mail arrived: go to the first page to see it";
        }
      }
    } catch (error) {
      // The mirror may be restarting; the next poll tries again.
    } finally {
      busy = false;
    }
  }

  window.setInterval(poll, every);
  document.addEventListener("visibilitychange", poll);
})();
