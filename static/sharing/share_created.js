// The report link is shown once: select it all when it gets focus, so it copies in one go.
// (A file, not an onfocus attribute: the Content-Security-Policy allows no inline script.)
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach((input) => {
    input.addEventListener("focus", () => input.select());
  });
})();
