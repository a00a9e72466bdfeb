// Small page behaviours bound by data- attributes, in a file because the Content-Security-Policy
// runs no inline script and no onclick=/onchange= attributes (docs/access.md, "Response headers").
//   <button data-print>            prints the page
//   <select data-autosubmit>       submits its form when the choice changes
(function () {
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });
})();
