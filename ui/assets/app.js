// [n] in an answer -> its source card in the panel (the panel keeps one section per turn).
// Opening "Read the whole article" scrolls the highlighted sentence into view.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.cite");
  if (!link) return;
  event.preventDefault();
  const id = (link.getAttribute("href") || "").replace(/^#/, "");
  const card = document.getElementById(id);
  if (!card) return;
  const section = card.closest(".turn-sources");
  document.querySelectorAll(".turn-sources").forEach((s) => { s.hidden = s !== section; });
  card.scrollIntoView({ behavior: "smooth", block: "nearest" });
  card.classList.add("flash");
  setTimeout(() => card.classList.remove("flash"), 1200);
}, true);
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!details.matches || !details.matches("details.src-article") || !details.open) return;
  const mark = details.querySelector("mark.hl");
  if (mark) mark.scrollIntoView({ behavior: "smooth", block: "center" });
}, true);

// Light or dark: the OS preference unless the person chose with the header's toggle (kept in
// localStorage). Gradio styles dark mode by a "dark" class on <body>.
const THEME_KEY = "newsrag-theme";
function applyTheme(theme) {
  document.body.classList.toggle("dark", theme === "dark");
  const button = document.getElementById("nr-theme");
  if (button) button.textContent = theme === "dark" ? "Light mode" : "Dark mode";
}
function currentTheme() {
  return localStorage.getItem(THEME_KEY)
    || (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}
document.addEventListener("click", (event) => {
  if (!event.target.closest("#nr-theme")) return;
  const next = document.body.classList.contains("dark") ? "light" : "dark";
  localStorage.setItem(THEME_KEY, next);
  applyTheme(next);
});
// The header is drawn (and redrawn when the library changes) after this script runs.
new MutationObserver(() => {
  const button = document.getElementById("nr-theme");
  if (button && !button.dataset.ready) { button.dataset.ready = "1"; applyTheme(currentTheme()); }
}).observe(document.documentElement, { childList: true, subtree: true });

// A new answer's sources start at card 1: the panel scrolls to its own top when a newer turn
// arrives (not when an older answer's [n] brings its own sources back). The page itself never
// moves: on a phone the panel sits below the chat, and bringing it into view scrolled the
// answer out of sight (and the header off the top on a laptop).
let newestTurn = -1;
new MutationObserver(() => {
  const panel = document.getElementById("nr-sources");
  if (!panel) return;
  const turns = [...panel.querySelectorAll(".turn-sources")].map((s) => Number(s.dataset.turn));
  const newest = turns.length ? Math.max(...turns) : -1;
  if (newest !== newestTurn) {
    newestTurn = newest;
    panel.scrollTop = 0;
  }
}).observe(document.documentElement, { childList: true, subtree: true });

// The preview of a [n]: its card's title, date and highlighted sentence, next to the link.
const PREVIEW_GAP = 6;  // px between the link and its preview
function showPreview(link) {
  const id = (link.getAttribute("href") || "").replace(/^#/, "");
  const card = id && document.getElementById(id);
  if (!card) return;
  let box = document.getElementById("nr-preview");
  if (!box) {
    box = document.createElement("div");
    box.id = "nr-preview";
    box.setAttribute("role", "tooltip");
    document.body.appendChild(box);
  }
  const part = (cls, text) => {
    const el = document.createElement("div");
    el.className = cls;
    el.textContent = text;  // text only: nothing from an article becomes markup
    return el;
  };
  const mark = card.querySelector(".src-passage mark");
  box.replaceChildren(
    part("title", card.querySelector(".src-title")?.innerText || ""),
    part("meta", card.querySelector(".src-meta")?.innerText || ""),
    part("quote", mark ? `“${mark.innerText}”` : ""),
  );
  const where = link.getBoundingClientRect();
  box.hidden = false;  // shown before measuring: a hidden box has no height
  box.style.left = `${Math.max(8, Math.min(where.left, window.innerWidth - box.offsetWidth - 8))}px`;
  // Above the line, so the lines being read below it stay uncovered; below only when the
  // line is too near the top of the window for the box to fit.
  const above = where.top - box.offsetHeight - PREVIEW_GAP;
  box.style.top = `${above >= 0 ? above : where.bottom + PREVIEW_GAP}px`;
}
function hidePreview() {
  const box = document.getElementById("nr-preview");
  if (box) box.hidden = true;
}
for (const [show, hide] of [["mouseover", "mouseout"], ["focusin", "focusout"]]) {
  document.addEventListener(show, (event) => {
    const link = event.target.closest && event.target.closest("a.cite");
    if (link) showPreview(link);
  });
  document.addEventListener(hide, (event) => {
    if (event.target.closest && event.target.closest("a.cite")) hidePreview();
  });
}

// Copy on an answer puts plain text on the clipboard: the answer as read, then its sources
// (number, title, source, date, link, quoted sentences), not the escaped Markdown and
// <a class="cite"> markup that Gradio's own copy button would take.
function answerAsText(bot) {
  const lines = [bot.innerText.trim()];
  const cite = bot.querySelector("a.cite");
  const turn = cite && (cite.getAttribute("href") || "").split("-")[1];
  const section = turn && document.querySelector(`.turn-sources[data-turn="${turn}"]`);
  if (section) {
    lines.push("", section.querySelector("h3")?.innerText || "Sources", "");
    section.querySelectorAll(".src-card").forEach((card) => {
      const link = card.querySelector(".src-title a")?.getAttribute("href");
      const head = `[${card.querySelector(".src-n")?.innerText}] ${card.querySelector(".src-title")?.innerText}`;
      lines.push(`${head} (${card.querySelector(".src-meta")?.innerText}${link ? ", " + link : ""})`);
      card.querySelectorAll(".src-passage mark").forEach((mark) => lines.push(`    “${mark.innerText}”`));
    });
  }
  return lines.join("\n");
}
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest('#nr-chat button[aria-label="Copy message"]');
  if (!button) return;
  let holder = button.parentElement, bot = null;
  for (let depth = 0; holder && depth < 6 && !bot; depth += 1, holder = holder.parentElement) {
    const bots = holder.querySelectorAll('[data-testid="bot"]');
    if (bots.length === 1) bot = bots[0];
    else if (bots.length > 1) break;  // reached the whole conversation: not an answer's button
  }
  if (!bot) return;  // a question's own copy button: Gradio's copy is right for it
  event.preventDefault();
  event.stopImmediatePropagation();
  navigator.clipboard.writeText(answerAsText(bot));
}, true);
