// Polls the import's progress JSON every 2 s and reloads the page when the job stops.
(function () {
  var box = document.getElementById("census-progress");
  if (!box) return;
  var bar = box.querySelector(".census-bar span");
  var processed = document.getElementById("census-processed");
  var waiting = document.getElementById("census-waiting");
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      bar.style.width = data.percent + "%";
      bar.parentNode.setAttribute("aria-valuenow", data.percent);
      processed.textContent = data.processed;
      waiting.hidden = !data.waiting_long;
      if (!data.active || data.status === "previewed") { window.location.reload(); return; }
      setTimeout(poll, 2000);
    }).catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1500);
})();
