// Draws the lesion's probability chart (and its measures and size in mm) and, while analyses are running, refreshes the
// timeline in place every few seconds so results appear without a page reload. Also the
// timeline's "Show outlines" switch.
(function () {
  "use strict";
  const container = document.getElementById("timeline");
  if (!container) return;
  const colours = {
    akiec: "#e67e22", bcc: "#d35400", bkl: "#16a085", df: "#8e44ad",
    mel: "#c0392b", nv: "#2980b9", vasc: "#7f8c8d",
  };
  let chart = null;
  let measuresChart = null;
  let sizeChart = null;
  const measureColours = { asymmetry: "#2980b9", border_irregularity: "#c0392b", colour_count: "#16a085" };

  // A real time axis: each photo at its date, so three photos a week apart and one a year later do
  // not look evenly spaced. Linear milliseconds (Chart.js's time scale needs a date library).
  const DAY = 24 * 3600 * 1000;
  function dayMs(label) {
    const [y, m, d] = label.split("-").map(Number);
    return Date.UTC(y, m - 1, d);
  }
  function dayText(ms) {
    return new Date(ms).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  }
  function timeAxis(xs) {
    const first = Math.min(...xs);
    const last = Math.max(...xs);
    const pad = Math.max((last - first) / 20, 3 * DAY); // one photo still gets an axis
    return {
      type: "linear", min: first - pad, max: last + pad,
      ticks: { callback: (value) => dayText(value), maxRotation: 0, autoSkip: true, maxTicksLimit: 5 },
    };
  }
  function points(xs, values) { return values.map((y, i) => ({ x: xs[i], y: y })); }
  const dateTitle = { title: (items) => (items.length ? dayText(items[0].parsed.x) : "") };

  // The advice's bands behind the malignant line: where "medium" and "high" start.
  const bandColours = { low: "rgba(21, 128, 61, 0.09)", medium: "rgba(217, 119, 6, 0.12)", high: "rgba(201, 48, 44, 0.12)" };
  function bandsPlugin(bands) {
    return {
      id: "adviceBands",
      beforeDatasetsDraw(chart) {
        if (!bands) return;
        const { ctx, chartArea: area, scales } = chart;
        const edges = [["low", 0, bands.medium], ["medium", bands.medium, bands.high], ["high", bands.high, 1]];
        ctx.save();
        ctx.font = "11px sans-serif";
        ctx.textBaseline = "top";
        for (const [band, from, to] of edges) {
          if (to <= from) continue;
          const top = scales.y.getPixelForValue(to);
          const bottom = scales.y.getPixelForValue(from);
          ctx.fillStyle = bandColours[band];
          ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
          ctx.fillStyle = "#52606d";
          ctx.fillText(band + " advice band", area.left + 4, top + 2);
        }
        ctx.restore();
      },
    };
  }

  function drawMeasures(data, xs) {
    const canvas = document.getElementById("measures-chart");
    if (measuresChart) { measuresChart.destroy(); measuresChart = null; }
    if (!canvas || !data.measures) return;
    measuresChart = new Chart(canvas, {
      type: "line",
      data: {
        datasets: data.measures.map((m) => ({
          label: m.label, data: points(xs, m.values), borderColor: measureColours[m.code], backgroundColor: measureColours[m.code],
          tension: 0.2, borderWidth: 2, pointRadius: 4, spanGaps: false,
          yAxisID: m.code === "colour_count" ? "colours" : "y",
        })),
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {
          x: timeAxis(xs),
          y: { min: 0, title: { display: true, text: "asymmetry, border" } },
          colours: { position: "right", min: 0, max: 6, ticks: { stepSize: 1 }, grid: { drawOnChartArea: false },
            title: { display: true, text: "colours" } },
        },
        plugins: { tooltip: { callbacks: dateTitle } },
      },
    });
  }

  // The size in mm: each point with an error bar of its uncertainty (one standard deviation, as the
  // page says "± 0.3 mm") and the 6 mm line a doctor goes by, dashed, across the plot.
  function sizeMarks(size) {
    return {
      id: "sizeMarks",
      afterDatasetsDraw(chart) {
        const { ctx, chartArea: area, scales } = chart;
        const meta = chart.getDatasetMeta(0);
        ctx.save();
        ctx.strokeStyle = "#1f2937";
        ctx.lineWidth = 1.5;
        meta.data.forEach((point, i) => {
          const value = size.values[i];
          const error = size.errors[i];
          if (value === null || !error) return;
          const top = scales.y.getPixelForValue(value + error);
          const bottom = scales.y.getPixelForValue(Math.max(0, value - error));
          ctx.beginPath();
          ctx.moveTo(point.x, top); ctx.lineTo(point.x, bottom);
          ctx.moveTo(point.x - 5, top); ctx.lineTo(point.x + 5, top);
          ctx.moveTo(point.x - 5, bottom); ctx.lineTo(point.x + 5, bottom);
          ctx.stroke();
        });
        const six = scales.y.getPixelForValue(size.six_mm);
        ctx.strokeStyle = "#c9302c";
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(area.left, six); ctx.lineTo(area.right, six);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#9f1d1a";
        ctx.font = "11px sans-serif";
        ctx.textBaseline = "bottom";
        ctx.fillText(size.six_mm + " mm", area.left + 4, six - 2);
        ctx.restore();
      },
    };
  }

  function drawSize(data, xs) {
    const canvas = document.getElementById("size-chart");
    if (sizeChart) { sizeChart.destroy(); sizeChart = null; }
    if (!canvas || !data.size || !data.size.any) return;
    const size = data.size;
    const top = Math.max(size.six_mm + 1, ...size.values.map((v, i) => (v === null ? 0 : v + (size.errors[i] || 0))));
    sizeChart = new Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: size.label, data: points(xs, size.values), borderColor: "#374151", backgroundColor: "#374151",
          tension: 0, borderWidth: 2, pointRadius: 4, spanGaps: false,
        }],
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: timeAxis(xs), y: { min: 0, suggestedMax: Math.ceil(top + 0.5), title: { display: true, text: "mm" } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: Object.assign({
            label: (ctx) => ctx.parsed.y.toFixed(1) + " mm across (± " + (size.errors[ctx.dataIndex] || 0).toFixed(1) + " mm)",
          }, dateTitle) },
        },
      },
      plugins: [sizeMarks(size)],
    });
  }

  function draw() {
    const dataNode = document.getElementById("chart-data");
    const canvas = document.getElementById("chart");
    if (chart) { chart.destroy(); chart = null; }
    if (!dataNode || !canvas || typeof Chart === "undefined") return;
    const data = JSON.parse(dataNode.textContent);
    const xs = data.labels.map(dayMs);
    // `order`: higher is drawn first. The malignant line (often the melanoma line's twin) goes
    // underneath, wide and pale, so the melanoma line drawn over it stays visible.
    const datasets = data.classes.map((c) => ({
      label: c.label, data: points(xs, c.values), borderColor: colours[c.code], backgroundColor: colours[c.code],
      tension: 0.2, borderWidth: c.code === "mel" ? 2.5 : 1.5, pointRadius: 3, order: 0,
    }));
    datasets.push({
      label: "Any malignant type (akiec + bcc + mel)", data: points(xs, data.malignant),
      borderColor: "rgba(0, 0, 0, 0.4)", backgroundColor: "rgba(0, 0, 0, 0.4)", borderWidth: 6, borderDash: [8, 5],
      pointRadius: 5, tension: 0.2, order: 1,
    });
    chart = new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: timeAxis(xs), y: { min: 0, max: 1, ticks: { callback: (v) => Math.round(v * 100) + "%" } } },
        plugins: { tooltip: { callbacks: Object.assign({ label: (ctx) => ctx.dataset.label + ": " + (ctx.parsed.y * 100).toFixed(1) + "%" }, dateTitle) } },
      },
      plugins: [bandsPlugin(data.bands)],
    });
    drawMeasures(data, xs);
    drawSize(data, xs);
  }

  // "Show outlines": one switch for every photo card. The choice lives on the container, which
  // refresh() keeps, so it survives the timeline's HTML being replaced; sync() re-offers the
  // (new) switch and shows its state.
  function syncOutlines() {
    const on = container.classList.contains("show-outlines");
    const wrapper = container.querySelector("[data-timeline-outlines-switch]");
    const button = container.querySelector("[data-timeline-outlines]");
    if (!wrapper || !button) return;
    wrapper.hidden = false;
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Hide outlines" : "Show outlines";
  }
  container.addEventListener("click", (event) => {
    if (!event.target.closest("[data-timeline-outlines]")) return;
    container.classList.toggle("show-outlines");
    syncOutlines();
  });

  async function refresh() {
    if (!container.querySelector("[data-pending]")) return;
    try {
      const response = await fetch(container.dataset.url, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        // The cards are newest first, one under the other (or a grid): the page keeps its own place.
        container.innerHTML = await response.text();
        draw();
        syncOutlines();
      }
    } catch (err) {
      // Offline for a moment: try again on the next tick.
    }
    setTimeout(refresh, 2500);
  }

  draw();
  syncOutlines();
  setTimeout(refresh, 2500);
})();
