// Live updates where a result is awaited, without a reload: the photo page after "Save and analyse
// again", the dashboard's cards and map while analyses run or after the phone capture above them.
//
// A page marks the parts it would redraw with [data-live-region] (each with an id) and each photo
// whose analysis it awaits with [data-awaiting-photo="<id>"]. The photo's status is polled through
// the API the phone capture polls (GET /api/photos/<id>/, the session's login); once one is
// finished the page is fetched again and its regions swapped for the fresh ones, so what shows is
// the server's own HTML. The capture (capture.js) says "skinsite:photo-changed" after an upload
// and when its analysis ends, and the regions are redrawn then too.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const FINISHED = ["done", "failed", "not_assessable"];
  let timer = null;

  function regions() { return Array.from(document.querySelectorAll("[data-live-region]")); }
  function awaited() {
    const ids = new Set();
    regions().forEach((region) => {
      region.querySelectorAll("[data-awaiting-photo]").forEach((el) => ids.add(el.dataset.awaitingPhoto));
      if (region.dataset.awaitingPhoto) ids.add(region.dataset.awaitingPhoto);
    });
    return Array.from(ids);
  }

  async function redraw() {
    const response = await fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    regions().forEach((region) => {
      const next = fresh.getElementById(region.id);
      if (next) region.replaceWith(document.importNode(next, true));
    });
  }

  async function finishedSince(id, apiUrl) {
    const response = await fetch(apiUrl.replace(/\/0\/$/, "/" + id + "/"), {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (response.status === 404) return true; // deleted meanwhile: the page has changed
    if (!response.ok) return false;
    const photo = await response.json();
    // A size being measured again (a scale, coin or dermatoscope changed) is awaited like an analysis.
    return Boolean(photo.analysis && FINISHED.includes(photo.analysis.status) && !photo.analysis.size_measuring);
  }

  async function tick() {
    timer = null;
    const ids = awaited();
    const api = document.querySelector("[data-photo-api]");
    if (!ids.length || !api) return; // nothing awaited: no more requests until an event says so
    try {
      const done = await Promise.all(ids.map((id) => finishedSince(id, api.dataset.photoApi)));
      if (done.some(Boolean)) await redraw();
    } catch (err) {
      // Offline for a moment: ask again on the next tick.
    }
    schedule();
  }

  function schedule() { if (timer === null) timer = setTimeout(tick, POLL_MS); }

  document.addEventListener("skinsite:photo-changed", async () => {
    try { await redraw(); } catch (err) { /* the next tick tries again */ }
    schedule();
  });
  schedule();
})();
