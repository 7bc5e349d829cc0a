// A "Print" button ([data-print], hidden without JavaScript, which printing needs): prints the page,
// whose print style leaves out the site's navigation and the page's other buttons.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
})();
