// Draws the lesion's probability chart and, while analyses are running, refreshes the
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
  const measureColours = { asymmetry: "#2980b9", border_irregularity: "#c0392b", colour_count: "#16a085" };

  function drawMeasures(data) {
    const canvas = document.getElementById("measures-chart");
    if (measuresChart) { measuresChart.destroy(); measuresChart = null; }
    if (!canvas || !data.measures) return;
    measuresChart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.measures.map((m) => ({
          label: m.label, data: m.values, borderColor: measureColours[m.code], backgroundColor: measureColours[m.code],
          tension: 0.2, borderWidth: 2, pointRadius: 4, spanGaps: false,
          yAxisID: m.code === "colour_count" ? "colours" : "y",
        })),
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {
          y: { min: 0, title: { display: true, text: "asymmetry, border" } },
          colours: { position: "right", min: 0, max: 6, ticks: { stepSize: 1 }, grid: { drawOnChartArea: false },
            title: { display: true, text: "colours" } },
        },
      },
    });
  }

  function draw() {
    const dataNode = document.getElementById("chart-data");
    const canvas = document.getElementById("chart");
    if (chart) { chart.destroy(); chart = null; }
    if (!dataNode || !canvas || typeof Chart === "undefined") return;
    const data = JSON.parse(dataNode.textContent);
    const datasets = data.classes.map((c) => ({
      label: c.label, data: c.values, borderColor: colours[c.code], backgroundColor: colours[c.code],
      tension: 0.2, borderWidth: 1.5, pointRadius: 3,
    }));
    datasets.push({
      label: "Any malignant type (akiec + bcc + mel)", data: data.malignant, borderColor: "#000",
      backgroundColor: "#000", borderWidth: 3, borderDash: [6, 4], pointRadius: 4, tension: 0.2,
    });
    chart = new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0, max: 1, ticks: { callback: (v) => Math.round(v * 100) + "%" } } },
        plugins: { tooltip: { callbacks: { label: (ctx) => ctx.dataset.label + ": " + (ctx.parsed.y * 100).toFixed(1) + "%" } } },
      },
    });
    drawMeasures(data);
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

  // On a phone the cards are one row to swipe, oldest first: open it at the newest photo (today),
  // not five swipes away. Where the cards wrap into a grid (desktop) nothing scrolls.
  function row() { return container.querySelector(".timeline"); }
  function showNewest() {
    const cards = row();
    if (cards && cards.scrollWidth > cards.clientWidth) cards.scrollLeft = cards.scrollWidth;
  }

  async function refresh() {
    if (!container.querySelector("[data-pending]")) return;
    try {
      const response = await fetch(container.dataset.url, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        // Keep the person's place: at the newest card stays at the newest (a new one may have come).
        const before = row();
        const left = before ? before.scrollLeft : 0;
        const atNewest = !before || left + before.clientWidth >= before.scrollWidth - 2;
        container.innerHTML = await response.text();
        draw();
        syncOutlines();
        if (atNewest) showNewest();
        else if (row()) row().scrollLeft = left;
      }
    } catch (err) {
      // Offline for a moment: try again on the next tick.
    }
    setTimeout(refresh, 2500);
  }

  draw();
  syncOutlines();
  showNewest();
  setTimeout(refresh, 2500);
})();
