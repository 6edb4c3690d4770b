// cocreate, on a participant's phone during a discussion: react to the proposals one at
// a time (as in Pol.is) instead of scrolling a long page: one card, agree / disagree /
// pass, and the next card comes by itself; previous and next move by hand. The list
// stays the page without JavaScript, and a tap brings it back.
(function () {
  "use strict";

  var active = false;
  var current = null; // the id of the card shown

  function cards() {
    var wall = document.getElementById("wall");
    return wall
      ? Array.prototype.filter.call(wall.children, function (card) {
          return card.classList.contains("card") && !card.hidden;
        })
      : [];
  }

  function reacted(card) {
    return card.querySelector(".reaction[aria-pressed='true']") !== null;
  }

  function apply() {
    var bar = document.querySelector("#stage .one-by-one");
    var stage = document.getElementById("stage");
    if (!bar || !stage) {
      return;
    }
    bar.hidden = false;
    var all = cards();
    var toggle = bar.querySelector(".one-by-one-toggle");
    toggle.setAttribute("aria-pressed", active ? "true" : "false");
    stage.classList.toggle("one-at-a-time", active && all.length > 0);
    all.forEach(function (card) {
      card.classList.remove("is-current");
    });
    if (!active || !all.length) {
      return;
    }
    var shown = all.filter(function (card) {
      return card.id === current;
    })[0];
    if (!shown) {
      shown = all.filter(function (card) {
        return !reacted(card);
      })[0] || all[0];
      current = shown.id;
    }
    shown.classList.add("is-current");
    var at = all.indexOf(shown);
    bar.querySelector(".one-by-one-count").textContent = bar
      .getAttribute("data-count")
      .replace("{n}", String(at + 1))
      .replace("{total}", String(all.length));
    bar.querySelector("[data-move='-1']").disabled = at === 0;
    bar.querySelector("[data-move='1']").disabled = at === all.length - 1;
  }

  function move(step) {
    var all = cards();
    var at = all.map(function (card) {
      return card.id;
    }).indexOf(current);
    var next = all[Math.max(0, Math.min(all.length - 1, at + step))];
    if (next) {
      current = next.id;
      apply();
      var text = next.querySelector(".card-text");
      if (text) {
        text.setAttribute("tabindex", "-1");
        text.focus({ preventScroll: false });
      }
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest(".one-by-one button") : null;
    if (!target) {
      return;
    }
    if (target.classList.contains("one-by-one-toggle")) {
      active = !active;
      current = null;
      apply();
    } else {
      move(Number(target.getAttribute("data-move")));
    }
  });

  // A reaction given to the card shown: the next one comes, a moment later (the person
  // sees their choice taken first).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!active || !form.closest || !form.closest(".is-current") || !form.matches("[data-outbox='reaction']")) {
      return;
    }
    var card = form.closest(".card");
    event.detail.xhr.addEventListener("load", function () {
      if (event.detail.xhr.status < 300 && card.id === current) {
        setTimeout(function () {
          if (card.id === current) {
            move(1);
          }
        }, 600);
      }
    });
  });

  // The stage and its cards are redrawn by live frames and answers: shown again as chosen.
  function soon() {
    setTimeout(apply, 0);
  }
  document.addEventListener("htmx:afterSettle", soon);
  document.addEventListener("htmx:oobBeforeSwap", soon);
  document.addEventListener("DOMContentLoaded", apply);
})();
