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
  document.addEventListener("DOMContentLoaded", init);
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
