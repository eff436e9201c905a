// 律规助手控制台: the few things the pages do in the browser. Every page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms that delete something ask first.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  // The group form shows the fields of the chosen kind of robot only.
  const groupForm = document.getElementById("group-form");
  if (groupForm) {
    const show = () => {
      const kind = groupForm.querySelector("input[name=kind]:checked")?.value;
      for (const label of groupForm.querySelectorAll("label[data-kind]")) {
        label.hidden = label.dataset.kind !== kind;
      }
    };
    groupForm.addEventListener("change", show);
    show();
  }

  // A broadcast's delivery report fills in as the outbox sends.
  const report = document.getElementById("report");
  if (report && report.dataset.settled !== "true") {
    const body = report.querySelector("tbody");
    const summary = document.getElementById("summary");
    const refresh = async () => {
      try {
        const response = await fetch(report.dataset.rows, { credentials: "same-origin" });
        // Logged out meanwhile (sent to the login page): stop rather than show that page here.
        if (!response.ok || response.redirected) return;
        body.innerHTML = await response.text();
        const rows = body.querySelectorAll("tr");
        const sent = body.querySelectorAll("tr[data-status=sent]").length;
        const settled = response.headers.get("x-settled") === "true";
        if (summary) {
          summary.textContent = `${sent} / ${rows.length} 个群已送达。` + (settled ? "" : "（送达情况自动刷新）");
        }
        report.dataset.settled = String(settled);
        if (settled) return;
      } catch (_) {
        // The server restarting: try again.
      }
      window.setTimeout(refresh, 1000);
    };
    window.setTimeout(refresh, 1000);
  }
});
