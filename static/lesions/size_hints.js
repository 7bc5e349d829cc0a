// The upload's "Size in mm" fields (templates/lesions/_size_hints.html): the coin is asked only once
// "A coin or card is in the photo" is ticked, and the width of another coin only for "another coin".
// Without script every field shows, and the server ignores the coin when the box is not ticked.
(function () {
  "use strict";
  document.querySelectorAll("fieldset.size-hints").forEach((fieldset) => {
    const ticked = fieldset.querySelector('input[name="reference_in_photo"]');
    const coin = fieldset.querySelector('select[name="coin"]');
    const other = fieldset.querySelector('input[name="coin_diameter_mm"]');
    if (!ticked || !coin || !other) return;
    const wrap = (field) => field.closest("label") || field;
    function sync() {
      wrap(coin).hidden = !ticked.checked;
      wrap(other).hidden = !ticked.checked || coin.value !== "other";
    }
    ticked.addEventListener("change", sync);
    coin.addEventListener("change", sync);
    sync();
  });
})();
