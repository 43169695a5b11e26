/*
 * presse-search: the search box a news site embeds, and the parts the search page (/) reuses.
 *
 *   <script src="https://search.example/widget.js" data-endpoint="https://search.example"
 *           data-input="#site-search" defer></script>
 *
 *   data-endpoint   base URL of the search API (default: the server widget.js came from)
 *   data-input      CSS selector of the site's own <input> to attach to (default: the widget
 *                   renders its own box where the script tag is)
 *   data-results    CSS selector of the element to show results in (default: a panel after the box)
 *   data-autostart  "false" only defines window.PresseSearch (what the search page does)
 *
 * Safety: title_html and snippet_html are the only strings the API marks up, and even they never
 * reach innerHTML: `markedText` builds DOM nodes from them, honouring <mark> and nothing else.
 * Every other string goes in as text, and links only ever get http(s) URLs.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const DEBOUNCE_MS = 150; // one request per pause in typing, not one per keystroke
  const TIMEOUT_MS = 8000;
  const MIN_PREFIX = 2; // one letter completes to half the dictionary
  const PER_PAGE = 10;
  const MAX_WINDOW = 1000; // the API refuses page × per_page beyond this

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

  /** One polite live region per page, so screen readers hear counts without moving focus. */
  let liveRegion = null;
  function announce(text) {
    if (!liveRegion) {
      liveRegion = el("div", { class: "ps-visually-hidden", role: "status" });
      document.body.append(liveRegion);
    }
    liveRegion.textContent = text;
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
        throw new ApiError("unavailable", 0);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      }
    }
  }

  /**
   * One request in flight per purpose. Starting one aborts the previous, and an answer that comes
   * back after a newer request started resolves to undefined: typing fast never shows the
   * suggestions of an old prefix, nor a slow old query's results over a newer one's.
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

  /* ---------- suggestions: the ARIA 1.2 combobox pattern ---------- */

  /**
   * Suggestions under a search input. The input keeps the focus and points at the highlighted
   * option with aria-activedescendant. The listbox hangs off <body>, placed under the input, so
   * that it works whatever the host page's layout around its input (flex rows, overflow: hidden).
   */
  class Combobox {
    constructor(input, api, onSubmit) {
      this.input = input;
      this.onSubmit = onSubmit;
      this.requests = new Latest(api);
      this.items = [];
      this.active = -1;
      this.timer = 0;
      this.listbox = el("ul", {
        class: "ps-listbox", id: nextId("listbox"), role: "listbox", "aria-label": "Suggestions",
        hidden: true,
      });
      document.body.append(this.listbox);
      announce(""); // a live region must exist before it speaks, or screen readers miss the first
      for (const [name, value] of [["role", "combobox"], ["aria-autocomplete", "list"],
        ["aria-expanded", "false"], ["aria-controls", this.listbox.id], ["autocomplete", "off"]]) {
        input.setAttribute(name, value);
      }
      input.addEventListener("input", () => this.schedule());
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
      window.addEventListener("resize", () => this.place());
    }

    get isOpen() {
      return !this.listbox.hidden;
    }

    // The open list stays up while the reader types (no flicker); its options change when the
    // answer for the new text arrives.
    schedule() {
      clearTimeout(this.timer);
      this.requests.cancel();
      this.highlight(-1);
      const prefix = this.input.value.trim();
      if (prefix.length < MIN_PREFIX) return this.close();
      this.timer = setTimeout(() => this.load(prefix), DEBOUNCE_MS);
    }

    async load(prefix) {
      try {
        const data = await this.requests.get("suggest", { q: prefix, limit: 6 });
        if (data) this.open(data.suggestions || []);
      } catch (error) {
        this.close(); // suggestions are a convenience: without them, searching still works
      }
    }

    open(items) {
      this.items = items;
      this.listbox.replaceChildren(...items.map((text, index) => el("li", {
        class: "ps-option", id: `${this.listbox.id}-${index}`, role: "option",
        "aria-selected": "false", "data-index": index,
      }, text)));
      if (!items.length || document.activeElement !== this.input) return this.close();
      this.listbox.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
      this.highlight(-1);
      this.place();
      const plural = items.length > 1 ? "s" : "";
      announce(`${items.length} suggestion${plural}, flèches haut et bas pour choisir.`);
    }

    close() {
      clearTimeout(this.timer);
      this.requests.cancel();
      this.listbox.hidden = true;
      this.input.setAttribute("aria-expanded", "false");
      this.highlight(-1);
    }

    place() {
      if (!this.isOpen) return;
      const box = this.input.getBoundingClientRect();
      this.listbox.style.left = `${box.left + window.scrollX}px`;
      this.listbox.style.top = `${box.bottom + window.scrollY}px`;
      this.listbox.style.width = `${box.width}px`;
    }

    highlight(index) {
      this.active = index;
      for (const option of this.listbox.children) {
        option.setAttribute("aria-selected", String(Number(option.dataset.index) === index));
      }
      const option = this.listbox.children[index];
      if (option) {
        this.input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      } else {
        this.input.removeAttribute("aria-activedescendant");
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
        if (this.isOpen) {
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
      this.input.value = this.items[index];
      this.submit(this.input.value);
    }

    submit(query) {
      this.close(); // also drops a suggestion answer still on its way
      this.onSubmit(query.trim());
    }
  }

  /* ---------- results, shared by the widget and the search page ---------- */

  /** The sections above the title, as news sites print them ("ÉCONOMIE, SOCIÉTÉ"). */
  function renderKicker(hit) {
    if (!hit.section?.length) return null;
    return el("p", { class: "ps-hit__section" }, hit.section.join(", "));
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

  function renderHit(hit, api) {
    return el("li", { class: "ps-hit" },
      renderKicker(hit),
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

  /** "Vouliez-vous dire : … ?" — a real link (href), so it can be opened in a new tab too. */
  function renderDidYouMean(suggestion, href, follow) {
    const link = el("a", { class: "ps-dym__link", href }, suggestion);
    link.addEventListener("click", (event) => {
      if (!isPlainClick(event)) return;
      event.preventDefault();
      follow(suggestion);
    });
    return el("p", { class: "ps-dym" }, `Vouliez-vous dire${NBSP}: `, link, `${NBSP}?`);
  }

  function renderEmpty(query) {
    return el("div", { class: "ps-message" },
      el("p", { class: "ps-message__title" }, `Aucun résultat pour ${quoted(query)}`),
      el("p", {}, "Vérifiez l’orthographe, essayez des mots plus généraux ou retirez un filtre."),
    );
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

  /** The widget on a site's page: its input (or ours), suggestions, and a results panel. */
  class Widget {
    constructor(tag) {
      const options = tag.dataset;
      this.api = new Api(options.endpoint || new URL(".", tag.src).href);
      this.searches = new Latest(this.api);
      const find = (selector) => (selector ? document.querySelector(selector) : null);
      this.input = find(options.input) || this.renderBox(tag);
      this.panel = find(options.results) || this.renderPanel();
      this.panel.classList.add("ps-panel");
      this.combobox = new Combobox(this.input, this.api, (query) => this.search(query, 1));
      // The site's form would otherwise navigate away to its own search page.
      this.input.form?.addEventListener("submit", (event) => {
        event.preventDefault();
        this.combobox.submit(this.input.value);
      });
    }

    renderBox(tag) {
      const input = el("input", {
        class: "ps-input", type: "search", id: nextId("q"), name: "q", maxlength: 500,
        placeholder: "Rechercher un article",
      });
      const form = el("form", { class: "ps-box", role: "search" },
        el("label", { class: "ps-visually-hidden", for: input.id }, "Rechercher sur le site"),
        input,
        el("button", { class: "ps-button", type: "submit" }, "Rechercher"));
      if (tag.closest("body")) tag.before(form);
      else document.body.prepend(form);
      return input;
    }

    renderPanel() {
      const panel = el("section", { "aria-label": "Résultats de la recherche", hidden: true });
      (this.input.form || this.input).after(panel);
      return panel;
    }

    async search(query, page) {
      if (!query) return;
      this.query = query;
      this.panel.hidden = false;
      this.panel.setAttribute("aria-busy", "true");
      if (page === 1) {
        this.panel.replaceChildren(el("p", { class: "ps-note" }, "Recherche en cours…"));
      }
      try {
        const data = await this.searches.get("search", { q: query, page, per_page: PER_PAGE });
        if (data) this.show(data, page);
      } catch (error) {
        const message = renderError(error, () => this.search(query, page));
        if (page === 1) this.panel.replaceChildren(this.renderHeader(""), message);
        else { // keep the results already shown; the message takes the button's place
          this.more?.replaceWith(message);
          this.more = message;
        }
      } finally {
        this.panel.removeAttribute("aria-busy");
      }
    }

    renderHeader(text) {
      const close = el("button", { type: "button", class: "ps-panel__close" }, "Fermer");
      close.addEventListener("click", () => {
        this.panel.hidden = true;
        this.input.focus();
      });
      return el("div", { class: "ps-panel__header" }, el("p", { class: "ps-count" }, text), close);
    }

    show(data, page) {
      const hits = data.hits.map((hit) => renderHit(hit, this.api));
      if (page === 1) {
        const summary = data.total ? `${countLabel(data.total)} pour ${quoted(data.query)}` : "";
        this.list = el("ol", { class: "ps-hits" });
        this.panel.replaceChildren(this.renderHeader(summary),
          data.suggestion ? renderDidYouMean(data.suggestion, "#", (q) => this.retype(q)) : "",
          data.total ? this.list : renderEmpty(data.query));
        announce(data.total ? summary : `Aucun résultat pour ${quoted(data.query)}`);
      }
      this.list.append(...hits);
      this.more?.remove();
      this.more = null;
      if (page * PER_PAGE < Math.min(data.total, MAX_WINDOW)) {
        this.more = el("button", { type: "button", class: "ps-button ps-more" },
          "Plus de résultats");
        this.more.addEventListener("click", () => this.search(this.query, page + 1));
        this.panel.append(this.more);
      }
      // Keyboard readers carry on from the first new result rather than the top of the page.
      if (page > 1) hits[0]?.querySelector("a")?.focus();
    }

    retype(query) {
      this.input.value = query;
      this.search(query, 1);
    }
  }

  window.PresseSearch = {
    Api, ApiError, Latest, Combobox, Widget, el, nextId, announce, formatDate, formatNumber,
    countLabel, quoted, markedText, safeHref, isPlainClick, renderHit, renderDidYouMean,
    renderEmpty, renderError,
  };

  if (script && script.dataset.autostart !== "false") {
    // The stylesheet beside the script, so that embedding takes one tag.
    if (!document.querySelector("link[data-presse-search]")) {
      document.head.append(el("link", {
        rel: "stylesheet", href: new URL("widget.css", script.src).href, "data-presse-search": "",
      }));
    }
    const start = () => new Widget(script);
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
}());
