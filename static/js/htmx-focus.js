// Where keyboard focus goes after htmx swaps content in (loaded with htmx, never inline).
//
// When the element that had focus is replaced (the "Record follow-up" button of a staff row,
// a "Next page" link), the browser drops focus to <body>, and a keyboard or screen reader
// user starts again from the top of the page. Put it in the new content instead: on the
// message the server sent (refused, conflict, recorded), else at the start of the content.
"use strict";

document.addEventListener("htmx:afterSettle", (event) => {
  const active = document.activeElement;
  if (active && active !== document.body) return; // focus survived the swap (or was restored)
  const target = event.detail.target;
  if (!target) return; // a page restored from history: the browser's own focus rules apply
  // An outerHTML swap replaced the target itself: its successor has the same id.
  const region = target.isConnected ? target : document.getElementById(target.id);
  if (!region || region === document.body) return; // e.g. a restored page: leave it
  const landing =
    region.querySelector(".conflict, .errors, .message-success") ||
    region.querySelector("h2, h3, .result-count") ||
    region;
  if (!landing.matches("a[href], button, input, select, textarea, [tabindex]")) {
    landing.setAttribute("tabindex", "-1");
  }
  landing.focus();
});
