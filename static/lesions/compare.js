// The compare page's slider and layer switches, and the outline toggle on a photo's page.
// An external file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Slider: the later (aligned) photo is shown right of the handle, the earlier one left of it.
  const slider = document.querySelector("[data-compare-slider]");
  const top = document.querySelector("[data-compare-top]");
  function wipe() {
    if (!slider || !top) return;
    top.style.clipPath = "inset(0 0 0 " + slider.value + "%)";
  }
  if (slider) {
    slider.addEventListener("input", wipe);
    wipe();
  }

  // "Heatmaps" and "Outlines" switch that layer on in both views (side by side and overlay).
  document.querySelectorAll("[data-compare-layer]").forEach((box) => {
    box.addEventListener("change", () => {
      const layer = box.getAttribute("data-compare-layer");
      // toggleAttribute, not .hidden: the outlines are SVG elements, which have no `hidden` property.
      document.querySelectorAll(".layer-" + layer).forEach((element) => {
        element.toggleAttribute("hidden", !box.checked);
      });
      if (layer === "heatmap") {
        // The heatmap is the photo with the map over it: hide the plain photo under it in the overlay.
        document.querySelectorAll("[data-compare-overlay] .layer-photo").forEach((element) => {
          const heatmap = element.parentElement.querySelector(".layer-heatmap");
          if (heatmap) element.hidden = box.checked;
        });
      }
    });
  });

  // A photo's page: "Show the outline".
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-outline-toggle]");
    if (!button) return;
    const outline = document.getElementById(button.getAttribute("aria-controls"));
    if (!outline) return;
    const showing = outline.hasAttribute("hidden");
    outline.toggleAttribute("hidden", !showing);
    button.setAttribute("aria-pressed", String(showing));
    button.textContent = showing ? "Hide the outline" : "Show the outline";
  });
})();
