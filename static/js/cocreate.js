// cocreate: the little glue htmx's websocket extension needs. No inline script anywhere
// (the Content-Security-Policy forbids it), no eval.
(function () {
  "use strict";

  function lastSeq() {
    var marker = document.getElementById("live-seq");
    return marker ? marker.getAttribute("data-seq") : null;
  }

  function say(state) {
    var status = document.querySelector(".connection");
    if (status) {
      status.textContent = status.getAttribute("data-" + state);
      status.hidden = false;
    }
  }

  function setOnline(online) {
    document.body.classList.toggle("is-offline", !online);
    say(online ? "online" : "offline");
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[ws-connect]")) {
      say("connecting");
    }
  });

  // Back in seconds: after a cut, the next try comes within 1.5 s at most (jittered, so
  // a room of phones does not come back all at the same instant), and at once when the
  // browser says the network is back or the page is looked at again.
  // A request with no answer after 20 s is given up (a network that drops packets
  // without a word): the phone says so, or keeps it to send again (phone.js).
  htmx.config.timeout = 20000;
  htmx.config.wsReconnectDelay = function (retryCount) {
    var ceiling = Math.min(1500, 200 * Math.pow(2, retryCount));
    return ceiling * (0.5 + Math.random() * 0.5);
  };
  var socket = null; // the extension's socket of this page (its public interface)
  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
  });
  document.addEventListener("htmx:wsClose", function (event) {
    socket = event.detail.socketWrapper || socket;
  });
  function reconnectNow() {
    if (socket && document.body.classList.contains("is-offline")) {
      socket.reconnect();
    }
  }
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      reconnectNow();
    }
  });

  // On every (re)connection, tell the server the last event this page has shown:
  // it answers with exactly what was missed, or a fresh snapshot.
  document.addEventListener("htmx:wsOpen", function (event) {
    var seq = lastSeq();
    event.detail.socketWrapper.sendImmediately(JSON.stringify({ last_seq: seq === null ? null : Number(seq) }));
    setOnline(true);
  });

  document.addEventListener("htmx:wsClose", function () {
    setOnline(false);
  });

  // Fragments that arrive over the websocket are drawn once for every screen of an
  // audience, so they cannot carry anyone's CSRF token: htmx sends this page's token as
  // a header (the body's hx-headers), and a plain form posted without htmx gets it here,
  // as the field the server reads, just before it leaves. A form drawn with its own
  // token keeps it.
  function pageToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return typeof headers["X-CSRF-Token"] === "string" ? headers["X-CSRF-Token"] : null;
    } catch (error) {
      return null;
    }
  }
  // A phone's action carries a key it made (action_key): sent again (a double tap, a
  // retry after no answer) it is stored once. The same form sent again with the same
  // words keeps its key; changed words are another action, with a new key.
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }
  function fingerprint(form) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "action_key" && name !== "csrf_token") {
        parts.push(name + "=" + value);
      }
    });
    return parts.join("&");
  }
  var keyedWords = new WeakMap(); // a key field -> the words it was made for
  function giveKey(form) {
    var field = form.querySelector("input[name='action_key']");
    var words = fingerprint(form);
    if (field && keyedWords.get(field) === words) {
      return;
    }
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "action_key";
      form.appendChild(field);
    }
    field.value = newKey();
    keyedWords.set(field, words);
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form || form.tagName !== "FORM" || (form.getAttribute("method") || "").toLowerCase() !== "post") {
        return;
      }
      if (form.hasAttribute("data-once")) {
        giveKey(form);
      }
      var token = pageToken();
      if (token === null || form.querySelector("input[name='csrf_token']")) {
        return;
      }
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrf_token";
      field.value = token;
      form.appendChild(field);
    },
    true
  );

  // A form may name where its refusal is said, beside it (data-error-target): the
  // server puts it there instead of the page's message region; emptied as it leaves.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var form = elt && elt.closest ? elt.closest("[data-error-target]") : null;
    if (!form) {
      return;
    }
    var id = form.getAttribute("data-error-target");
    event.detail.headers["X-Error-Target"] = id;
    var slot = document.getElementById(id);
    if (slot) {
      slot.innerHTML = "";
    }
  });

  // A page swapped in (the session page after joining) may need scripts its first page
  // did not load (the websocket extension, the phone's): loaded in order, then htmx
  // looks at the page again, which connects it live.
  document.addEventListener("DOMContentLoaded", function () {
    var wanted = document.getElementById("page-scripts");
    if (wanted) {
      wanted.remove(); // a page loaded as such has its scripts in its head
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var wanted = document.getElementById("page-scripts");
    if (!wanted) {
      return;
    }
    var have = Array.prototype.map.call(document.scripts, function (script) {
      return script.getAttribute("src");
    });
    var missing = wanted.getAttribute("data-src").split(" ").filter(function (src) {
      return src && have.indexOf(src) < 0;
    });
    wanted.remove();
    // htmx took the page in before its extension was there, and does not look at an
    // element twice: once the extension is loaded, the live region is drawn anew (a
    // copy) for htmx to take it; the phone's script comes after, onto that copy.
    function refreshLive() {
      var live = document.querySelector("[ws-connect]");
      if (live) {
        var fresh = live.cloneNode(true);
        live.replaceWith(fresh);
        htmx.process(fresh);
      }
    }
    var extension = missing.some(function (src) {
      return src.indexOf("htmx-ext-ws") >= 0;
    });
    (function next() {
      if (!missing.length) {
        return;
      }
      var script = document.createElement("script");
      script.src = missing.shift();
      script.onload = function () {
        if (extension && script.src.indexOf("htmx-ext-ws") >= 0) {
          refreshLive();
        }
        next();
      };
      document.head.appendChild(script);
    })();
  });

  // An error shown in the message region goes away when tapped, or on the next success.
  document.addEventListener("click", function (event) {
    var flash = event.target.closest && event.target.closest(".flash");
    if (flash) {
      flash.innerHTML = "";
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var flash = document.getElementById("flash");
    if (flash && event.detail.successful && event.detail.xhr && event.detail.xhr.status < 300) {
      flash.innerHTML = "";
    }
  });

  // A fragment may insert a card this page already shows (a page drawn just after the
  // event it replays): replace the old one rather than show it twice.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var fragment = event.detail.fragment;
    if (!fragment || !fragment.querySelectorAll) {
      return;
    }
    fragment.querySelectorAll(".card[id]").forEach(function (card) {
      var existing = document.getElementById(card.id);
      if (existing && existing !== card && !existing.contains(event.detail.target)) {
        existing.remove();
      }
    });
  });

  // A card that arrives by broadcast loads this phone's own vote. If the phone votes
  // while that load is on its way, the load's answer is older than the vote: drop it, or
  // it would show the choice as it was before the tap.
  var votedAt = {};
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.matches && elt.matches("form.vote")) {
      votedAt[elt.id] = performance.now();
    } else if (elt.hasAttribute && elt.hasAttribute("data-lazy-vote")) {
      elt.setAttribute("data-sent-at", String(performance.now()));
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // detail.elt is the swap's target here; the element that asked is the request's.
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-lazy-vote")) {
      return;
    }
    var voted = votedAt[elt.getAttribute("data-lazy-vote")];
    if (voted !== undefined && voted >= Number(elt.getAttribute("data-sent-at"))) {
      event.detail.shouldSwap = false;
    }
  });

  // The countdown. The server says how much time is left (its clock is the only one
  // that counts); the page counts down from there with its own monotonic clock, so a
  // phone set to the wrong time still shows the right countdown. A new #timer (paused,
  // extended, another step) restarts the count from what it says.
  var timer = null;
  var timerStart = 0;

  function formatClock(ms) {
    var total = Math.ceil(ms / 1000);
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    var mm = hours ? (minutes < 10 ? "0" : "") + minutes : String(minutes);
    return (hours ? hours + ":" : "") + mm + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  function tick() {
    var element = document.getElementById("timer");
    if (element !== timer) {
      timer = element;
      timerStart = performance.now();
    }
    if (!timer || !timer.hasAttribute("data-remaining-ms")) {
      return;
    }
    var remaining = Number(timer.getAttribute("data-remaining-ms"));
    if (timer.getAttribute("data-running") === "true") {
      remaining = Math.max(0, remaining - (performance.now() - timerStart));
    }
    var clock = timer.querySelector(".timer-clock");
    var shown = formatClock(remaining);
    if (clock && clock.textContent !== shown) {
      // Only when the second changes: a cheap phone need not lay out and repaint the
      // page four times a second for the same figures.
      clock.textContent = shown;
    }
    var done = remaining <= 0;
    timer.classList.toggle("timer--done", done);
    var stage = document.getElementById("stage");
    if (stage && timer.getAttribute("data-auto-close") === "true") {
      stage.classList.toggle("inputs-closed", done);
    }
  }

  setInterval(tick, 250);
  document.addEventListener("htmx:load", tick);

  // The projector is one screen, never scrolled: when the step's cards, polls and
  // decisions do not all fit, they are shown a page at a time, each page as full as it
  // fits, turning every PAGE_MS. Pages are measured again whenever a fragment lands or
  // the window changes size, so a new card never pushes another off the screen.
  var PAGE_MS = 10000;
  var page = 0;
  var pageTurn = null;
  var paginating = null;

  // Presenter mode: the facilitator may put one thing on the projector (#presenting,
  // redrawn live); the body's classes say which, the stylesheet shows only that.
  var VIEWS = ["step", "join", "proposal", "turnout", "result", "decisions"];

  function presentedView() {
    var marker = document.getElementById("presenting");
    var view = marker ? marker.getAttribute("data-view") : "step";
    var subject = marker ? marker.getAttribute("data-subject") : "";
    document.querySelectorAll(".is-presented").forEach(function (e) { e.classList.remove("is-presented"); });
    var target = null;
    if (view === "proposal") {
      target = document.getElementById("proposal-" + subject);
    } else if (view === "turnout" || view === "result") {
      target = document.getElementById("poll-" + subject);
    }
    if (target) {
      target.classList.add("is-presented");
    } else if (view === "proposal" || view === "turnout" || view === "result") {
      view = "step"; // hidden or gone since: the room sees the step again
    }
    VIEWS.forEach(function (v) { document.body.classList.toggle("presenting--" + v, v === view); });
    document.body.classList.toggle("presenting-one", target !== null);
    return view;
  }

  function pageItems(stage, view) {
    var selector = {
      step: ".card, .poll, .decision",
      proposal: ".is-presented .comments > li",
      decisions: ".screen-decisions .decision"
    }[view];
    if (!selector) {
      return [];
    }
    return Array.prototype.filter.call(
      stage.querySelectorAll(selector),
      function (item) { return view !== "step" || !item.parentElement.closest("[hidden]"); }
    );
  }

  function pageSection(item) {
    return item.closest(".polls-section, .wall-section, .screen-decisions");
  }

  function overflows(stage) {
    return stage.scrollHeight > stage.clientHeight + 1;
  }

  function setShown(item, shown) {
    item.classList.toggle("paged-out", !shown);
    var section = pageSection(item);
    if (section) { section.classList.toggle("paged-out", !shown); }
  }

  // Shows the items from `start` on until the next one would not fit (all others are
  // paged out); returns where the next page starts (at least one item per page, so
  // paging always moves on). Only the page's items are laid out: a wall of thousands
  // costs one layout per item, once.
  function fill(stage, items, start) {
    var i = start;
    for (; i < items.length; i++) {
      setShown(items[i], true);
      if (i > start && overflows(stage)) {
        setShown(items[i], false);
        if (pageSection(items[i]) === pageSection(items[i - 1])) {
          setShown(items[i - 1], true); // the section is still on this page
        }
        break;
      }
    }
    return i;
  }

  function clear(items, from, to) {
    for (var j = from; j < to; j++) { setShown(items[j], false); }
  }

  function paginate() {
    var stage = document.getElementById("stage");
    var pager = document.getElementById("screen-pager");
    if (!stage || !pager) {
      return;
    }
    stage.querySelectorAll(".paged-out").forEach(function (e) { e.classList.remove("paged-out"); });
    var items = pageItems(stage, presentedView());
    if (!overflows(stage) || items.length < 2) {
      page = 0;
      pager.hidden = true;
      return;
    }
    clear(items, 0, items.length);
    var starts = [0];
    var next = fill(stage, items, 0);
    while (next < items.length) {
      clear(items, starts[starts.length - 1], next);
      starts.push(next);
      next = fill(stage, items, next);
    }
    clear(items, starts[starts.length - 1], next);
    page = page % starts.length;
    fill(stage, items, starts[page]);
    pager.textContent = pager.getAttribute("data-label")
      .replace("{page}", String(page + 1)).replace("{count}", String(starts.length));
    pager.hidden = false;
  }

  function paginateSoon() {
    if (paginating === null) {
      paginating = setTimeout(function () { paginating = null; paginate(); }, 50);
    }
  }

  function turnPage() {
    page += 1;
    paginate();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("screen-pager")) {
      return;
    }
    paginate();
    pageTurn = setInterval(turnPage, PAGE_MS);
    window.addEventListener("resize", paginateSoon);
    document.body.addEventListener("htmx:oobAfterSwap", paginateSoon);
    document.body.addEventListener("htmx:afterSettle", paginateSoon);
  });

  // The facilitator's own projector page: ← and → move it through the step's things,
  // as the console's Previous and Next do (the server checks who asks).
  document.addEventListener("keydown", function (event) {
    var keys = document.getElementById("presenter-keys");
    var move = { ArrowRight: "next", ArrowLeft: "back" }[event.key];
    if (!keys || !move || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    var headers = { "HX-Request": "true" };
    try {
      var pageHeaders = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      Object.keys(pageHeaders).forEach(function (name) { headers[name] = pageHeaders[name]; });
    } catch (error) {
      return;
    }
    fetch(keys.getAttribute("data-" + move), {
      method: "POST", headers: headers, body: new URLSearchParams(), credentials: "same-origin"
    });
  });
})();
