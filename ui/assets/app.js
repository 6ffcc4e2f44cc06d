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
