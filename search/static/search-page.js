/*
 * The search page (GET /): the box with suggestions, results, the section facet, the sort toggle
 * and pagination, built from widget.js's parts (window.PresseSearch).
 *
 * The state lives in the URL (?q=…&section=…&sort=date&page=2). Every change pushes a history
 * entry and renders it; the back button (popstate) renders the entry it returns to; a shared URL
 * renders its results on load. The page talks to the API beside it (same origin, under its CSP).
 */
(function () {
  "use strict";

  const P = window.PresseSearch;
  const { el } = P;
  const PER_PAGE = 10;
  const MAX_WINDOW = 1000; // the API refuses page × per_page beyond this

  const api = new P.Api(new URL(".", window.location.href).href);
  const searches = new P.Latest(api);
  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const input = $("q");
  const filters = $("filters");
  const facetGroup = $("facets");
  const facetList = $("facet-list");
  const hint = $("hint");
  const results = $("results");
  const heading = $("results-heading");
  const body = $("results-body");

  /* ---------- state <-> URL ---------- */

  function readState(search) {
    const params = new URLSearchParams(search);
    const page = Number(params.get("page"));
    return {
      q: (params.get("q") || "").trim(),
      sections: [...new Set(params.getAll("section").filter(Boolean))],
      sort: params.get("sort") === "date" ? "date" : "relevance",
      page: Number.isInteger(page) && page > 0 ? page : 1,
    };
  }

  /** The URL of a state; defaults are left out, so shared links stay short. */
  function urlOf(state) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    for (const section of state.sections) params.append("section", section);
    if (state.sort === "date") params.set("sort", "date");
    if (state.page > 1) params.set("page", String(state.page));
    const query = params.toString();
    return query ? `?${query}` : window.location.pathname;
  }

  let state = readState(window.location.search);
  let renders = 0; // which render is the latest, so an older one does not clear its busy state

  function navigate(next, focus) {
    const url = urlOf(next);
    // Submitting the same search again should not add a history entry the back button repeats.
    if (url === urlOf(state)) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
    state = next;
    render(focus);
  }

  /** A plain click on one of our links navigates in place; other clicks do what browsers do. */
  function follow(event, next) {
    if (!P.isPlainClick(event)) return;
    event.preventDefault();
    navigate(next, { results: true });
  }

  /* ---------- rendering ---------- */

  /** focus: {results: true} moves the focus to the results heading (after a page change). */
  async function render(focus = {}) {
    input.value = state.q;
    for (const radio of document.querySelectorAll("input[name=sort]")) {
      radio.checked = radio.value === state.sort;
    }
    document.title = state.q ? `${state.q} — Recherche — Presse` : "Recherche — Presse";
    hint.hidden = Boolean(state.q);
    if (!state.q) {
      renders += 1;
      searches.cancel();
      results.removeAttribute("aria-busy");
      filters.hidden = true;
      heading.textContent = "";
      body.replaceChildren();
      return;
    }
    const ticket = (renders += 1);
    results.setAttribute("aria-busy", "true");
    try {
      const data = await searches.get("search", {
        q: state.q, section: state.sections, sort: state.sort, page: state.page, per_page: PER_PAGE,
      });
      if (!data) return; // a newer state is being rendered
      show(data);
    } catch (error) {
      filters.hidden = true;
      heading.textContent = "";
      body.replaceChildren(P.renderError(error, () => render()));
    } finally {
      if (ticket === renders) results.removeAttribute("aria-busy");
    }
    if (focus.results) heading.focus();
  }

  function show(data) {
    renderFacets(data.facets.section || []);
    // Nothing to sort or filter when nothing matched, unless a ticked section is the reason.
    filters.hidden = !data.total && !state.sections.length;
    const summary = data.total
      ? `${P.countLabel(data.total)} pour ${P.quoted(data.query)}`
      : `Aucun résultat pour ${P.quoted(data.query)}`;
    heading.textContent = data.total ? summary : "";
    P.announce(summary);
    // The corrected query starts afresh: the sections ticked belonged to the misspelt one.
    const corrected = (q) => ({ ...state, q, sections: [], page: 1 });
    const dym = data.suggestion
      ? P.renderDidYouMean(data.suggestion, urlOf(corrected(data.suggestion)),
        (q) => navigate(corrected(q), { results: true }))
      : "";
    if (!data.total) {
      body.replaceChildren(dym, P.renderEmpty(data.query));
      return;
    }
    const hits = data.hits.length
      ? el("ol", { class: "ps-hits", start: (state.page - 1) * PER_PAGE + 1 },
        ...data.hits.map((hit) => P.renderHit(hit, api)))
      : el("p", { class: "ps-note" }, `Il n’y a pas de page ${state.page} pour cette recherche.`);
    body.replaceChildren(dym, hits, renderPager(data.total) || "");
  }

  /** Section checkboxes with counts. The API counts before applying the section filter, so the
   * list stays put while filtering; a chosen section with no hit is kept so it can be unticked. */
  function renderFacets(facets) {
    const shown = new Set(facets.map((facet) => facet.value));
    const extra = state.sections.filter((s) => !shown.has(s)).map((value) => ({ value, count: 0 }));
    facetGroup.hidden = !facets.length && !extra.length;
    // The boxes are rebuilt with every answer: a reader tabbing through them keeps their place.
    const focused = facetList.contains(document.activeElement) ? document.activeElement.value : null;
    facetList.replaceChildren(...[...facets, ...extra].map(({ value, count }) => {
      const box = el("input", {
        type: "checkbox", id: P.nextId("section"), value, checked: state.sections.includes(value),
      });
      box.addEventListener("change", () => {
        const sections = box.checked
          ? [...state.sections, value]
          : state.sections.filter((s) => s !== value);
        box.focus(); // Safari does not focus a checkbox on click; the rebuild follows the focus
        navigate({ ...state, sections, page: 1 });
      });
      return el("li", { class: "facet" }, box, el("label", { for: box.id },
        el("span", { class: "facet__name" }, value),
        el("span", { class: "facet__count" }, P.formatNumber(count))));
    }));
    if (focused !== null) {
      [...facetList.querySelectorAll("input")].find((box) => box.value === focused)?.focus();
    }
  }

  /** ‹ Précédent 1 … 4 5 6 … 12 Suivant ›: real links, so they open in new tabs too. */
  function renderPager(total) {
    const last = Math.ceil(Math.min(total, MAX_WINDOW) / PER_PAGE);
    if (last <= 1) return null;
    const link = (page, label, attrs) => {
      const next = { ...state, page };
      const a = el("a", { class: "pager__link", href: urlOf(next), ...attrs }, label);
      a.addEventListener("click", (event) => follow(event, next));
      return el("li", {}, a);
    };
    const items = [];
    if (state.page > 1) items.push(link(state.page - 1, "‹ Précédent", { rel: "prev" }));
    let previous = 0;
    for (let page = 1; page <= last; page += 1) {
      if (page !== 1 && page !== last && Math.abs(page - state.page) > 1) continue;
      if (page > previous + 1) items.push(el("li", { class: "pager__gap" }, "…"));
      const current = el("span", { class: "pager__current", "aria-current": "page" }, String(page));
      items.push(page === state.page
        ? el("li", {}, current)
        : link(page, String(page), { "aria-label": `Page ${page}` }));
      previous = page;
    }
    if (state.page < last) items.push(link(state.page + 1, "Suivant ›", { rel: "next" }));
    const nav = el("nav", { class: "pager", "aria-label": "Pages de résultats" });
    nav.append(el("ol", {}, ...items));
    return nav;
  }

  /* ---------- wiring ---------- */

  // A new query keeps the sort order but drops the sections, which belonged to the old query.
  const combobox = new P.Combobox(input, api,
    (q) => navigate({ q, sections: [], sort: state.sort, page: 1 }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    combobox.submit(input.value);
  });
  for (const radio of document.querySelectorAll("input[name=sort]")) {
    radio.addEventListener("change", () => navigate({ ...state, sort: radio.value, page: 1 }));
  }
  window.addEventListener("popstate", () => {
    state = readState(window.location.search);
    render();
  });
  render();
}());
