// The progress bar of a job's page (templates/jobs/job.html): asks how far the job has
// come once a second and reloads the page, which then shows the result, when it is done.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-progress]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-job-progress");
  var bar = document.getElementById("job-progress-bar");
  var percent = document.getElementById("job-percent");
  var status = document.getElementById("job-status");
  var delay = 1000;

  function show(job) {
    bar.value = job.percent;
    bar.textContent = job.percent + " %";
    percent.textContent = job.percent + " %";
    if (job.status === "running" && status.getAttribute("data-shown") !== "running") {
      status.textContent = status.getAttribute("data-running");
      status.setAttribute("data-shown", "running");
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        delay = 1000;
        if (job.finished) {
          window.location.reload();
          return;
        }
        show(job);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // Logged out, or the server is restarting: try less often; a reload shows why.
        delay = Math.min(delay * 2, 15000);
        if (delay >= 15000) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
