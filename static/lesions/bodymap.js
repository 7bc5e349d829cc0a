// The body map picker (templates/lesions/_bodymap_picker.html): a tap on the outline chooses the
// body site in the form's list and fills the hidden map_view, map_x, map_y; choosing from the list
// shows that site on the map. The list stays the control for keyboards and screen readers; without
// this script the picker stays hidden and the list is all there is.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  // The viewBox of one view at a time (lesions.bodymap: each view is 200 x 440, drawn at
  // x 10 and 230, from y 36); the "not sure" box below them is the list's last option instead.
  const VIEW_BOXES = { front: "0 0 220 480", back: "220 0 220 480" };

  function start(picker) {
    const form = picker.closest("form");
    const select = document.getElementById(picker.dataset.select);
    const svg = picker.querySelector("svg");
    if (!form || !select || !svg) return;
    const hidden = {
      view: form.querySelector('input[name="map_view"]'),
      x: form.querySelector('input[name="map_x"]'),
      y: form.querySelector('input[name="map_y"]'),
    };
    const chosen = picker.querySelector("[data-bodymap-chosen]");
    const unknown = svg.querySelector('[data-site="unknown"]');
    if (unknown) unknown.remove();
    let dot = null;

    function siteName(site) {
      const option = Array.from(select.options).find((o) => o.value === site);
      return option ? option.textContent : site;
    }

    function show(view) {
      svg.setAttribute("viewBox", VIEW_BOXES[view]);
      picker.querySelectorAll("[data-bodymap-show]").forEach((button) => {
        const on = button.dataset.bodymapShow === view;
        button.setAttribute("aria-pressed", String(on));
        button.classList.toggle("outline", !on);
      });
      picker.dataset.showing = view;
    }

    function highlight(site) {
      svg.querySelectorAll("[data-site]").forEach((region) => {
        region.classList.toggle("selected", region.dataset.site === site);
      });
    }

    function placeDot(view, x, y) {
      if (dot) dot.remove();
      const group = svg.querySelector(`g[data-view="${view}"]`);
      if (!group) return;
      dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("class", "bodymap-chosen-dot");
      dot.setAttribute("cx", x);
      dot.setAttribute("cy", y);
      dot.setAttribute("r", "5");
      group.appendChild(dot);
    }

    function removeDot() {
      if (dot) dot.remove();
      dot = null;
    }

    svg.addEventListener("click", (event) => {
      const region = event.target.closest("[data-site]");
      const group = event.target.closest("g[data-view]");
      if (!region || !group) return;
      // The tap in the view's own coordinates, whatever the map's size on screen.
      const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(group.getScreenCTM().inverse());
      const x = Math.round(point.x * 10) / 10;
      const y = Math.round(point.y * 10) / 10;
      const view = group.dataset.view;
      select.value = region.dataset.site;
      hidden.view.value = view;
      hidden.x.value = String(x);
      hidden.y.value = String(y);
      highlight(region.dataset.site);
      placeDot(view, x, y);
      chosen.textContent = `Chosen: ${siteName(region.dataset.site)} (${view}).`;
    });

    select.addEventListener("change", () => {
      // A site from the list: the server puts the dot at its centre, so forget any earlier tap.
      hidden.view.value = "";
      hidden.x.value = "";
      hidden.y.value = "";
      removeDot();
      highlight(select.value);
      const regions = svg.querySelectorAll(`[data-site="${CSS.escape(select.value)}"]`);
      const views = Array.from(regions, (r) => r.closest("g[data-view]").dataset.view);
      if (views.length && !views.includes(picker.dataset.showing)) show(views[0]);
      chosen.textContent = "";
    });

    picker.querySelectorAll("[data-bodymap-show]").forEach((button) => {
      button.addEventListener("click", () => show(button.dataset.bodymapShow));
    });

    // The lesion's current place (the edit form), shown but not sent again unless tapped anew.
    const current = picker.dataset.view;
    show(current === "back" ? "back" : "front");
    highlight(select.value);
    if (current) placeDot(current, picker.dataset.x, picker.dataset.y);
    picker.hidden = false;
  }

  document.querySelectorAll("[data-bodymap-picker]").forEach(start);
})();
