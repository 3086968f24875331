// A re-index job's page, live: poll GET /v1/admin/jobs/{id} (the session cookie is enough for
// a GET) every second, move the bar and the numbers, and reload once the job has finished so
// the server draws the outcome and the skipped files. Without this script: the Refresh link.
"use strict";
(function () {
  const job = document.getElementById("job");
  if (!job || !job.dataset.live) return;
  const bar = document.getElementById("job-progress");
  const status = document.getElementById("job-status");
  const numbers = new Intl.NumberFormat(document.documentElement.lang || "en");
  let failures = 0;

  function show(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = numbers.format(value);
  }

  // which replica runs it: changes when one stops and another takes the job over
  function showRunner(runner, attempts) {
    const el = document.getElementById("runner");
    if (!el) return;
    if (!runner) {
      el.textContent = el.dataset.waiting;
      return;
    }
    const code = document.createElement("code");
    code.textContent = runner;
    el.replaceChildren(code);
    if (attempts > 1) el.append(" · " + el.dataset.attempt.replace("{n}", numbers.format(attempts)));
  }

  // the skipped files as they come, each with its reason (the server sends them all each time)
  function showSkipped(errors) {
    const rows = document.getElementById("skipped-rows");
    if (!rows || rows.children.length === errors.length) return;
    rows.replaceChildren(...errors.map(function (e) {
      const row = document.createElement("tr");
      const file = document.createElement("td");
      const path = document.createElement("code");
      const reason = document.createElement("td");
      path.textContent = e.path;
      reason.textContent = e.reason;
      file.append(path);
      row.append(file, reason);
      return row;
    }));
    document.getElementById("skipped-table").hidden = errors.length === 0;
    document.getElementById("no-skipped").hidden = errors.length > 0;
  }

  async function poll() {
    let finished = false;
    try {
      const response = await fetch("/v1/admin/jobs/" + encodeURIComponent(job.dataset.job), {
        credentials: "same-origin", headers: { "Accept": "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const state = await response.json();
      const p = state.progress;
      bar.max = Math.max(p.files_total, 1);
      bar.value = p.files_done;
      bar.textContent = p.files_done + " / " + p.files_total;
      show("files-done", p.files_done);
      show("files-total", p.files_total);
      show("chunks", p.chunks_embedded);
      show("skipped", p.errors);
      showRunner(state.runner, state.attempts);
      showSkipped(state.errors);
      status.textContent = status.dataset[state.status] || state.status;
      status.className = "badge " + state.status;
      finished = state.status !== "queued" && state.status !== "running";
      failures = 0;
    } catch (error) {
      failures += 1;  // a busy server: keep trying, more slowly; the Refresh link still works
    }
    if (finished) window.location.reload();
    else window.setTimeout(poll, failures ? Math.min(1000 * 2 ** failures, 30000) : 1000);
  }

  window.setTimeout(poll, 1000);
})();
