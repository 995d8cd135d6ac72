// The call page: seek the player from transcript, evidence and comment links, and highlight
// the segment being heard. Everything else in the app works without script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const player = document.getElementById("player");
  if (!player) return;
  const segments = Array.from(document.querySelectorAll(".segment[data-start]"));

  function seek(seconds) {
    player.currentTime = seconds;
    player.play().catch(() => {}); // a browser may refuse to start without a gesture; the seek stands
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-seek]");
    if (link) {
      event.preventDefault();
      seek(parseFloat(link.dataset.seek));
      return;
    }
    const segment = event.target.closest(".segment[data-start]");
    if (segment && !event.target.closest("a, button, input, select, textarea")) {
      seek(parseFloat(segment.dataset.start));
    }
  });

  let current = null;
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    const playing = segments.find((s) => t >= parseFloat(s.dataset.start) && t < parseFloat(s.dataset.end)) || null;
    if (playing === current) return;
    if (current) current.classList.remove("playing");
    if (playing) playing.classList.add("playing");
    current = playing;
  });

  // A comment is pinned to the moment the player is at when it is sent.
  const commentForm = document.querySelector(".comment-form");
  if (commentForm) {
    commentForm.addEventListener("submit", () => {
      const pin = commentForm.querySelector("input[name=pin]");
      commentForm.querySelector("input[name=at_s]").value = pin && pin.checked ? player.currentTime.toFixed(2) : "";
    });
  }

  // A link to #t=SECONDS (from a comment or a shared address) starts there.
  const match = location.hash.match(/^#t=([0-9.]+)$/);
  if (match) player.addEventListener("loadedmetadata", () => { player.currentTime = parseFloat(match[1]); }, { once: true });
});
