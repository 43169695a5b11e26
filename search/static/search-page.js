/*
 * The search page (GET /): the box with suggestions, results as you type, the section facet, the
 * sort toggle and pagination, built from widget.js's parts (window.PresseSearch).
 *
 * The state lives in the URL (?q=…&section=…&sort=date&page=2&correct=false). History: a search
 * the reader asks for (Enter, a suggestion, a filter, the sort, a page) pushes an entry; typing
 * shows results after each pause and keeps the URL up to date with replaceState, on one entry per
 * typing spell (the first pause pushes it), so that back and forward step through the searches
 * that were made, not through every keystroke. The back button (popstate) renders the entry it
 * returns to; a shared URL renders its results on load. The page talks to the API beside it
 * (same origin, under its CSP).
 */
(function () {
  "use strict";

  const P = window.PresseSearch;
  const { el } = P;
  const PER_PAGE = 10;

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
      exact: params.get("correct") === "false", // the reader's words, not the API's correction
    };
  }

  /** The URL of a state; defaults are left out, so shared links stay short. */
  function urlOf(state) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    for (const section of state.sections) params.append("section", section);
    if (state.sort === "date") params.set("sort", "date");
    if (state.page > 1) params.set("page", String(state.page));
    if (state.exact) params.set("correct", "false");
    const query = params.toString();
    return query ? `?${query}` : window.location.pathname;
  }

  let state = readState(window.location.search);
  let renders = 0; // which render is the latest, so an older one does not clear its busy state
  let drafting = false; // whether the current history entry is the one typing keeps updating

  /** how: "push" (a search asked for), "type" (a pause in typing) or "replace". */
  function navigate(next, how = "push", focus = {}) {
    const url = urlOf(next);
    // Asking for the same search again should not add an entry the back button repeats.
    if (how === "replace" || (how === "type" && drafting) || url === urlOf(state)) {
      window.history.replaceState(null, "", url);
    } else {
      window.history.pushState(null, "", url);
    }
    drafting = how === "type";
    state = next;
    render(focus);
  }

  /** A new query: the sort order stays, the sections (chosen for the old words) go. */
  const newQuery = (q) => ({ q, sections: [], sort: state.sort, page: 1, exact: false });

  /** The state with the words the box holds now (a click on a filter keeps what was typed). */
  function current() {
    const typed = input.value.trim();
    typing.cancel();
    return typed === state.q ? state : newQuery(typed);
  }

  /** A plain click on one of our links navigates in place; other clicks do what browsers do. */
  function follow(event, next) {
    if (!P.isPlainClick(event)) return;
    event.preventDefault();
    navigate(next, "push", { results: true });
  }

  /* ---------- rendering ---------- */

  /** focus: {results: true} moves the focus to the results heading (after a page change). */
  async function render(focus = {}) {
    // The box is only rewritten when it holds other words: a reader typing "coupe " keeps the space.
    if (input.value.trim() !== state.q) input.value = state.q;
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
    const shown = state;
    results.setAttribute("aria-busy", "true");
    try {
      const data = await searches.get("search", {
        q: shown.q, section: shown.sections, sort: shown.sort, page: shown.page,
        per_page: PER_PAGE, correct: shown.exact ? "false" : null,
      });
      // A newer state is being rendered, or the reader has typed since: never show older words.
      if (!data || shown !== state || input.value.trim() !== shown.q) return;
      show(data);
      P.rendered(shown.q, data.total, typing.typedAt);
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
    const labels = data.section_labels || {};
    renderFacets(data.facets.section || [], labels);
    // Nothing to sort or filter when nothing matched, unless a ticked section is the reason.
    filters.hidden = !data.total && !state.sections.length;
    const shown = data.corrected_query || data.query;
    heading.textContent = data.total ? `${P.countLabel(data.total)} pour ${P.quoted(shown)}` : "";
    P.announce(P.summaryOf(data));
    if (P.isStopwordsOnly(data)) {
      body.replaceChildren(P.renderStopwords(data.query));
      return;
    }
    const correction = data.corrected_query
      ? P.renderCorrection(data.corrected_query, data.query,
        urlOf({ ...state, q: data.query, page: 1, exact: true }),
        (q) => navigate({ ...state, q, page: 1, exact: true }, "push", { results: true }))
      : null;
    // The suggested words start afresh: the sections ticked belonged to the misspelt ones.
    const dym = !correction && data.suggestion
      ? P.renderDidYouMean(data.suggestion, urlOf(newQuery(data.suggestion)),
        (q) => navigate(newQuery(q), "push", { results: true }))
      : null;
    if (!data.total) {
      body.replaceChildren(...[dym, P.renderEmpty(data.query, state.sections.length
        ? "Vérifiez l’orthographe, essayez des mots plus généraux ou retirez un filtre."
        : null)].filter(Boolean));
      return;
    }
    const hits = data.hits.length
      ? el("ol", { class: "ps-hits", start: (state.page - 1) * PER_PAGE + 1 },
        ...data.hits.map((hit) => P.renderHit(hit, api, labels)))
      : el("p", { class: "ps-note" }, `Il n’y a pas de page ${state.page} pour cette recherche.`);
    body.replaceChildren(...[correction, dym, hits, renderPager(data.total),
      P.renderCapNote(data.total, "ajoutez un mot, choisissez une rubrique ou triez par date.")]
      .filter(Boolean));
  }

  /** Section checkboxes with counts. The API counts before applying the section filter, so the
   * list stays put while filtering; a chosen section with no hit is kept so it can be unticked. */
  function renderFacets(facets, labels) {
    const shown = new Set(facets.map((facet) => facet.value));
    const extra = state.sections.filter((s) => !shown.has(s)).map((value) => ({ value, count: 0 }));
    facetGroup.hidden = !facets.length && !extra.length;
    // The boxes are rebuilt with every answer: a reader tabbing through them keeps their place.
    const focused = facetList.contains(document.activeElement) ? document.activeElement.value : null;
    facetList.replaceChildren(...[...facets, ...extra].map(({ value, count, label }) => {
      const box = el("input", {
        type: "checkbox", id: P.nextId("section"), value, checked: state.sections.includes(value),
      });
      box.addEventListener("change", () => {
        const base = current();
        const sections = box.checked
          ? [...base.sections, value]
          : base.sections.filter((s) => s !== value);
        box.focus(); // Safari does not focus a checkbox on click; the rebuild follows the focus
        navigate({ ...base, sections, page: 1 });
      });
      return el("li", { class: "facet" }, box, el("label", { for: box.id },
        el("span", { class: "facet__name" }, labels[value] || label || value),
        el("span", { class: "facet__count" }, P.formatNumber(count))));
    }));
    if (focused !== null) {
      [...facetList.querySelectorAll("input")].find((box) => box.value === focused)?.focus();
    }
  }

  /** ‹ Précédent 1 … 4 5 6 … 12 Suivant ›: real links, so they open in new tabs too. */
  function renderPager(total) {
    const last = Math.ceil(Math.min(total, P.MAX_WINDOW) / PER_PAGE);
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
      const here = el("span", { class: "pager__current", "aria-current": "page" }, String(page));
      items.push(page === state.page
        ? el("li", {}, here)
        : link(page, String(page), { "aria-label": `Page ${page}` }));
      previous = page;
    }
    if (state.page < last) items.push(link(state.page + 1, "Suivant ›", { rel: "next" }));
    const nav = el("nav", { class: "pager", "aria-label": "Pages de résultats" });
    nav.append(el("ol", {}, ...items));
    return nav;
  }

  /* ---------- wiring ---------- */

  const combobox = new P.Combobox(input, api, (q) => {
    typing.cancel();
    navigate(newQuery(q));
  });
  // Results as the reader types: an answer still on its way is dropped at every keystroke.
  const typing = new P.Typing(input, () => searches.cancel(), (typed) => {
    if (typed === state.q || (typed && typed.length < P.MIN_PREFIX)) return;
    navigate(newQuery(typed), "type");
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    combobox.submit(input.value);
  });
  for (const radio of document.querySelectorAll("input[name=sort]")) {
    radio.addEventListener("change", () => navigate({ ...current(), sort: radio.value, page: 1 }));
  }
  window.addEventListener("popstate", () => {
    typing.cancel();
    drafting = false;
    state = readState(window.location.search);
    render();
  });
  render();
}());
