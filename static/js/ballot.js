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
  document.addEventListener("DOMContentLoaded", function () {
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
