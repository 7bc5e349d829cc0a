// The phone flow (templates/lesions/_capture.html): the camera opens from the "Take a photo"
// button; then the patient picks the lesion (or names a new one), the photo uploads with a
// progress bar, and the analysis status is polled until it is done or has failed.
// It talks to the same REST API as the mobile apps, with the session cookie and CSRF token.
(function () {
  "use strict";
  const root = document.getElementById("capture");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const input = $("capture-input");
  const panel = $("capture-panel");
  const preview = $("capture-preview");
  const form = $("capture-form");
  const lesionSelect = $("capture-lesion");
  const newFields = $("capture-new");
  const nameInput = $("capture-name");
  const siteSelect = $("capture-site");
  const uploadButton = $("capture-upload");
  const progress = $("capture-progress");
  const bar = $("capture-bar");
  const percent = $("capture-percent");
  const errorBox = $("capture-error");
  const statusBox = $("capture-status");
  const state = $("capture-state");
  const result = $("capture-result");
  const details = $("capture-details");
  const reason = $("capture-reason");
  const sizeBox = $("capture-size");
  const sizeAcross = $("capture-size-across");
  const sizeWords = $("capture-size-words");
  const sizeDetails = $("capture-size-details");
  const headline = $("capture-headline");
  const headlineTitle = $("capture-advice");
  const notice = $("capture-notice"); // absent where the page says it once elsewhere (the dashboard)
  const lesionLink = $("capture-lesion-link");
  const again = $("capture-again");
  const typeFields = $("capture-type");
  const typeKnown = $("capture-type-known");
  const typeWords = $("capture-type-words");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const POLL_MS = 2000;
  let file = null;
  let previewUrl = null;

  const url = (template, id) => template.replace("/0/", "/" + id + "/");
  const show = (node, visible) => { if (node) node.hidden = !visible; };

  function showError(message) {
    errorBox.textContent = message;
    show(errorBox, Boolean(message));
  }

  // DRF answers {"field": ["message", ...]} or {"detail": "message"}: one readable line.
  function messageFrom(body, fallback) {
    if (!body || typeof body !== "object") return fallback;
    const first = Object.values(body)[0];
    return (Array.isArray(first) ? first[0] : first) || fallback;
  }

  function retryMessage(retryAfter) {
    const seconds = parseInt(retryAfter || "60", 10);
    const wait = seconds >= 120 ? Math.ceil(seconds / 60) + " minutes" : seconds + " seconds";
    return "Too many uploads for now. Please try again in " + wait + ".";
  }

  function reset() {
    file = null;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    show(panel, false);
    show(form, true);
    show(progress, false);
    show(statusBox, false);
    show(headline, false);
    showError("");
    uploadButton.disabled = false;
    uploadButton.removeAttribute("aria-busy");
  }

  input.addEventListener("change", () => {
    if (!input.files || !input.files.length) return;
    reset();
    file = input.files[0];
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    // HEIC does not display in most browsers; the upload is still fine.
    preview.onerror = () => show(preview, false);
    show(preview, true);
    show(panel, true);
    panel.scrollIntoView({ behavior: "smooth", block: "start" });
    lesionSelect.focus();
  });

  // How the patient takes photos (dermatoscope attachment or plain camera): asked once, then
  // remembered on this phone and sent with every upload as `photo_type` ("" lets the model tell).
  const TYPE_KEY = "skinsite.photoType";
  const TYPE_WORDS = {
    dermoscopy: "through a dermatoscope attachment",
    clinical: "with the plain phone camera",
    "": "without saying how (the model tells)",
  };
  const storage = (() => { try { return window.localStorage; } catch (err) { return null; } })();
  const radios = Array.from(typeFields.querySelectorAll("input[type=radio]"));

  function rememberedType() {
    const value = storage ? storage.getItem(TYPE_KEY) : null;
    return value !== null && value in TYPE_WORDS ? value : null;
  }

  function showType() {
    const value = rememberedType();
    radios.forEach((radio) => { radio.checked = radio.value === (value || ""); });
    show(typeFields, value === null);
    show(typeKnown, value !== null);
    if (value !== null) typeWords.textContent = TYPE_WORDS[value];
  }

  function chosenType() {
    const checked = radios.find((radio) => radio.checked);
    return checked ? checked.value : "";
  }

  radios.forEach((radio) => radio.addEventListener("change", () => {
    if (storage) { try { storage.setItem(TYPE_KEY, radio.value); } catch (err) { /* private mode */ } }
  }));
  $("capture-type-change").addEventListener("click", () => {
    show(typeKnown, false);
    show(typeFields, true);
    (radios.find((radio) => radio.checked) || radios[0]).focus();
  });
  showType();

  lesionSelect.addEventListener("change", () => {
    const isNew = lesionSelect.value === "new";
    show(newFields, isNew);
    if (isNew) nameInput.focus();
  });

  async function api(method, path, body) {
    const response = await fetch(path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    return { response, data };
  }

  async function chosenLesionId() {
    if (lesionSelect.value !== "new") return lesionSelect.value;
    // Where the body map was tapped (static/lesions/bodymap.js), if it was: the API checks it.
    const place = {};
    for (const name of ["map_view", "map_x", "map_y"]) {
      const input = newFields.querySelector(`input[name="${name}"]`);
      if (input && input.value) place[name] = name === "map_view" ? input.value : Number(input.value);
    }
    const { response, data } = await api("POST", root.dataset.lesionsUrl, {
      name: nameInput.value.trim(),
      body_site: siteSelect.value,
      ...place,
    });
    if (response.status !== 201) throw new Error(messageFrom(data, "The lesion could not be created."));
    // Later photos in this visit can go to the same lesion without typing its name again.
    const option = new Option(data.name, data.id, true, true);
    lesionSelect.add(option, lesionSelect.options[lesionSelect.options.length - 1]);
    show(newFields, false);
    return data.id;
  }

  // What lets the worker give the lesion a size in mm (lesions/_size_hints.html, ids "capture-<field>"):
  // the API's `coin` (mine, a coin's key or other with `coin_diameter_mm`) and `device`.
  function sizeHints() {
    const hints = {};
    const inPhoto = $("capture-reference_in_photo");
    const coin = $("capture-coin");
    const device = $("capture-device");
    if (inPhoto && inPhoto.checked && coin && coin.value !== "card") {
      hints.coin = coin.value || "mine";
      if (coin.value === "other") hints.coin_diameter_mm = $("capture-coin_diameter_mm").value;
    }
    if (device && device.value) hints.device = device.value;
    return hints;
  }

  // The size in mm on this photo (its analysis's `size`), in the words of the lesion's pages
  // (lesions/size_words.py): the width and the 6 mm flag, or why there is none and how to add one.
  function across(value, error) {
    return value.toFixed(1) + " mm across" + (error === null || error === undefined ? "" : " (± " + error.toFixed(1) + " mm)");
  }
  function showSize(photo, analysis) {
    const size = analysis.size;
    show(sizeBox, Boolean(size));
    show(sizeDetails, false);
    if (!size) return;
    sizeWords.replaceChildren();
    if (size.ok && size.long_mm !== null) {
      const flag = size.wider_than_6mm === true ? "wider" : size.wider_than_6mm === false ? "narrower" : "unsure";
      sizeBox.dataset.sizeFlag = flag;
      sizeAcross.textContent = "Size: " + across(size.long_mm, size.long_mm_error);
      sizeWords.textContent = root.dataset["size" + flag.charAt(0).toUpperCase() + flag.slice(1)];
      // Under Details, as on the photo page: the width the other way and the area.
      const parts = [];
      if (size.short_mm !== null) parts.push("The other way: " + across(size.short_mm, size.short_mm_error).replace(" across", "") + ".");
      if (size.area_mm2 !== null) {
        const digits = size.area_mm2 < 10 ? 1 : 0;
        parts.push("Area: " + size.area_mm2.toFixed(digits) + " mm²" + (size.area_mm2_error === null ? "" : " (± " + size.area_mm2_error.toFixed(digits) + " mm²)") + ".");
      }
      sizeDetails.firstElementChild.textContent = parts.join(" ");
      show(sizeDetails, parts.length > 0);
    } else {
      sizeBox.dataset.sizeFlag = "none";
      sizeAcross.textContent = "No size in mm.";
      const link = document.createElement("a");
      link.href = url(root.dataset.photoPageUrl, photo.id) + "#size";
      link.textContent = "Mark a known length on this photo";
      sizeWords.append((size.reason_text || "We could not tell its size in mm.") + " ", link, ".");
    }
  }

  // XMLHttpRequest, not fetch: only it reports upload progress.
  function upload(lesionId) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const data = new FormData();
      data.append("image", file, file.name || "photo.jpg");
      const photoType = chosenType();
      if (photoType) data.append("photo_type", photoType);
      for (const [name, value] of Object.entries(sizeHints())) data.append(name, value);
      xhr.open("POST", url(root.dataset.uploadUrl, lesionId));
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const done = Math.round((event.loaded / event.total) * 100);
        bar.value = done;
        percent.textContent = done + "%";
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 202) {
          bar.value = 100;
          percent.textContent = "100%";
          resolve(body);
        } else if (xhr.status === 429) {
          reject(new Error(retryMessage(xhr.getResponseHeader("Retry-After"))));
        } else {
          reject(new Error(messageFrom(body, "The upload failed (" + xhr.status + ").")));
        }
      });
      xhr.addEventListener("error", () => reject(new Error("The upload was interrupted. Check the connection and try again.")));
      xhr.send(data);
    });
  }

  let announced = null; // the last news told to the page around: "<photo id>:uploaded" or ":finished"
  function showAnalysis(photo) {
    const analysis = photo.analysis || { status: "pending" };
    state.className = "status " + analysis.status;
    show(statusBox, true);
    show(details, false);
    show(reason, false);
    show(notice, false);
    show(sizeBox, false);
    if (analysis.status === "done") {
      showSize(photo, analysis);
      state.textContent = "Analysis done.";
      const malignant = Math.round(analysis.malignant_probability * 100);
      // This photo's own numbers, under Details: the lesion's headline (showHeadline) says what to do.
      result.textContent = "This photo alone: most likely " + analysis.predicted_label + ". Chance of a malignant type: " + malignant + "%.";
      show(details, true);
      show(notice, true);
    } else if (analysis.status === "failed") {
      state.textContent = "The analysis failed.";
      reason.textContent = (analysis.error || "No reason was given.") + " Your photo is saved.";
      show(reason, true);
    } else if (analysis.status === "not_assessable") {
      state.textContent = "Not assessable.";
      reason.textContent = (analysis.error || "The photo could not be assessed") + ". Try another photo: close-up, in focus, good light.";
      show(reason, true);
    } else {
      state.textContent = analysis.status === "running" ? "Analysing…" : "Waiting for the analysis…";
    }
    const finished = ["done", "failed", "not_assessable"].includes(analysis.status);
    show(lesionLink, finished);
    show(again, finished);
    // The page around the capture (the dashboard's cards and map, live.js) redraws itself: once for
    // the new photo, once for its result.
    const news = photo.id + (finished ? ":finished" : ":uploaded");
    if (news !== announced) {
      announced = news;
      document.dispatchEvent(new CustomEvent("skinsite:photo-changed"));
    }
    root.dataset.analysisStatus = analysis.status;
    return finished;
  }

  // The lesion's answer from its recent photos (the lesion API's `advice`), which leads the result:
  // the same sentence as on the lesion's timeline, so one noisy photo does not change what to do.
  async function showHeadline(lesionId) {
    let advice = null;
    try {
      const { response, data } = await api("GET", url(root.dataset.lesionUrl, lesionId));
      if (response.ok && data) advice = data.advice;
    } catch (err) {
      // Offline: the result below still shows, and the lesion's page has the headline.
    }
    if (advice) {
      headline.className = "advice lesion-advice" + (advice.band ? " band-" + advice.band : "");
      headline.dataset.band = advice.band || "none";
      headlineTitle.textContent = advice.title;
    }
    show(headline, Boolean(advice));
  }

  async function follow(photo, lesionId) {
    if (showAnalysis(photo)) return showHeadline(lesionId);
    try {
      const { response, data } = await api("GET", url(root.dataset.photoUrl, photo.id));
      if (response.ok) photo = data;
    } catch (err) {
      // Offline for a moment: ask again on the next tick.
    }
    if (showAnalysis(photo)) return showHeadline(lesionId);
    setTimeout(() => follow(photo, lesionId), POLL_MS);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    if (!file) return showError("Take a photo first.");
    if (!lesionSelect.value) return showError("Choose which lesion this photo shows.");
    if (lesionSelect.value === "new" && !nameInput.value.trim()) return showError("Give the new lesion a name.");
    uploadButton.disabled = true;
    uploadButton.setAttribute("aria-busy", "true");
    bar.value = 0;
    percent.textContent = "0%";
    show(progress, true);
    try {
      const lesionId = await chosenLesionId();
      const photo = await upload(lesionId);
      lesionLink.href = url(root.dataset.lesionPageUrl, lesionId);
      show(form, false);
      show(progress, false);
      follow(photo, lesionId);
    } catch (err) {
      show(progress, false);
      showError(err.message);
      uploadButton.disabled = false;
      uploadButton.removeAttribute("aria-busy");
    }
  });

  again.addEventListener("click", () => {
    reset();
    input.value = ""; // so that the same file chosen again still counts as a change
    input.click();
  });
})();
