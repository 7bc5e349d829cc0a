// Two points marked on a photo (templates/lesions/_mark_points.html): a tap or click places point 1,
// then point 2, then moves the nearer one; a point can be dragged (touch or mouse), or moved with the
// arrow keys once it has focus (Shift: ten times further). The form's number fields (% of the photo)
// follow, so the form posts as it would without script; typing in them moves the points.
(function () {
  "use strict";
  const FIELDS = [["x1", "y1"], ["x2", "y2"]];
  const STEP = 0.2; // % of the photo per arrow key press

  function setUp(root) {
    const form = root.closest("form");
    const frame = root.querySelector("[data-mark-frame]");
    const image = root.querySelector("[data-mark-image]");
    const line = root.querySelector("[data-mark-line] line");
    const status = root.querySelector("[data-mark-status]");
    const help = root.querySelector("[data-mark-help]");
    const markers = Array.from(root.querySelectorAll("[data-mark-point]"));
    const inputs = FIELDS.map(([x, y]) => [form.elements[x], form.elements[y]]);
    const points = inputs.map(([x, y]) => (x.value !== "" && y.value !== "" ? { x: Number(x.value), y: Number(y.value) } : null));

    const clamp = (v) => Math.min(100, Math.max(0, v));
    const round = (v) => Math.round(v * 10) / 10;
    function words(i) {
      const p = points[i];
      return "Point " + (i + 1) + ": " + round(p.x) + "% from the left, " + round(p.y) + "% from the top";
    }

    function draw() {
      points.forEach((p, i) => {
        const marker = markers[i];
        marker.hidden = !p;
        if (!p) return;
        marker.style.left = p.x + "%";
        marker.style.top = p.y + "%";
        marker.setAttribute("aria-label", words(i) + ". Arrow keys move it.");
      });
      const [a, b] = points;
      line.parentNode.style.display = a && b ? "" : "none";
      if (a && b) {
        line.setAttribute("x1", a.x); line.setAttribute("y1", a.y);
        line.setAttribute("x2", b.x); line.setAttribute("y2", b.y);
      }
    }

    function set(i, x, y, announce) {
      points[i] = { x: clamp(x), y: clamp(y) };
      inputs[i][0].value = round(points[i].x);
      inputs[i][1].value = round(points[i].y);
      draw();
      if (announce) status.textContent = words(i) + ".";
    }

    function percentAt(event) {
      const box = image.getBoundingClientRect();
      return { x: ((event.clientX - box.left) / box.width) * 100, y: ((event.clientY - box.top) / box.height) * 100 };
    }

    frame.addEventListener("click", (event) => {
      if (event.target.closest("[data-mark-point]")) return;
      const at = percentAt(event);
      let i = points.findIndex((p) => !p);
      if (i < 0) {
        const distance = (p) => Math.hypot(p.x - at.x, p.y - at.y);
        i = distance(points[0]) <= distance(points[1]) ? 0 : 1;
      }
      set(i, at.x, at.y, true);
      if (i === 0 && !points[1]) status.textContent += " Now tap the other edge.";
    });

    markers.forEach((marker, i) => {
      let dragging = false;
      marker.addEventListener("pointerdown", (event) => {
        dragging = true;
        marker.setPointerCapture(event.pointerId);
      });
      marker.addEventListener("pointermove", (event) => {
        if (!dragging) return;
        const at = percentAt(event);
        set(i, at.x, at.y, false);
      });
      const stop = () => {
        if (dragging && points[i]) status.textContent = words(i) + ".";
        dragging = false;
      };
      marker.addEventListener("pointerup", stop);
      marker.addEventListener("pointercancel", stop);
      marker.addEventListener("keydown", (event) => {
        const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
        const move = moves[event.key];
        if (!move || !points[i]) return;
        event.preventDefault();
        const step = event.shiftKey ? STEP * 10 : STEP;
        set(i, points[i].x + move[0] * step, points[i].y + move[1] * step, true);
      });
    });

    // From the keyboard: both points in the middle of the photo, point 1 focused, to move with the arrows.
    const keys = root.querySelector("[data-mark-keys]");
    if (keys) {
      keys.addEventListener("click", () => {
        if (!points[0]) set(0, 40, 50, false);
        if (!points[1]) set(1, 60, 50, false);
        markers[0].focus();
        status.textContent = words(0) + ". Move it with the arrow keys, then press Tab for point 2.";
      });
    }

    inputs.forEach(([x, y], i) => {
      const typed = () => {
        if (x.value === "" || y.value === "") return;
        points[i] = { x: clamp(Number(x.value)), y: clamp(Number(y.value)) };
        draw();
      };
      x.addEventListener("input", typed);
      y.addEventListener("input", typed);
    });

    function show() {
      frame.hidden = false;
      help.hidden = false;
      const reference = root.querySelector("[data-mark-reference]");
      if (reference) reference.hidden = false;
      draw();
    }
    // The dermatoscope page marks a photo not sent yet (the file chosen in the form, shown from
    // memory) or one of the patient's stored photos (chosen in a select, shown from the server).
    const file = form.querySelector('input[type="file"]');
    const stored = form.querySelector("select[data-mark-source]");
    function showFile() {
      if (!file.files || !file.files[0]) return;
      if (image.dataset.objectUrl) URL.revokeObjectURL(image.dataset.objectUrl);
      image.dataset.objectUrl = URL.createObjectURL(file.files[0]);
      image.src = image.dataset.objectUrl;
      if (stored) stored.value = ""; // the new photo is the one sent
      show();
    }
    if (image.getAttribute("src")) {
      show();
    } else {
      if (file) file.addEventListener("change", showFile);
      if (stored) {
        stored.addEventListener("change", () => {
          if (!stored.value) return;
          if (file) file.value = ""; // the stored photo is the one used
          image.src = stored.dataset.markSource.replace("/0/", "/" + stored.value + "/");
          show();
        });
      }
    }
  }

  document.querySelectorAll("[data-mark-points]").forEach(setUp);
})();
