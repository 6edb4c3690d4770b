// cocreate on a participant's phone: the outbox (what waits for the network), ballots
// (confirmed before they leave, ranked by taps) and reacting one proposal at a time.
// One file: on a slow network each file is a round trip more before the page is ready.
// The join page does not load it: it comes with the session page swapped in after
// joining (cocreate.js), when the document has long been loaded.
function whenReady(run) {
  "use strict";
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
}

// cocreate's outbox, on a participant's phone: nothing its owner did is lost to a bad
// network. A proposal, a need, a comment, a vote or a reaction whose request failed (no
// network, the server unreachable or restarting) waits here, kept across a reload
// (localStorage), and the page says so plainly; it is sent, in order, as soon as the
// live connection is back, then said sent or, if the server refused it (the vote closed
// meanwhile), why. A proposal, a need and a comment carry their key (cocreate.js): sent
// twice, stored once. A secret ballot never waits on the phone: it says so instead.
(function () {
  "use strict";

  var box = null;
  var list = null;
  var storageKey = null;
  var queue = [];
  var sending = false;
  // What a failed request says: the network or the server, not the action.
  var RETRY = [0, 502, 503, 504];

  function load() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(storageKey) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (error) {
      return [];
    }
  }

  function save() {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(queue));
    } catch (error) {
      // Private browsing or a full storage: the queue lives as long as the page.
    }
  }

  function show(entry, state, reason) {
    var item = document.getElementById("outbox-" + entry.id);
    if (!item) {
      item = document.createElement("li");
      item.id = "outbox-" + entry.id;
      list.appendChild(item);
    }
    item.className = "outbox-item outbox-item--" + state;
    // The page's sentence, in its language: {what} “{text}”: {state}.
    item.textContent = box
      .getAttribute("data-line")
      .replace("{what}", box.getAttribute("data-" + entry.kind))
      .replace("{text}", entry.text)
      .replace("{state}", box.getAttribute("data-" + state).replace("{reason}", reason || ""))
      .trim();
    box.hidden = false;
  }

  function warn(message) {
    var flash = document.getElementById("flash");
    if (flash) {
      var said = document.createElement("p");
      said.className = "error";
      said.setAttribute("role", "alert");
      said.textContent = message;
      flash.innerHTML = "";
      flash.appendChild(said);
    }
  }

  function summary(form, data) {
    var text = data.get("text");
    if (typeof text === "string" && text) {
      return text.length > 60 ? text.slice(0, 59) + "…" : text;
    }
    var submitter = form.querySelector("button[aria-pressed][value='" + (data.get("choice") || data.get("reaction")) + "']");
    return submitter ? submitter.textContent.trim() : "";
  }

  // A failed request of a form that may wait: into the outbox, in place of an older
  // one of the same form (a vote changed while offline is sent once, the last one).
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    var config = event.detail.requestConfig;
    if (!box || !elt || !elt.closest || !config || config.verb !== "post") {
      return;
    }
    if (event.detail.successful || !xhr || RETRY.indexOf(xhr.status) < 0) {
      return;
    }
    var form = elt.closest("form");
    if (!form || !form.hasAttribute("data-outbox")) {
      // A ballot never waits on the phone (a secret one is sent only while connected);
      // joining again, a questionnaire…: said, to be done again.
      var ballot = form && form.classList.contains("ballot");
      warn(box.getAttribute(ballot ? "data-secret" : "data-network"));
      return;
    }
    var data = config.formData;
    var body = new URLSearchParams();
    data.forEach(function (value, name) {
      if (typeof value === "string") {
        body.append(name, value);
      }
    });
    var slot = form.getAttribute("data-outbox") + ":" + (form.id || form.getAttribute("action"));
    var keyed = data.get("action_key");
    var entry = {
      id: String(Date.now()) + Math.floor(Math.random() * 1e6),
      kind: form.getAttribute("data-outbox"),
      slot: keyed ? slot + ":" + keyed : slot,
      url: config.path,
      body: body.toString(),
      text: summary(form, data),
      // A vote or a reaction shows the phone's own choice: its answer is drawn in place.
      target: form.hasAttribute("data-once") ? null : (form.getAttribute("hx-target") || "").replace(/^#/, "")
    };
    queue = queue.filter(function (other) {
      var same = other.slot === entry.slot;
      if (same) {
        var old = document.getElementById("outbox-" + other.id);
        if (old) {
          old.remove();
        }
      }
      return !same;
    });
    queue.push(entry);
    save();
    show(entry, "waiting");
    pause = 2000;
    later();
    if (form.hasAttribute("data-once")) {
      form.reset(); // it is in the outbox now: typing it again would send it twice
      var key = form.querySelector("input[name='action_key']");
      if (key) {
        key.remove();
      }
    }
    var flash = document.getElementById("flash");
    if (flash) {
      flash.innerHTML = ""; // the outbox says what happened, in place of an error
    }
  });

  function token() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (error) {
      return "";
    }
  }

  function reasonOf(html) {
    var parsed = new DOMParser().parseFromString(html, "text/html");
    var error = parsed.querySelector(".error, [role='alert']");
    return (error || parsed.body).textContent.trim().slice(0, 200);
  }

  // Send what waits, oldest first; stop at the first that meets the network down again.
  function flush() {
    if (sending || !queue.length) {
      return;
    }
    if (!navigator.onLine) {
      later();
      return;
    }
    sending = true;
    var entry = queue[0];
    var body = new URLSearchParams(entry.body);
    body.set("csrf_token", token()); // the page's own: it may have been reloaded since
    window
      .fetch(entry.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      })
      .then(function (response) {
        return response.text().then(function (html) {
          return { status: response.status, html: html };
        });
      })
      .then(
        function (answer) {
          sending = false;
          if (RETRY.indexOf(answer.status) >= 0) {
            later(); // the server is not back yet
            return;
          }
          queue.shift();
          save();
          pause = 2000;
          if (answer.status < 300) {
            show(entry, "sent");
            var target = entry.target && document.getElementById(entry.target);
            if (target) {
              htmx.swap(target, answer.html, { swapStyle: "outerHTML" });
            }
          } else {
            show(entry, "refused", reasonOf(answer.html));
          }
          flush();
        },
        function () {
          sending = false; // still no network
          later();
        }
      );
  }

  // Tried again by itself too: the answer alone may have been lost while the live
  // connection stayed up (it then never says it is back). Every few seconds, longer
  // and longer, while something waits.
  var retry = null;
  var pause = 2000;
  function later() {
    if (retry !== null || !queue.length) {
      return;
    }
    retry = setTimeout(function () {
      retry = null;
      pause = Math.min(pause * 2, 30000);
      flush();
    }, pause);
  }

  function init() {
    box = document.getElementById("outbox");
    if (!box) {
      return;
    }
    list = box.querySelector(".outbox-list");
    storageKey = "cocreate-outbox-" + box.getAttribute("data-session");
    queue = load();
    queue.forEach(function (entry) {
      show(entry, "waiting");
    });
    later();
  }
  whenReady(init);
  // Joining answers with the session page swapped in place of the join page: its outbox
  // arrives then (scripts in swapped content do not run: the page loads this one first).
  document.addEventListener("htmx:afterSwap", function () {
    if (!box || !document.contains(box)) {
      init();
    }
  });
  document.addEventListener("htmx:wsOpen", function () {
    setTimeout(flush, 0);
  });
  window.addEventListener("online", flush);
})();

