// The survey form: show (and send) only the fields of the chosen kind of period, and leave
// empty values out of the address. Without this script the page still works: the server
// shows the chosen kind's fields and tidies the address.
(function () {
  "use strict";
  var form = document.querySelector("form.survey-form");
  if (!form) { return; }
  var kind = form.querySelector("select[name=period]");

  function showFields() {
    form.querySelectorAll("[data-period-kinds]").forEach(function (field) {
      var shown = field.getAttribute("data-period-kinds").split(" ").indexOf(kind.value) >= 0;
      field.hidden = !shown;
      field.querySelectorAll("input").forEach(function (input) { input.disabled = !shown; });
    });
  }

  kind.addEventListener("change", showFields);
  showFields();
  form.addEventListener("formdata", function (event) {
    var empty = [];
    event.formData.forEach(function (value, name) { if (value === "") { empty.push(name); } });
    empty.forEach(function (name) {
      var kept = event.formData.getAll(name).filter(function (value) { return value !== ""; });
      event.formData.delete(name);
      kept.forEach(function (value) { event.formData.append(name, value); });
    });
  });
}());
