// A form's errors, rendered with [data-focus-on-load], get the focus once the page has loaded:
// focusing scrolls them into view, and a screen reader reads them. (The HTML autofocus attribute
// works on form controls only in practice, and is skipped when the URL has a #fragment.)
(function () {
  "use strict";
  const target = document.querySelector("[data-focus-on-load]");
  if (target) target.focus();
})();
