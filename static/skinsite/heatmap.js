// "Show where the model looked": lays the analysis's heatmap over its photo and back. Listens on
// the document, so it keeps working after timeline.js replaces the timeline's HTML.
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-heatmap-toggle]");
    if (!button) return;
    const overlay = document.getElementById(button.getAttribute("aria-controls"));
    if (!overlay) return;
    const showing = overlay.hidden;
    overlay.hidden = !showing;
    button.setAttribute("aria-pressed", String(showing));
    button.textContent = showing ? "Hide the heatmap" : "Show where the model looked";
  });
})();
