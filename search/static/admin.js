/*
 * The admin page (/admin): reports, synonyms, pins and the audit trail, over /admin/api/.
 *
 * The token is kept in sessionStorage (this tab only, never a cookie, never in the URL) and sent
 * as "Authorization: Bearer …". Everything shown is set with textContent: a query a reader typed
 * (HTML, control characters) shows as text, never as markup. The page's CSP allows no inline
 * script and no HTML sink (Trusted Types), so nothing else could run either.
 */
(function () {
  "use strict";

  const KEY = "presse-admin-token";
  const API = new URL("admin/api/", window.location.href);
  const $ = (id) => document.getElementById(id);
  const status = $("status");

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function say(message) {
    status.textContent = message || "";
  }

  async function call(path, options) {
    const token = sessionStorage.getItem(KEY);
    const init = Object.assign({ cache: "no-store", credentials: "omit" }, options || {});
    init.headers = Object.assign({ Authorization: "Bearer " + token }, init.headers || {});
    const response = await fetch(new URL(path, API), init);
    if (response.status === 401) {
      logout("Jeton refusé.");
      throw new Error("401");
    }
    if (response.status === 204) return null;
    const body = await response.json();
    if (!response.ok) {
      const message = (body && body.error && body.error.message) || response.statusText;
      say("Erreur : " + message);
      throw new Error(message);
    }
    return body;
  }

  function post(path, data) {
    return call(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + " %";
  }

  function number(value) {
    return value === null || value === undefined ? "—" : String(value);
  }

  function fillTable(table, headers, rows) {
    table.replaceChildren();
    const head = el("tr");
    for (const [label, numeric] of headers) head.append(el("th", label, numeric ? "num" : ""));
    table.append(el("thead"));
    table.tHead.append(head);
    const body = el("tbody");
    if (!rows.length) {
      const empty = el("td", "Rien pour cette période.", "empty");
      empty.colSpan = headers.length;
      body.append(el("tr"));
      body.lastChild.append(empty);
    }
    for (const cells of rows) {
      const tr = el("tr");
      cells.forEach((cell, i) => {
        if (cell instanceof Node) {
          const td = el("td");
          td.append(cell);
          tr.append(td);
        } else {
          tr.append(el("td", cell, headers[i][1] ? "num" : ""));
        }
      });
      body.append(tr);
    }
    table.append(body);
  }

  function queryRows(list) {
    return list.map((q) => [q.query, q.searches, q.mean_total, percent(q.ctr)]);
  }
  const QUERY_HEADERS = [["Requête"], ["Recherches", true], ["Résultats (moy.)", true],
                         ["Taux de clic", true]];

  async function loadReports() {
    const params = new URLSearchParams();
    if ($("report-from").value) params.set("from", $("report-from").value);
    if ($("report-to").value) params.set("to", $("report-to").value);
    params.set("by", $("report-by").value);
    const data = await call("reports?" + params);
    const s = data.summary;
    const summary = $("summary");
    summary.replaceChildren();
    for (const [label, value] of [
      ["Période", data.period.from + " → " + data.period.to],
      ["Recherches", number(s.searches)],
      ["Clics", number(s.clicks)],
      ["Taux de clic", percent(s.ctr)],
      ["Position moyenne du clic", number(s.mean_click_position)],
      ["Recherches corrigées", percent(s.corrected_share)],
      ["Sans résultat", percent(s.no_result_share)],
    ]) {
      const box = el("div");
      box.append(el("dt", label), el("dd", value));
      summary.append(box);
    }
    fillTable($("top-queries"), QUERY_HEADERS, queryRows(data.top_queries));
    fillTable($("no-result-queries"), QUERY_HEADERS, queryRows(data.no_result_queries));
    fillTable($("no-click-queries"), QUERY_HEADERS, queryRows(data.no_click_queries));
    const by = $("report-by").value;
    fillTable($("series"),
      [[by === "week" ? "Semaine" : "Jour"], ["Recherches", true], ["Taux de clic", true],
       ["Position moyenne", true], ["Corrigées", true], ["Sans résultat", true]],
      data.series.map((r) => [r[by], r.searches, percent(r.ctr), number(r.mean_click_position),
                              percent(r.corrected_share), percent(r.no_result_share)]));
  }

  function deleteButton(path, what) {
    const button = el("button", "Supprimer");
    button.type = "button";
    button.setAttribute("aria-label", "Supprimer " + what);
    button.addEventListener("click", async () => {
      await call(path, { method: "DELETE" });
      say("");
      await loadEditorial();
    });
    return button;
  }

  function localTime(iso) {
    return iso ? new Date(iso).toLocaleString("fr-FR") : "—";
  }

  async function loadEditorial() {
    const [synonyms, pins, audit] = await Promise.all([call("synonyms"), call("pins"),
                                                       call("audit?limit=50")]);
    fillTable($("synonyms"), [["Règle"], ["Type"], [""]],
      synonyms.synonyms.map((r) => [r.line, r.kind === "set" ? "ensemble" : "sens unique",
                                    deleteButton("synonyms/" + r.id, r.line)]));
    fillTable($("pins"), [["Requête"], ["Article"], ["Rang", true], ["Début"], ["Fin"], [""]],
      pins.pins.map((p) => [p.query, p.article_id, p.rank, localTime(p.starts),
                            localTime(p.ends), deleteButton("pins/" + p.id, p.article_id)]));
    fillTable($("audit"), [["Quand"], ["Qui"], ["Quoi"], ["Détail"]],
      audit.audit.map((a) => [localTime(a.at), a.who, a.action, JSON.stringify(a.detail)]));
  }

  async function showPanels() {
    $("login").hidden = true;
    $("panels").hidden = false;
    $("logout").hidden = false;
    try {
      await Promise.all([loadReports(), loadEditorial()]);
      say("");
    } catch (error) {
      /* said already */
    }
  }

  function logout(message) {
    sessionStorage.removeItem(KEY);
    $("panels").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    say(message || "");
  }

  function isoOrNull(value) {
    return value ? new Date(value).toISOString() : null;
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    showPanels();
  });
  $("logout").addEventListener("click", () => logout("Déconnecté."));
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadReports().catch(() => {});
  });
  $("synonym-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await post("synonyms", { line: $("synonym-line").value });
    $("synonym-line").value = "";
    say("Règle ajoutée.");
    await loadEditorial();
  });
  $("pin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await post("pins", {
      query: $("pin-query").value,
      article_ids: $("pin-articles").value.split(",").map((s) => s.trim()).filter(Boolean),
      starts: isoOrNull($("pin-starts").value),
      ends: isoOrNull($("pin-ends").value),
    });
    say("Article(s) épinglé(s).");
    await loadEditorial();
  });

  if (sessionStorage.getItem(KEY)) showPanels();
})();
