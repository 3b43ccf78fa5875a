// Live progress of a replay: polls the job's JSON and updates the page; when a one-record
// replay is done, opens that record. No build step, no library.
(function () {
  var box = document.getElementById("job");
  if (!box) { return; }
  if (box.dataset.finished === "yes") {  // done before the page was drawn
    if (box.dataset.next) { window.location.assign(box.dataset.next); }
    return;
  }
  function cell(text, cls) {
    var td = document.createElement("td");
    var span = document.createElement("span");
    if (cls) { span.className = cls; }
    span.textContent = text;
    td.appendChild(span);
    return td;
  }
  function show(job) {
    document.getElementById("job-progress").max = job.total;
    document.getElementById("job-progress").value = job.done;
    document.getElementById("job-count").textContent = job.done + "/" + job.total;
    document.getElementById("job-status").textContent = job.finished ? "done" : "running";
    var outcomes = document.getElementById("job-outcomes");
    outcomes.textContent = "";
    Object.keys(job.outcomes).sort().forEach(function (k) {
      var span = document.createElement("span");
      span.className = "state state-" + k;
      span.textContent = k + " " + job.outcomes[k];
      outcomes.appendChild(span);
      outcomes.appendChild(document.createTextNode(" "));
    });
    var body = document.getElementById("job-results");
    body.textContent = "";
    job.results.forEach(function (r) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      var a = document.createElement("a");
      a.href = box.dataset.url.replace(/\/jobs\/[^/]+\.json$/, "/records/" + r.id);
      a.textContent = r.record;
      td.appendChild(a);
      tr.appendChild(td);
      tr.appendChild(cell(r.outcome, "state state-" + r.outcome));
      body.appendChild(tr);
    });
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        show(job);
        if (!job.finished) { setTimeout(poll, 500); return; }
        if (job.next) { window.location.assign(job.next); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
