// The run page while a run is queued or running: poll GET /v1/eval/runs/{id} (the session
// cookie is enough for a GET), move the <progress> bar and say how far it is, and reload the
// page once the run is finished, so the server draws the summary and the report.
"use strict";
(function () {
  const bar = document.getElementById("run-progress");
  const status = document.getElementById("run-status");
  if (!bar || !status) return;
  const url = bar.dataset.poll;
  const ACTIVE = ["queued", "running"];
  let failures = 0;

  async function poll() {
    try {
      const response = await fetch(url, { credentials: "same-origin",
                                          headers: { "Accept": "application/json" } });
      if (!response.ok) throw new Error(response.status + "");
      const run = await response.json();
      failures = 0;
      bar.max = Math.max(run.progress.total, 1);
      bar.value = run.progress.done;
      bar.textContent = run.progress.done + "/" + run.progress.total;
      status.textContent = status.dataset.template
        .replace("{done}", run.progress.done).replace("{total}", run.progress.total);
      if (ACTIVE.indexOf(run.status) < 0) {
        window.location.reload();
        return;
      }
    } catch (error) {
      failures += 1;
      if (failures >= 5) {
        status.textContent = status.dataset.failed;
        status.className = "alert";
        return;
      }
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 500);
})();
