// The menu strip scrolls sideways on a phone: bring the current page's item into view, so the
// worker sees where they are without swiping (a file, not inline: the CSP allows no inline script).
(function () {
  var current = document.querySelector(".mainnav [aria-current]");
  if (!current) return;
  var nav = current.parentElement;
  if (nav.scrollWidth <= nav.clientWidth) return;
  nav.scrollLeft = current.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
})();
