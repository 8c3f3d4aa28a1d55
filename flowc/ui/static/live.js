// Live refresh while a run goes on: poll the page's small JSON state and
// reload when it changes; stop once the run has finished.
(function () {
  var body = document.body;
  var url = body && body.dataset.poll;
  if (!url) return;
  var stamp = body.dataset.stamp;
  function tick() {
    fetch(url, { cache: "no-store", headers: { accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.stamp !== stamp) { window.location.reload(); return; }
        if (!s.finished) setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