// cocreate's ballots on a phone: a ballot is final, so before it leaves the phone shows
// what will be cast, in words, and asks; a majority-judgment ballot with options left
// ungraded says they will count as "To reject". Without JavaScript the form is sent as
// it is (the server counts an ungraded option as "To reject" too).
(function () {
  "use strict";

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function labelOf(form, field) {
    var label = field.closest("label") || (field.id && form.querySelector("label[for='" + field.id + "']"));
    return text(label);
  }

  // What the form will send, as the person chose it: one line per choice.
  function summary(form, submitter) {
    var lines = [];
    var ungraded = 0;
    if (submitter && submitter.name === "choice") {
      lines.push(text(submitter)); // for / against / abstain / blank
    }
    form.querySelectorAll("fieldset.grade-row").forEach(function (row) {
      var checked = row.querySelector("input[type=radio]:checked");
      if (checked) {
        lines.push(text(row.querySelector("legend")) + " — " + labelOf(form, checked));
      } else {
        ungraded += 1;
      }
    });
    form.querySelectorAll("fieldset:not(.grade-row) input[type=radio]:checked, input[type=checkbox]:checked").forEach(function (field) {
      lines.push(labelOf(form, field));
    });
    var ranked = [];
    form.querySelectorAll("select").forEach(function (select) {
      if (select.value) {
        ranked.push([Number(select.value), labelOf(form, select)]);
      }
    });
    ranked.sort(function (a, b) {
      return a[0] - b[0];
    });
    ranked.forEach(function (pair) {
      lines.push(pair[0] + ". " + pair[1]);
    });
    form.querySelectorAll("input[type=number]").forEach(function (field) {
      if (field.value !== "" && Number(field.value) !== 0) {
        lines.push(labelOf(form, field) + " : " + field.value);
      }
    });
    var reason = form.querySelector("textarea");
    if (reason && reason.value.trim()) {
      lines.push("« " + reason.value.trim() + " »");
    }
    return { lines: lines, ungraded: ungraded };
  }

  function confirmPanel(form, submitter) {
    var chosen = summary(form, submitter);
    var panel = document.createElement("div");
    panel.className = "ballot-confirm";
    panel.setAttribute("role", "group");
    var title = document.createElement("h3");
    title.textContent = form.getAttribute("data-confirm-title");
    title.tabIndex = -1;
    panel.appendChild(title);
    var list = document.createElement("ul");
    (chosen.lines.length ? chosen.lines : [form.getAttribute("data-nothing")]).forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    panel.appendChild(list);
    if (chosen.ungraded) {
      var warning = document.createElement("p");
      warning.className = "warning";
      warning.textContent = chosen.ungraded === 1
        ? form.getAttribute("data-ungraded-one")
        : form.getAttribute("data-ungraded-many").replace("{count}", String(chosen.ungraded));
      panel.appendChild(warning);
    }
    var final = document.createElement("p");
    final.textContent = form.getAttribute("data-confirm-final");
    panel.appendChild(final);
    var buttons = document.createElement("div");
    buttons.className = "ballot-confirm-buttons";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "primary";
    yes.textContent = form.getAttribute("data-confirm-yes");
    var no = document.createElement("button");
    no.type = "button";
    no.textContent = form.getAttribute("data-confirm-no");
    buttons.appendChild(yes);
    buttons.appendChild(no);
    panel.appendChild(buttons);

    function close() {
      panel.remove();
      form.classList.remove("is-confirming");
    }
    yes.addEventListener("click", function () {
      form.setAttribute("data-confirmed", "1");
      close();
      if (form.requestSubmit) {
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } else {
        form.submit();
      }
    });
    no.addEventListener("click", function () {
      close();
      var first = form.querySelector("input, select, button");
      if (first) {
        first.focus();
      }
    });
    form.appendChild(panel);
    form.classList.add("is-confirming");
    title.focus();
  }

  // Ranked ballots: tap the options in order of preference (1, 2, 3 appear as they are
  // tapped; tap a ranked one to take it out), move one up or down by its buttons. The
  // numbered drop-downs stay in the form, hidden, and carry the order: never two
  // options on one rank.
  function enhanceRanking(fieldset) {
    if (fieldset.classList.contains("is-tapped")) {
      return;
    }
    var options = Array.prototype.map.call(fieldset.querySelectorAll(".number-row"), function (row) {
      return { label: text(row.querySelector("label")), select: row.querySelector("select") };
    });
    if (!options.length) {
      return;
    }
    fieldset.classList.add("is-tapped");
    var say = function (name, option, rank) {
      return fieldset.getAttribute("data-" + name).replace("{option}", option).replace("{rank}", rank);
    };
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = fieldset.getAttribute("data-tap-hint");
    var orderTitle = document.createElement("p");
    orderTitle.className = "rank-title";
    orderTitle.textContent = fieldset.getAttribute("data-order");
    var order = document.createElement("ol");
    order.className = "rank-order";
    var leftTitle = document.createElement("p");
    leftTitle.className = "rank-title";
    leftTitle.textContent = fieldset.getAttribute("data-left");
    var pool = document.createElement("div");
    pool.className = "rank-pool";
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    [hint, orderTitle, order, leftTitle, pool, status].forEach(function (element) {
      fieldset.appendChild(element);
    });

    // The order as the drop-downs say it (a ballot drawn again keeps what was chosen);
    // ranks repeated or skipped there are made whole.
    var ranked = options
      .filter(function (o) {
        return o.select.value;
      })
      .sort(function (a, b) {
        return Number(a.select.value) - Number(b.select.value);
      });

    function button(label, className, name, action) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = className;
      b.textContent = label;
      if (name) {
        b.setAttribute("aria-label", name);
      }
      b.addEventListener("click", action);
      return b;
    }

    function draw(focusLabel) {
      options.forEach(function (o) {
        var at = ranked.indexOf(o);
        o.select.value = at < 0 ? "" : String(at + 1);
      });
      order.innerHTML = "";
      pool.innerHTML = "";
      var toFocus = null;
      ranked.forEach(function (o, at) {
        var item = document.createElement("li");
        var main = button((at + 1) + ". " + o.label, "rank-chosen", say("out", o.label), function () {
          ranked.splice(ranked.indexOf(o), 1);
          draw(o.label);
        });
        item.appendChild(main);
        if (at > 0) {
          item.appendChild(button("↑", "rank-move", say("up", o.label), function () {
            ranked.splice(at, 1);
            ranked.splice(at - 1, 0, o);
            draw(o.label);
          }));
        }
        if (at < ranked.length - 1) {
          item.appendChild(button("↓", "rank-move", say("down", o.label), function () {
            ranked.splice(at, 1);
            ranked.splice(at + 1, 0, o);
            draw(o.label);
          }));
        }
        order.appendChild(item);
        if (o.label === focusLabel) {
          toFocus = main;
        }
      });
      if (!ranked.length) {
        var none = document.createElement("li");
        none.className = "rank-none";
        none.textContent = fieldset.getAttribute("data-none");
        order.appendChild(none);
      }
      options.forEach(function (o) {
        if (ranked.indexOf(o) >= 0) {
          return;
        }
        var add = button(o.label, "rank-add", say("in", o.label, ranked.length + 1), function () {
          ranked.push(o);
          draw(o.label);
        });
        pool.appendChild(add);
        if (o.label === focusLabel) {
          toFocus = add;
        }
      });
      status.textContent = ranked.map(function (o, at) {
        return (at + 1) + ". " + o.label;
      }).join(", ");
      if (toFocus) {
        toFocus.focus();
      }
    }
    draw(null);
  }

  function enhance(root) {
    if (root.querySelectorAll) {
      root.querySelectorAll("form.ballot fieldset.ranking").forEach(enhanceRanking);
    }
    if (root.matches && root.matches("fieldset.ranking")) {
      enhanceRanking(root);
    }
  }
  whenReady(function () {
    enhance(document);
    // Ballots arrive with the live frames and the answers: htmx says when it draws one.
    htmx.onLoad(enhance);
  });

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form || !form.matches || !form.matches("form.ballot[data-confirm-title]")) {
        return;
      }
      if (form.getAttribute("data-confirmed") === "1") {
        form.removeAttribute("data-confirmed"); // confirmed: on its way, as htmx sends it
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation(); // htmx (on the form) must not send it yet
      if (!form.classList.contains("is-confirming")) {
        confirmPanel(form, event.submitter);
      }
    },
    true
  );
})();

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
  whenReady(apply);
})();
