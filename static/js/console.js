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

  // A live frame or an answer redraws a whole panel or card: keep what the facilitator
  // had open, what they were typing and where the focus was, as they were before. A
  // disclosure is known by its own id, or else by the nearest element with one, its
  // class and its rank among its kind there ("proposal-2|edit|0"): the same after a
  // redraw of the same card. Both swaps count, the frames' (oob) and the answers' (a
  // merge answers with the whole walls while a frame may already have redrawn a card),
  // and both are read in the capture phase, before any other listener moves a card.
  function disclosureKey(details) {
    if (details.id) {
      return details.id;
    }
    var owner = details.parentElement && details.parentElement.closest("[id]");
    if (!owner) {
      return null;
    }
    var kind = details.className || "";
    var rank = Array.prototype.filter
      .call(owner.querySelectorAll("details"), function (other) {
        return (other.className || "") === kind && other.parentElement.closest("[id]") === owner;
      })
      .indexOf(details);
    return owner.id + "|" + kind + "|" + rank;
  }

  function findDisclosure(key) {
    if (key.indexOf("|") < 0) {
      return document.getElementById(key);
    }
    var parts = key.split("|");
    var owner = document.getElementById(parts[0]);
    if (!owner) {
      return null;
    }
    var found = null;
    owner.querySelectorAll("details").forEach(function (details) {
      if (!found && disclosureKey(details) === key) {
        found = details;
      }
    });
    return found;
  }

  // With an answer, the form that asked is the server's to redraw: its own disclosure
  // closes (the correction is saved), unless it says it stays open (the next step to add),
  // and its fields show what the answer says. A frame may have redrawn its card before the
  // answer came (the answer then lands on a card no longer shown, and says nothing to
  // the document): the form is known by the key of its disclosure and its fields' ids,
  // read as it leaves, and its disclosure is closed when its answer comes, either way.
  var requests = new WeakMap();

  function requesterOf(elt) {
    var own = elt.closest ? elt.closest("details") : null;
    var ids = {};
    if (elt.id) {
      ids[elt.id] = true;
    }
    elt.querySelectorAll("[id]").forEach(function (element) {
      ids[element.id] = true;
    });
    // Only a form sent closes its disclosure: a list loading as it opens does not.
    var keep = !own || elt.tagName !== "FORM" || own.hasAttribute("data-stays-open");
    var owner = elt.closest("[id]");
    return { disclosure: keep ? null : disclosureKey(own), ids: ids, owner: owner ? owner.id : null };
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!xhr || !elt || !elt.querySelectorAll) {
      return;
    }
    var requester = requesterOf(elt);
    requests.set(xhr, requester);
    xhr.addEventListener("load", function () {
      if (xhr.status >= 300) {
        return;
      }
      waiting.forEach(function (state) {
        forget(state, requester);
      });
      var own = requester.disclosure && findDisclosure(requester.disclosure);
      if (own) {
        own.open = false;
      }
    });
  });

  function snapshot(roots, requester) {
    var state = { open: [], values: {}, ticks: [], focus: null };
    roots.forEach(function (root) {
      var all = Array.prototype.slice.call(root.querySelectorAll("details[open]"));
      if (root.matches && root.matches("details[open]")) {
        all.unshift(root);
      }
      all.forEach(function (details) {
        var key = disclosureKey(details);
        if (key) {
          state.open.push(key);
        }
      });
      root.querySelectorAll("details[open] input[id], details[open] textarea[id], details[open] select[id]").forEach(function (field) {
        if (field.type !== "hidden" && field.type !== "radio") {
          state.values[field.id] = field.type === "checkbox" ? field.checked : field.value;
        }
      });
      // A choice made and not yet sent (a radio of the presenter panel, a box of the poll
      // form), known by its form's nearest id, its name and its value.
      root.querySelectorAll("input[type=radio]:not([id]), input[type=checkbox]:not([id])").forEach(function (field) {
        var owner = field.closest("[id]");
        if (owner && field.checked !== field.defaultChecked) {
          state.ticks.push({ owner: owner.id, name: field.name, value: field.value, checked: field.checked });
        }
      });
      var active = document.activeElement;
      if (active && active.id && root.contains(active)) {
        state.focus = active.id;
      }
    });
    return state;
  }

  // What the answer redraws is left out of what is about to be restored: from this swap's
  // state, and from those of frames that came just before the answer.
  function forget(state, requester) {
    state.open = state.open.filter(function (key) {
      return key !== requester.disclosure;
    });
    state.ticks = state.ticks.filter(function (tick) {
      return tick.owner !== requester.owner && !requester.ids[tick.owner];
    });
    Object.keys(requester.ids).forEach(function (id) {
      delete state.values[id];
      if (state.focus === id) {
        state.focus = null;
      }
    });
  }

  var waiting = [];
  function keepAcross(event, requester) {
    var target = event.detail.target;
    if (!target || !target.querySelectorAll) {
      return;
    }
    var roots = [target];
    // A frame that inserts a card this page shows already replaces it (cocreate.js).
    var fragment = event.detail.fragment;
    if (fragment && fragment.querySelectorAll) {
      fragment.querySelectorAll(".card[id]").forEach(function (card) {
        var existing = document.getElementById(card.id);
        if (existing && !target.contains(existing)) {
          roots.push(existing);
        }
      });
    }
    var state = snapshot(roots);
    if (requester) {
      waiting.forEach(function (other) {
        forget(other, requester);
      });
      forget(state, requester);
    }
    waiting.push(state);
    setTimeout(function () {
      waiting.splice(waiting.indexOf(state), 1);
      restore(state);
    }, 0);
  }
  document.addEventListener(
    "htmx:oobBeforeSwap",
    function (event) {
      keepAcross(event, null);
    },
    true
  );
  document.addEventListener(
    "htmx:beforeSwap",
    function (event) {
      if (event.detail.shouldSwap !== false) {
        keepAcross(event, requests.get(event.detail.xhr) || null);
      }
    },
    true
  );

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
    state.open.forEach(function (key) {
      var details = findDisclosure(key);
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
    state.ticks.forEach(function (tick) {
      var owner = document.getElementById(tick.owner);
      var field = owner && owner.querySelector("input[name='" + tick.name + "'][value='" + tick.value + "']");
      if (field) {
        field.checked = tick.checked;
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
