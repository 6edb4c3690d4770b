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
