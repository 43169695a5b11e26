/*
 * presse-search: the "Articles similaires" block under an article of the news site.
 *
 *   <div data-presse-similar="ARTICLE_ID" data-limit="3"></div>
 *   <script src="https://search.example/similar.js" defer></script>
 *
 *   data-presse-similar  the article's id (every such element of the page gets a block)
 *   data-limit           how many teasers, 1 to 20 (default 3)
 *   data-endpoint        on the script tag: base URL of the API (default: the server similar.js
 *                        came from)
 *
 * Each teaser shows the section, the title linking to the article, and the first ~100
 * characters of the lead. The block lives in a Shadow DOM with its own stylesheet (similar.css,
 * beside this script), so the site's styles and ours never meet; the --ps-* custom properties
 * still reach it for retheming. It fetches when it comes near the viewport, and until the
 * answer and the stylesheet are both in, the element stays empty: when the API is down, the id
 * unknown or the list empty, it stays empty for good — no error, no message, no layout shift.
 *
 * Safety: every string from the API goes in as text (textContent), links only get http(s)
 * URLs, and no HTML parser ever sees the API's strings. No inline style or script (CSP).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const DEFAULT_LIMIT = 3;
  const MAX_LIMIT = 20; // what the API accepts
  const LEAD_CHARS = 100;
  const TIMEOUT_MS = 8000;
  const NEAR = "400px 0px"; // start fetching this far before the block scrolls into view

  /** el("a", {class: "x", href}, "text", child): strings become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, String(value));
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

  /** The first ~LEAD_CHARS characters of the lead, cut at a word, with an ellipsis. */
  function shortLead(text) {
    const clean = String(text || "").replace(/\s+/g, " ").trim();
    if (clean.length <= LEAD_CHARS) return clean;
    const cut = clean.lastIndexOf(" ", LEAD_CHARS);
    const head = clean.slice(0, cut > LEAD_CHARS / 2 ? cut : LEAD_CHARS);
    return `${head.replace(/[\s,;:.…]+$/, "")}\u2026`;
  }

  function limitOf(host) {
    const wanted = Number.parseInt(host.dataset.limit || "", 10);
    return Number.isInteger(wanted) ? Math.min(Math.max(wanted, 1), MAX_LIMIT) : DEFAULT_LIMIT;
  }

  /** The API's similar articles for `id`, or null when anything at all goes wrong. */
  async function fetchSimilar(base, id, limit) {
    const url = new URL(`articles/${encodeURIComponent(id)}/similar`, base);
    url.searchParams.set("limit", String(limit));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      // A simple CORS request (no custom header, no cookie): no preflight round trip.
      const resp = await fetch(url, { signal: controller.signal, credentials: "omit" });
      if (!resp.ok) return null;
      const data = await resp.json();
      return Array.isArray(data?.hits) ? data.hits : null;
    } catch (error) {
      return null; // the API is down or refused us: the block stays empty
    } finally {
      clearTimeout(timer);
    }
  }

  function renderTeaser(hit) {
    const href = safeHref(hit.url);
    const title = el(href ? "a" : "span", { class: "title__link", href }, String(hit.title || ""));
    const section = Array.isArray(hit.section) && hit.section.length
      ? el("p", { class: "section" }, hit.section.join(", ")) : null;
    const lead = shortLead(hit.summary);
    return el("li", { class: "teaser" },
      section,
      el("h3", { class: "title" }, title),
      lead ? el("p", { class: "lead" }, lead) : null);
  }

  /** Resolves when the stylesheet has loaded (or failed: then the block shows unstyled). */
  function stylesheet(root, href) {
    return new Promise((resolve) => {
      const link = el("link", { rel: "stylesheet", href });
      link.addEventListener("load", resolve, { once: true });
      link.addEventListener("error", resolve, { once: true });
      root.append(link);
    });
  }

  async function fill(host, base) {
    const id = (host.dataset.presseSimilar || "").trim();
    if (!id) return;
    const hits = await fetchSimilar(base, id, limitOf(host));
    if (!hits || !hits.length) return;
    const root = host.shadowRoot || host.attachShadow({ mode: "open" });
    const block = el("section", { class: "block", "aria-labelledby": "ps-similar-heading" },
      el("h2", { class: "heading", id: "ps-similar-heading" }, "Articles similaires"),
      el("ol", { class: "teasers" }, ...hits.map(renderTeaser)));
    block.hidden = true; // nothing shows before it is styled
    root.replaceChildren(block);
    await stylesheet(root, new URL("similar.css", base).href);
    block.hidden = false;
    host.dispatchEvent(new CustomEvent("presse-similar:rendered", { detail: { count: hits.length } }));
  }

  function start() {
    const base = new URL(".", (script && script.dataset.endpoint)
      ? new URL(`${script.dataset.endpoint.replace(/\/*$/, "")}/`, document.baseURI)
      : script.src);
    const hosts = [...document.querySelectorAll("[data-presse-similar]")]
      .filter((host) => !host.dataset.presseSimilarStarted);
    for (const host of hosts) host.dataset.presseSimilarStarted = "true";
    if (!("IntersectionObserver" in window)) {
      hosts.forEach((host) => fill(host, base));
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        fill(entry.target, base);
      }
    }, { rootMargin: NEAR });
    hosts.forEach((host) => observer.observe(host));
  }

  if (script) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
}());
