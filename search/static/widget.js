/*
 * presse-search: the search box a news site embeds, and the parts the search page (/) reuses.
 *
 *   <script src="https://search.example/widget.js" data-endpoint="https://search.example"
 *           data-input="#site-search" defer></script>
 *
 *   data-endpoint   base URL of the search API (default: the server widget.js came from)
 *   data-input      CSS selector of the site's own <input> to attach to (default: the widget
 *                   renders its own box where the script tag is)
 *   data-autostart  "false" only defines window.PresseSearch (what the search page does)
 *
 * Drop-in safety: everything the widget draws lives in Shadow DOM (the site's CSS cannot reach
 * it, and it resets what would inherit), sized in px (the site's root font size does not matter),
 * and its results panel hangs off <body> with fixed coordinates taken from the input (the site's
 * header layout, `overflow: hidden` included, cannot clip it or grow because of it).
 *
 * Safety: title_html and snippet_html are the only strings the API marks up, and even they never
 * reach innerHTML: `markedText` builds DOM nodes from them, honouring <mark> and nothing else.
 * Every other string goes in as text, and links only ever get http(s) URLs. No inline style or
 * script is ever created (positions are set through the CSSOM), so a strict CSP is enough.
 *
 * Every rendering of results dispatches a "presse-search:rendered" event on `document`, whose
 * detail says which query was shown and how long after the last keystroke (the typing benchmark
 * and the tests listen to it).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const DEBOUNCE_MS = 150; // one request per pause in typing, not one per keystroke
  const TIMEOUT_MS = 8000;
  const MIN_PREFIX = 2; // one letter completes to half the dictionary, and matches everything
  const PER_PAGE = 10;
  const MAX_WINDOW = 1000; // the API refuses page × per_page beyond this
  const MAX_ARTICLES = 3; // article titles in the suggestion list, beside the completions
  const SHEET_MAX_WIDTH = 640; // at or under this viewport width the panel is a full-width sheet
  const POPOVER_WIDTH = 640;
  const MARGIN = 8; // between the panel and the viewport's edges

  /* ---------- French formatting ---------- */

  // The newsroom's time zone, so an article posted at 00:30 in Casablanca keeps its date.
  const dateFormat = new Intl.DateTimeFormat("fr-FR", {
    day: "numeric", month: "long", year: "numeric", timeZone: "Africa/Casablanca",
  });
  const numberFormat = new Intl.NumberFormat("fr-FR"); // "1 234": a narrow no-break space
  const NBSP = "\u00a0";

  /** "12 mars 2020"; French writes the first of the month as an ordinal ("1er mars 2020"). */
  function formatDate(iso) {
    const date = new Date(iso || "");
    if (Number.isNaN(date.getTime())) return "";
    return dateFormat.formatToParts(date)
      .map((part) => (part.type === "day" && part.value === "1" ? "1er" : part.value))
      .join("");
  }

  const formatNumber = (n) => numberFormat.format(n);

  /** "0 résultat", "1 résultat", "1 234 résultats": French keeps 0 and 1 singular. */
  function countLabel(n) {
    return `${formatNumber(n)} résultat${n > 1 ? "s" : ""}`;
  }

  const quoted = (text) => `«${NBSP}${text}${NBSP}»`;

  /* ---------- DOM helpers ---------- */

  let lastId = 0;
  const nextId = (prefix) => `ps-${prefix}-${(lastId += 1)}`;

  /** el("a", {class: "x", href}, "text", child): strings become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  /** The URL if it is http(s), else null: a `javascript:` URL in a record must not be a link. */
  function safeHref(url) {
    if (!url) return null;
    try {
      const parsed = new URL(url, document.baseURI);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  // Exactly what the API's escaping (Python's html.escape) emits; anything else stays as written.
  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'" };
  const decodeEntities = (text) => text.replace(/&(?:amp|lt|gt|quot|#x27);/g, (e) => ENTITIES[e]);

  /**
   * Fills `node` from the API's escaped text with <mark>…</mark> around matched words. Only the
   * exact strings "<mark>" and "</mark>" become elements; anything else, even something that looks
   * like a tag, stays visible text. No HTML parser ever sees the string.
   */
  function markedText(node, html) {
    let target = node;
    for (const part of String(html || "").split(/(<mark>|<\/mark>)/)) {
      if (part === "<mark>") target = node.appendChild(el("mark"));
      else if (part === "</mark>") target = node;
      else if (part) target.append(decodeEntities(part));
    }
    return node;
  }

  /**
   * A polite live region inside `parent`, so screen readers hear counts without moving focus.
   * It is created at once: a region must exist before it speaks, or screen readers miss the first.
   */
  function liveRegion(parent) {
    const region = el("div", { class: "ps-visually-hidden", role: "status" });
    parent.append(region);
    return (text) => { region.textContent = text; };
  }

  /** The page's own live region (the widget has one in its Shadow DOM). */
  let pageAnnounce = null;
  function announce(text) {
    pageAnnounce = pageAnnounce || liveRegion(document.body);
    pageAnnounce(text);
  }

  /** Tells listeners (the typing benchmark, the tests) that results for `query` are on screen. */
  function rendered(query, total, typedAt) {
    const now = performance.now();
    document.dispatchEvent(new CustomEvent("presse-search:rendered", {
      detail: { query, total, at: now, sinceKeystroke: typedAt ? now - typedAt : null },
    }));
  }

  /* ---------- the API ---------- */

  /** kind: "unavailable" (network, CORS refusal, timeout, 5xx) or "invalid" (4xx). */
  class ApiError extends Error {
    constructor(kind, status) {
      super(`${kind} (${status})`);
      this.kind = kind;
      this.status = status;
    }
  }

  class Api {
    constructor(endpoint) {
      const base = String(endpoint);
      this.base = new URL(base.endsWith("/") ? base : `${base}/`, document.baseURI);
      this.diagnosed = false;
    }

    url(path, params) {
      const url = new URL(path, this.base);
      for (const [name, value] of Object.entries(params || {})) {
        for (const one of [].concat(value)) {
          if (one !== undefined && one !== null && one !== "") url.searchParams.append(name, one);
        }
      }
      return url;
    }

    /** JSON of GET path?params. Rejects with ApiError, or with an AbortError if `signal` fired. */
    async get(path, params, signal) {
      const controller = new AbortController();
      const abort = () => controller.abort();
      signal?.addEventListener("abort", abort);
      const timer = setTimeout(abort, TIMEOUT_MS);
      try {
        // A simple CORS request (no custom header, no cookie), so no preflight round trip.
        const resp = await fetch(this.url(path, params), {
          signal: controller.signal, credentials: "omit",
        });
        const kind = resp.status >= 500 ? "unavailable" : "invalid";
        if (!resp.ok) throw new ApiError(kind, resp.status);
        return await resp.json();
      } catch (error) {
        if (signal?.aborted || error instanceof ApiError) throw error;
        if (!controller.signal.aborted) this.diagnose();
        throw new ApiError("unavailable", 0);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      }
    }

    /**
     * Tells the site's developer, once, why the API gave no answer. A browser hides the reason of
     * a CORS refusal from scripts, so the service is asked again without CORS (an opaque answer
     * for its stylesheet): if that arrives, the service is up and refused this page's origin.
     */
    async diagnose() {
      if (this.diagnosed) return;
      this.diagnosed = true;
      const origin = window.location.origin;
      if (this.base.origin === origin) return; // same origin: no CORS involved; the page says so
      try {
        await fetch(new URL("widget.css", this.base), {
          mode: "no-cors", credentials: "omit", cache: "no-store",
        });
        console.error(`presse-search: the search service at ${this.base.origin} refused requests `
          + `from this page's origin, ${origin}. Add it to PRESSE_CORS_ORIGINS on the service `
          + `(e.g. PRESSE_CORS_ORIGINS=${origin}) and restart it.`);
      } catch (error) {
        console.error(`presse-search: no answer from the search service at ${this.base.href}. `
          + "Is it running, and does this page's Content-Security-Policy allow it in connect-src?");
      }
    }
  }

  /**
   * One request in flight per purpose. Starting one aborts the previous, and an answer that comes
   * back after a newer request started (or after `cancel()`) resolves to undefined: typing fast
   * never shows the suggestions of an old prefix, nor a slow old query's results over a newer one's.
   */
  class Latest {
    constructor(api) {
      this.api = api;
      this.seq = 0;
      this.controller = null;
    }

    cancel() {
      this.seq += 1;
      this.controller?.abort();
      this.controller = null;
    }

    async get(path, params) {
      this.cancel();
      const seq = this.seq;
      this.controller = new AbortController();
      try {
        const data = await this.api.get(path, params, this.controller.signal);
        return seq === this.seq ? data : undefined;
      } catch (error) {
        if (seq !== this.seq) return undefined;
        throw error;
      }
    }
  }

  /**
   * Calls `onPause(text)` ~150 ms after the reader stops typing, and `onKey()` at every keystroke
   * (where callers drop answers still on their way: none may be rendered after a newer keystroke).
   * `typedAt` is the performance.now() of the last keystroke.
   */
  class Typing {
    constructor(input, onKey, onPause) {
      this.timer = 0;
      this.typedAt = 0;
      this.onPause = onPause;
      input.addEventListener("input", () => {
        this.typedAt = performance.now();
        clearTimeout(this.timer);
        onKey();
        const text = input.value.trim();
        this.timer = setTimeout(() => onPause(text), DEBOUNCE_MS);
      });
    }

    cancel() {
      clearTimeout(this.timer);
    }
  }

  /* ---------- suggestions: the ARIA 1.2 combobox pattern ---------- */

  /** How many characters of `text` the reader typed: the API's `typed` (a string or a length),
   * else the prefix's length. The rest is the completion, shown in bold. */
  function typedLength(completion, prefix) {
    const typed = completion.typed;
    const length = typeof typed === "number" ? typed
      : typeof typed === "string" ? typed.length : prefix.length;
    return Math.max(0, Math.min(length, completion.text.length));
  }

  /** The /suggest answer as options: the query completions, then up to 3 article titles. Uses
   * `completions` and `articles` when the API gives them, else the plain `suggestions`. */
  function suggestionItems(data, prefix) {
    const completions = Array.isArray(data.completions)
      ? data.completions.filter((c) => c && c.text)
      : (data.suggestions || []).map((text) => ({ text }));
    const labels = data.section_labels || {};
    // The same article can come with several completions: it is offered once.
    const seen = new Set();
    const articles = (data.articles || [])
      .filter((a) => a && a.title && !seen.has(a.id || a.url) && seen.add(a.id || a.url))
      .slice(0, MAX_ARTICLES);
    return [
      ...completions.map((c) => ({ kind: "query", text: c.text, typed: typedLength(c, prefix) })),
      ...articles.map((a) => ({
        kind: "article", text: a.title, url: safeHref(a.url),
        section: [].concat(a.section || []).map((s) => labels[s] || s).join(", "),
      })),
    ];
  }

  /**
   * Suggestions under a search input. Where the input and the list share a document tree, the
   * input keeps the focus and points at the highlighted option with aria-activedescendant; where
   * they do not (the widget's list is in its Shadow DOM, the site's input is not, and ID references
   * do not cross that boundary), the highlighted option is read out through the live region.
   *
   * options.container: where the list goes (default <body>, placed under the input: it works
   * whatever the layout around the input); options.floating: false for a list laid out in place;
   * options.announce: the live region to speak through; options.onEscape: returns true when it
   * handled Escape; options.onArticle: called with an article option that was chosen;
   * options.limit: how many completions to ask for (6).
   */
  class Combobox {
    constructor(input, api, onSubmit, options = {}) {
      this.input = input;
      this.onSubmit = onSubmit;
      this.announce = options.announce || announce;
      this.onEscape = options.onEscape || (() => false);
      this.onArticle = options.onArticle || ((item) => window.location.assign(item.url));
      this.floating = options.floating !== false;
      this.limit = options.limit || 6;
      this.requests = new Latest(api);
      this.items = [];
      this.active = -1;
      this.listbox = el("ul", {
        class: `ps-listbox${this.floating ? "" : " ps-listbox--inline"}`, id: nextId("listbox"),
        role: "listbox", "aria-label": "Suggestions", hidden: true,
      });
      (options.container || document.body).append(this.listbox);
      this.sameTree = input.getRootNode() === this.listbox.getRootNode();
      this.announce("");
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("autocomplete", "off");
      if (this.sameTree) input.setAttribute("aria-controls", this.listbox.id);
      this.typing = new Typing(input, () => this.onKeystroke(), (prefix) => this.load(prefix));
      input.addEventListener("keydown", (event) => this.onKey(event));
      input.addEventListener("blur", () => this.close());
      // A mousedown would blur the input, closing the list before the click lands on an option.
      this.listbox.addEventListener("mousedown", (event) => event.preventDefault());
      const indexOf = (event) => Number(event.target.closest("[role=option]")?.dataset.index ?? -1);
      this.listbox.addEventListener("click", (event) => {
        if (indexOf(event) >= 0) this.choose(indexOf(event));
      });
      this.listbox.addEventListener("mousemove", (event) => {
        if (indexOf(event) !== this.active) this.highlight(indexOf(event));
      });
      if (this.floating) window.addEventListener("resize", () => this.place());
    }

    get isOpen() {
      return !this.listbox.hidden;
    }

    get options() {
      return [...this.listbox.querySelectorAll("[role=option]")];
    }

    /** The open list stays up while the reader types (no flicker); its options change when the
     * answer for the new text arrives. An answer for older text is dropped at once. */
    onKeystroke() {
      this.requests.cancel();
      this.highlight(-1);
      if (this.input.value.trim().length < MIN_PREFIX) this.close();
    }

    async load(prefix) {
      if (prefix.length < MIN_PREFIX) return;
      try {
        const data = await this.requests.get("suggest", { q: prefix, limit: this.limit });
        if (data) this.open(suggestionItems(data, prefix));
      } catch (error) {
        this.close(); // suggestions are a convenience: without them, searching still works
      }
    }

    open(items) {
      this.items = items;
      const option = (item, index) => el("li", {
        class: `ps-option ps-option--${item.kind}`, id: `${this.listbox.id}-${index}`,
        role: "option", "aria-selected": "false", "data-index": index,
      }, ...(item.kind === "article"
        ? [el("span", { class: "ps-option__title" }, item.text),
          // A comma for screen readers (and copied text) between the title and its section.
          item.section ? el("span", { class: "ps-visually-hidden" }, ", ") : null,
          item.section ? el("span", { class: "ps-option__section" }, item.section) : null]
        : [item.text.slice(0, item.typed), el("b", {}, item.text.slice(item.typed))]));
      const queries = items.filter((item) => item.kind === "query");
      const articles = items.filter((item) => item.kind === "article");
      const groupLabel = el("li", {
        class: "ps-listbox__label", role: "presentation", id: nextId("articles"),
      }, "Articles");
      this.listbox.replaceChildren(...queries.map((item) => option(item, items.indexOf(item))));
      if (articles.length) {
        this.listbox.append(el("li", { role: "presentation", class: "ps-listbox__group" },
          el("ul", { role: "group", "aria-labelledby": groupLabel.id },
            groupLabel, ...articles.map((item) => option(item, items.indexOf(item))))));
      }
      if (!items.length || this.input.getRootNode().activeElement !== this.input) {
        return this.close();
      }
      this.listbox.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
      this.highlight(-1);
      this.place();
      const plural = items.length > 1 ? "s" : "";
      this.announce(`${items.length} suggestion${plural}, flèches haut et bas pour choisir.`);
    }

    close() {
      this.typing.cancel();
      this.requests.cancel();
      this.listbox.hidden = true;
      this.input.setAttribute("aria-expanded", "false");
      this.highlight(-1);
    }

    place() {
      if (!this.isOpen || !this.floating) return;
      const box = this.input.getBoundingClientRect();
      this.listbox.style.left = `${box.left + window.scrollX}px`;
      this.listbox.style.top = `${box.bottom + window.scrollY}px`;
      this.listbox.style.width = `${box.width}px`;
    }

    highlight(index) {
      this.active = index;
      const options = this.options;
      for (const option of options) {
        option.setAttribute("aria-selected", String(Number(option.dataset.index) === index));
      }
      const option = options.find((one) => Number(one.dataset.index) === index);
      if (option && this.sameTree) this.input.setAttribute("aria-activedescendant", option.id);
      else this.input.removeAttribute("aria-activedescendant");
      if (option) {
        option.scrollIntoView({ block: "nearest" });
        if (!this.sameTree) this.announce(`${option.textContent}, ${index + 1} sur ${options.length}`);
      }
    }

    onKey(event) {
      if (event.isComposing) return;
      const count = this.items.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) return;
        event.preventDefault();
        if (!this.isOpen) this.open(this.items);
        // Steps through "nothing highlighted" (-1) too, so the reader can get back to the text.
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.highlight(((this.active + 1 + step + count + 1) % (count + 1)) - 1);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (this.isOpen && this.active >= 0) this.choose(this.active);
        else this.submit(this.input.value);
      } else if (event.key === "Escape") {
        if (this.onEscape()) {
          event.preventDefault();
          this.close();
        } else if (this.isOpen) {
          event.preventDefault();
          this.close();
        } else if (this.input.value) {
          event.preventDefault();
          this.input.value = "";
        }
      } else if (event.key === "Tab") {
        this.close();
      }
    }

    choose(index) {
      const item = this.items[index];
      if (item.kind === "article") {
        this.close();
        if (item.url) this.onArticle(item);
        return;
      }
      this.input.value = item.text;
      this.submit(this.input.value);
    }

    submit(query) {
      this.close(); // also drops a suggestion answer still on its way
      this.onSubmit(query.trim());
    }
  }

  /* ---------- results, shared by the widget and the search page ---------- */

  /** A section's name for readers: the site's label (the API's section_labels) or the slug. */
  function sectionLabel(labels, slug) {
    return (labels && labels[slug]) || slug;
  }

  /** The sections above the title, as news sites print them ("ÉCONOMIE, SOCIÉTÉ"). */
  function renderKicker(hit, labels) {
    if (!hit.section?.length) return null;
    return el("p", { class: "ps-hit__section" },
      hit.section.map((slug) => sectionLabel(labels, slug)).join(", "));
  }

  /** "27 septembre 2022 · Omar Berrada" */
  function renderMeta(hit) {
    const date = formatDate(hit.published);
    return el("p", { class: "ps-hit__meta" },
      date ? el("time", { datetime: hit.published }, date) : null,
      hit.author ? el("span", { class: "ps-hit__author" }, hit.author) : null);
  }

  /** The article's title, a link when its URL is http(s); title_html when the API marked it. */
  function renderTitle(hit, tag, className) {
    const href = safeHref(hit.url);
    const link = el(href ? "a" : "span", { class: `${className}__link`, href });
    if (hit.title_html) markedText(link, hit.title_html);
    else link.textContent = hit.title;
    return el(tag, { class: className }, link);
  }

  function renderHit(hit, api, labels) {
    return el("li", { class: "ps-hit" },
      renderKicker(hit, labels),
      renderTitle(hit, "h3", "ps-hit__title"),
      renderMeta(hit),
      hit.snippet_html ? markedText(el("p", { class: "ps-hit__snippet" }), hit.snippet_html) : null,
      renderSimilar(hit, api));
  }

  /** "Articles similaires": a disclosure button; the list is fetched when first opened. */
  function renderSimilar(hit, api) {
    const panel = el("div", { class: "ps-similar", id: nextId("similar"), hidden: true });
    const button = el("button", {
      type: "button", class: "ps-similar__toggle", "aria-expanded": "false",
      "aria-controls": panel.id,
    }, "Articles similaires");
    let loaded = false;
    button.addEventListener("click", async () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
      if (!open || loaded) return;
      loaded = true;
      panel.replaceChildren(el("p", { class: "ps-note" }, "Chargement…"));
      try {
        const data = await api.get(`articles/${encodeURIComponent(hit.id)}/similar`, { limit: 4 });
        panel.replaceChildren(data.hits.length
          ? el("ul", { class: "ps-similar__list" }, ...data.hits.map((similar) => el("li", {},
            renderTitle(similar, "p", "ps-similar__title"), renderMeta(similar))))
          : el("p", { class: "ps-note" }, "Aucun article similaire."));
      } catch (error) {
        loaded = false; // try again on the next opening
        panel.replaceChildren(el("p", { class: "ps-note" },
          "Les articles similaires ne sont pas disponibles pour le moment."));
      }
    });
    return el("div", { class: "ps-hit__more" }, button, panel);
  }

  /** A plain click: one that should stay in the page, not open a new tab or window. */
  function isPlainClick(event) {
    return event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey);
  }

  /** A real link (href, so it opens in a new tab too) that runs `follow()` on a plain click. */
  function inPageLink(attrs, text, follow) {
    const link = el("a", attrs, text);
    link.addEventListener("click", (event) => {
      if (!isPlainClick(event)) return;
      event.preventDefault();
      follow();
    });
    return link;
  }

  /** "Vouliez-vous dire : … ?" */
  function renderDidYouMean(suggestion, href, follow) {
    const link = inPageLink({ class: "ps-dym__link", href }, suggestion, () => follow(suggestion));
    return el("p", { class: "ps-dym" }, `Vouliez-vous dire${NBSP}: `, link, `${NBSP}?`);
  }

  /** "Résultats pour inflation — rechercher plutôt inflasion": the API corrected the query. */
  function renderCorrection(corrected, original, href, follow) {
    const link = inPageLink({ class: "ps-correction__link", href }, original, () => follow(original));
    return el("p", { class: "ps-correction" },
      "Résultats pour ", el("strong", {}, corrected), ` — rechercher plutôt `, link);
  }

  /** What the live region says about an answer (the correction included). */
  function summaryOf(data) {
    if (isStopwordsOnly(data)) return stopwordsTitle(data.query);
    const shown = data.corrected_query || data.query;
    const summary = data.total
      ? `${countLabel(data.total)} pour ${quoted(shown)}`
      : `Aucun résultat pour ${quoted(shown)}`;
    return data.corrected_query
      ? `${summary}, au lieu de ${quoted(data.query)} (lien pour rechercher plutôt ${quoted(data.query)}).`
      : summary;
  }

  /** A query of stop words only ("les", "comment pourquoi"): the API flags it; an older API
   * that does not may still say its analysed query was empty. */
  function isStopwordsOnly(data) {
    if (data.stopwords_only === true) return true;
    return !data.total && typeof data.analysed_query === "string" && !data.analysed_query.trim();
  }

  const stopwordsTitle = (query) => `${quoted(query)} ne contient que des mots trop courants`;

  function renderStopwords(query) {
    return el("div", { class: "ps-message ps-message--stopwords" },
      el("p", { class: "ps-message__title" }, stopwordsTitle(query)),
      el("p", {}, "Des mots comme «\u00a0les\u00a0», «\u00a0du\u00a0» ou «\u00a0comment\u00a0» "
        + "se trouvent dans presque tous les articles. Ajoutez un mot plus précis, "
        + "par exemple un nom, un lieu ou un sujet."));
  }

  /** hint: what the reader can try, which depends on where the box is (no filters in the widget). */
  function renderEmpty(query, hint) {
    return el("div", { class: "ps-message" },
      el("p", { class: "ps-message__title" }, `Aucun résultat pour ${quoted(query)}`),
      el("p", {}, hint || "Vérifiez l’orthographe ou essayez des mots plus généraux."),
    );
  }

  /** Under the last reachable results when there are more than the API pages through. */
  function renderCapNote(total, how) {
    if (total <= MAX_WINDOW) return null;
    return el("p", { class: "ps-note ps-cap" },
      `Seuls les ${formatNumber(MAX_WINDOW)} premiers des ${countLabel(total)} sont consultables. `
      + `Pour aller plus loin, précisez la recherche${how ? ` : ${how}` : "."}`);
  }

  function renderError(error, retry) {
    const unavailable = !(error instanceof ApiError) || error.kind === "unavailable";
    const button = el("button", { type: "button", class: "ps-button ps-button--quiet" },
      "Réessayer");
    button.addEventListener("click", retry);
    return el("div", { class: "ps-message ps-message--error", role: "alert" },
      el("p", { class: "ps-message__title" }, unavailable
        ? "Le service de recherche ne répond pas."
        : "Cette recherche n’a pas pu être traitée."),
      el("p", {}, unavailable
        ? "Réessayez dans un instant."
        : "Raccourcissez-la ou reformulez-la, puis relancez la recherche."),
      unavailable ? button : null);
  }

  /* ---------- the embedded widget ---------- */

  /** A <presse-search> element with an open shadow root holding widget.css and a reset root. */
  function shadowLayer(stylesheet, className) {
    const host = document.createElement("presse-search");
    const shadow = host.attachShadow({ mode: "open" });
    const root = el("div", { class: `ps-root ${className}` });
    shadow.append(el("link", { rel: "stylesheet", href: stylesheet }), root);
    return { host, root };
  }

  /**
   * The widget on a site's page: its input (or its own box), and one panel under it holding the
   * suggestions and the results, which follow the typing. The panel is a popover under the box on
   * wide screens and a full-width sheet from the box to the bottom of the screen on phones (the
   * reader keeps seeing what they type). Escape or a click outside closes it.
   */
  class Widget {
    constructor(tag) {
      const options = tag.dataset;
      const base = new URL(".", tag.src).href;
      this.stylesheet = new URL("widget.css", tag.src).href;
      this.api = new Api(options.endpoint || base);
      this.searches = new Latest(this.api);
      this.query = "";
      this.exact = false;
      this.hasAnswer = false; // whether the panel holds results worth reopening
      this.input = (options.input && document.querySelector(options.input)) || this.renderBox(tag);
      this.renderPanel();
      this.combobox = new Combobox(this.input, this.api, (query) => this.commit(query), {
        // 4 completions and 3 articles leave the first result on a phone's first screen.
        container: this.suggestSlot, floating: false, announce: this.announce, limit: 4,
        onEscape: () => this.close(true),
      });
      this.typing = new Typing(this.input, () => this.searches.cancel(), (text) => this.live(text));
      this.wire();
    }

    renderBox(tag) {
      const { host, root } = shadowLayer(this.stylesheet, "ps-root--box");
      const input = el("input", {
        class: "ps-input", type: "search", id: nextId("q"), name: "q", maxlength: 500,
        placeholder: "Rechercher un article",
      });
      root.append(el("form", { class: "ps-box", role: "search" },
        el("label", { class: "ps-visually-hidden", for: input.id }, "Rechercher sur le site"),
        input,
        el("button", { class: "ps-button", type: "submit" }, "Rechercher")));
      if (tag.closest("body")) tag.before(host);
      else document.body.prepend(host);
      return input;
    }

    renderPanel() {
      const { host, root } = shadowLayer(this.stylesheet, "ps-root--layer");
      this.host = host;
      this.announce = liveRegion(root);
      this.count = el("p", { class: "ps-count" });
      const close = el("button", { type: "button", class: "ps-panel__close" }, "Fermer");
      close.addEventListener("click", () => this.close(true));
      this.suggestSlot = el("div", { class: "ps-panel__suggest" });
      this.body = el("div", { class: "ps-panel__body" });
      this.panel = el("section", {
        class: "ps-panel", "aria-label": "Résultats de la recherche", hidden: true,
      }, el("div", { class: "ps-panel__header" }, this.count, close), this.suggestSlot, this.body);
      root.append(this.panel);
      document.body.append(host);
    }

    wire() {
      const form = this.input.form;
      // The site's form would otherwise navigate away to its own search page.
      form?.addEventListener("submit", (event) => {
        event.preventDefault();
        this.combobox.submit(this.input.value);
      });
      // A click on a box that already has results brings them back.
      this.input.addEventListener("click", () => {
        if (this.hasAnswer && this.query === this.input.value.trim()) this.open();
      });
      // Closes on a press anywhere else: the site's page, not the box, its form or the panel.
      document.addEventListener("pointerdown", (event) => {
        if (!this.isOpen) return;
        const path = event.composedPath();
        if (![this.host, this.input, form].some((node) => node && path.includes(node))) {
          this.close(false);
        }
      }, true);
      // The panel comes last in the page's order: Tab from the box goes into it, and Shift+Tab
      // from its first control comes back to the box.
      this.input.addEventListener("keydown", (event) => {
        if (event.key !== "Tab" || event.shiftKey || !this.isOpen) return;
        event.preventDefault();
        this.panel.querySelector("button, a[href]")?.focus();
      });
      this.panel.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          this.close(true);
        } else if (event.key === "Tab" && event.shiftKey
          && event.composedPath()[0] === this.panel.querySelector("button, a[href]")) {
          event.preventDefault();
          this.input.focus();
        }
      });
      let frame = 0;
      const follow = () => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(() => this.place());
      };
      window.addEventListener("resize", follow);
      window.addEventListener("scroll", follow, { capture: true, passive: true });
    }

    get isOpen() {
      return !this.panel.hidden;
    }

    open() {
      this.panel.hidden = false;
      this.place();
    }

    /** Returns whether there was anything to close (Escape then does nothing else). */
    close(refocus) {
      const wasOpen = this.isOpen;
      this.typing.cancel();
      this.searches.cancel();
      this.panel.removeAttribute("aria-busy");
      this.panel.hidden = true;
      this.combobox?.close();
      if (refocus) this.input.focus();
      return wasOpen;
    }

    /** Fixed coordinates from the input's box: the page's layout never moves or clips the panel. */
    place() {
      if (!this.isOpen) return;
      const box = this.input.getBoundingClientRect();
      const width = document.documentElement.clientWidth;
      const height = window.innerHeight;
      const sheet = width <= SHEET_MAX_WIDTH;
      this.panel.classList.toggle("ps-panel--sheet", sheet);
      const style = this.panel.style;
      if (sheet) {
        // Under the box when it is in the upper half of the screen, else the whole screen.
        const below = box.bottom > 0 && box.bottom < height / 2;
        const top = below ? Math.round(box.bottom) + 4 : 0;
        Object.assign(style, {
          left: "0px", top: `${top}px`, width: `${width}px`, height: `${height - top}px`,
          maxHeight: "",
        });
        return;
      }
      const panelWidth = Math.min(Math.max(POPOVER_WIDTH, box.width), width - 2 * MARGIN);
      const left = Math.max(MARGIN, Math.min(box.left, width - panelWidth - MARGIN));
      const top = Math.max(MARGIN, Math.min(Math.round(box.bottom) + 6, height / 2));
      Object.assign(style, {
        left: `${left}px`, top: `${top}px`, width: `${panelWidth}px`, height: "",
        maxHeight: `${height - top - MARGIN}px`,
      });
    }

    /** Results as the reader types (after the pause): the first page, replaced when they arrive. */
    live(text) {
      if (text.length < MIN_PREFIX) {
        // The panel must not go on showing results for words the box no longer holds.
        this.hasAnswer = false;
        this.close(false);
        return;
      }
      this.search(text, 1, false);
    }

    /** Enter or a chosen completion. */
    commit(query) {
      this.typing.cancel();
      this.committed = query; // a failure of this search sends the site's form instead
      this.search(query, 1, false);
    }

    async search(query, page, exact) {
      if (!query) return;
      this.query = query;
      this.exact = exact;
      this.open();
      this.panel.setAttribute("aria-busy", "true");
      if (page === 1 && !this.hasAnswer) {
        this.count.textContent = "";
        this.body.replaceChildren(el("p", { class: "ps-note" }, "Recherche en cours…"));
      }
      try {
        const data = await this.searches.get("search", {
          q: query, page, per_page: PER_PAGE, correct: exact ? "false" : null,
        });
        // Never an answer for other words than the box holds (a late answer, a retyped box).
        if (!data || query !== this.input.value.trim()) return;
        this.show(data, page);
        rendered(query, data.total, this.typing.typedAt);
      } catch (error) {
        this.failed(error, query, page);
      } finally {
        if (query === this.query) this.panel.removeAttribute("aria-busy");
      }
    }

    /** The reader sees a polite message; when the service is out of reach, the site's own form
     * (when it has somewhere to go) is submitted as if the widget were not there. */
    failed(error, query, page) {
      const message = renderError(error, () => this.search(query, page, this.exact));
      if (page === 1) {
        this.hasAnswer = false;
        this.count.textContent = "";
        this.body.replaceChildren(message);
      } else { // keep the results already shown; the message takes the button's place
        this.more?.replaceWith(message);
        this.more = message;
      }
      const form = this.input.form;
      if (this.committed === query && error.kind === "unavailable" && form?.getAttribute("action")) {
        form.submit();
      }
    }

    show(data, page) {
      const labels = data.section_labels || {};
      const hits = data.hits.map((hit) => renderHit(hit, this.api, labels));
      if (page === 1) {
        this.hasAnswer = true;
        const stopwords = isStopwordsOnly(data);
        const shown = data.corrected_query || data.query;
        this.count.textContent = data.total ? `${countLabel(data.total)} pour ${quoted(shown)}` : "";
        this.list = el("ol", { class: "ps-hits" });
        const correction = data.corrected_query
          ? renderCorrection(data.corrected_query, data.query, "#",
            (q) => this.retype(q, true))
          : null;
        const dym = !correction && data.suggestion
          ? renderDidYouMean(data.suggestion, "#", (q) => this.retype(q, false)) : null;
        const empty = stopwords ? renderStopwords(data.query) : renderEmpty(data.query,
          "Vérifiez l’orthographe ou essayez d’autres mots.");
        this.body.replaceChildren(...[correction, dym, data.total ? this.list : empty]
          .filter(Boolean));
        this.announce(summaryOf(data));
        this.body.scrollTop = 0;
      }
      this.list.append(...hits);
      this.more?.remove();
      this.more = null;
      if (page * PER_PAGE < Math.min(data.total, MAX_WINDOW)) {
        this.more = el("button", { type: "button", class: "ps-button ps-more" },
          "Plus de résultats");
        this.more.addEventListener("click", () => this.search(this.query, page + 1, this.exact));
        this.body.append(this.more);
      } else if (data.total > MAX_WINDOW && data.hits.length) {
        this.more = renderCapNote(data.total, "ajoutez un mot.");
        this.body.append(this.more);
      }
      // Keyboard readers carry on from the first new result rather than the top of the list.
      if (page > 1) hits[0]?.querySelector("a")?.focus();
    }

    retype(query, exact) {
      this.input.value = query;
      this.search(query, 1, exact);
    }
  }

  window.PresseSearch = {
    Api, ApiError, Latest, Typing, Combobox, Widget, el, nextId, announce, rendered, formatDate,
    formatNumber, countLabel, quoted, markedText, safeHref, isPlainClick, inPageLink, sectionLabel,
    suggestionItems, renderHit, renderDidYouMean, renderCorrection, renderEmpty, renderStopwords,
    renderCapNote, renderError, isStopwordsOnly, summaryOf, MAX_WINDOW, MIN_PREFIX,
  };

  if (script && script.dataset.autostart !== "false") {
    const start = () => new Widget(script);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
}());
