// cocreate's console: its walls sorted and filtered as the address says (?sort=&filter=),
// cards arriving live included; and what the facilitator had open, typed or focused
// kept when a live frame redraws a panel. The server draws the same order and filter
// without JavaScript; this only keeps them true as frames arrive.
(function () {
  "use strict";

  function form() {
    return document.getElementById("wall-view");
  }

  function choice(name, fallback) {
    var f = form();
    var field = f && f.elements.namedItem(name);
    return field && field.value ? field.value : fallback;
  }

  function number(element, name) {
    var value = element ? Number(element.getAttribute("data-" + name)) : 0;
    return isNaN(value) ? 0 : value;
  }

  function keeps(card, filter) {
    if (filter === "pending") {
      return card.getAttribute("data-pending") === "1";
    }
    if (filter === "hidden") {
      return card.getAttribute("data-hidden") === "1";
    }
    if (filter.indexOf("step-") === 0) {
      return card.getAttribute("data-step") === filter.slice(5);
    }
    return true;
  }

  // The keys of wall.sorted_wall, largest first; ties go to the newest.
  function keys(card, sort) {
    var counts = card.querySelector(".card-counts");
    var id = number(card, "id");
    if (sort === "support") {
      return [number(counts, "support"), id];
    }
    if (sort === "discussed") {
      return [number(counts, "comments"), number(counts, "reactions"), id];
    }
    return [number(card, "pending"), number(card, "pinned"), id];
  }

  function compare(a, b) {
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        return b[i] - a[i];
      }
    }
    return 0;
  }

  function arrange() {
    var sort = choice("sort", "newest");
    var filter = choice("filter", "all");
    var focused = document.activeElement;
    document.querySelectorAll(".console-walls .wall").forEach(function (wall) {
      var cards = Array.prototype.filter.call(wall.children, function (child) {
        return child.classList.contains("card");
      });
      cards.forEach(function (card) {
        card.hidden = !keeps(card, filter);
      });
      var sorted = cards
        .map(function (card) {
          return { card: card, keys: keys(card, sort) };
        })
        .sort(function (a, b) {
          return compare(a.keys, b.keys);
        });
      // Move only the cards out of place: a wall already in order is not touched.
      var previous = null;
      sorted.forEach(function (entry) {
        var expected = previous ? previous.nextElementSibling : wall.firstElementChild;
        if (expected !== entry.card) {
          wall.insertBefore(entry.card, expected);
        }
        previous = entry.card;
      });
    });
    if (focused && focused !== document.activeElement && document.contains(focused)) {
      focused.focus({ preventScroll: true });
    }
  }

  var pending = false;
  function arrangeSoon() {
    if (!pending) {
      pending = true;
      setTimeout(function () {
        pending = false;
        arrange();
      }, 0);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = form();
    if (!f) {
      return;
    }
    // Changing the order or the filter applies at once, without reloading the page (its
    // live connection stays); the address keeps the choice for a reload or a bookmark.
    function apply(event) {
      if (event.type === "submit") {
        event.preventDefault();
      }
      arrange();
      var params = new URLSearchParams(window.location.search);
      params.set("sort", choice("sort", "newest"));
      params.set("filter", choice("filter", "all"));
      history.replaceState(null, "", window.location.pathname + "?" + params.toString() + window.location.hash);
      var error = document.getElementById("wall-view-error");
      if (error) {
        error.remove();
      }
    }
    f.addEventListener("change", apply);
    f.addEventListener("submit", apply);
    arrange();
  });
  // After any swap: a response's (settled) or a live frame's (htmx fires its "after"
  // event on the element swapped out, which no longer reaches the document).
  document.addEventListener("htmx:afterSettle", arrangeSoon);
  document.addEventListener("htmx:oobBeforeSwap", arrangeSoon);

  // A live frame redraws a whole panel or card: keep what the facilitator had open (by
  // id), what they were typing and where the focus was, as they were before the frame.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.querySelectorAll) {
      return;
    }
    var state = { open: [], values: {}, focus: null };
    target.querySelectorAll("details[id][open]").forEach(function (details) {
      state.open.push(details.id);
    });
    target.querySelectorAll("details[open] input[id], details[open] textarea[id], details[open] select[id]").forEach(function (field) {
      if (field.type !== "hidden") {
        state.values[field.id] = field.type === "checkbox" ? field.checked : field.value;
      }
    });
    var active = document.activeElement;
    if (active && active.id && target.contains(active)) {
      state.focus = active.id;
    }
    setTimeout(function () {
      restore(state);
    }, 0);
  });

  // A step added (or a script's steps): the panel stays open, emptied, the focus in its
  // first field for the next step. The answer draws it so; but the console's own live
  // frame may redraw the agenda first, and the answer then lands on the panel it replaced.
  // (The request's own events would not tell: they fire on the form, by then detached.)
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!xhr || !elt || !elt.closest || !elt.closest("#step-add")) {
      return;
    }
    xhr.addEventListener("load", function () {
      if (xhr.status >= 300) {
        return;
      }
      setTimeout(function () {
        var panel = document.getElementById("step-add");
        var first = document.getElementById("new-step-kind");
        if (!panel || !first) {
          return;
        }
        panel.open = true;
        first.form.reset();
        first.focus();
      }, 0);
    });
  });

  function restore(state) {
    state.open.forEach(function (id) {
      var details = document.getElementById(id);
      if (details) {
        details.open = true;
      }
    });
    Object.keys(state.values).forEach(function (id) {
      var field = document.getElementById(id);
      if (!field) {
        return;
      }
      if (field.type === "checkbox") {
        field.checked = state.values[id];
      } else {
        field.value = state.values[id];
      }
    });
    if (state.focus && document.activeElement === document.body) {
      var element = document.getElementById(state.focus);
      if (element) {
        element.focus({ preventScroll: true });
      }
    }
  }
})();
