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
