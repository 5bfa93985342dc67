// report.html's script: sort and filter the combos table, switch the heatmap variants.
// No library and no request: everything it needs is in the page.
(function () {
  "use strict";

  function sortValue(cell, numeric) {
    if (!numeric) return cell.textContent.trim().toLowerCase();
    var text = cell.getAttribute("data-v");
    return text === null || text === "" ? NaN : parseFloat(text);
  }

  // Numbers by data-v (empty cells last either way), text by content; ties keep grid order.
  function sortTable(table, th) {
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-type") === "num";
    var descending = th.getAttribute("aria-sort") !== "descending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = sortValue(a.cells[column], numeric), y = sortValue(b.cells[column], numeric);
      var missingX = numeric && isNaN(x), missingY = numeric && isNaN(y);
      if (missingX || missingY) return missingX === missingY ? 0 : (missingX ? 1 : -1);
      if (x === y) return 0;
      return (x < y ? -1 : 1) * (descending ? -1 : 1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(th.parentNode.children, function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  // Terms: plain text (every term must appear in the row) or key<op>value on a column,
  // e.g. "10:30 target=15 net>0 trades>=200".
  function parseTerms(text) {
    return text.trim().split(/\s+/).filter(Boolean).map(function (term) {
      var match = /^([A-Za-z_0-9]+)(<=|>=|!=|=|<|>)(.+)$/.exec(term);
      return match ? { key: match[1].toLowerCase(), op: match[2], value: match[3] }
                   : { text: term.toLowerCase() };
    });
  }

  function compare(cell, numeric, op, wanted) {
    if (numeric && !isNaN(parseFloat(wanted))) {
      var value = sortValue(cell, true), target = parseFloat(wanted);
      if (isNaN(value)) return false;
      return { "<": value < target, "<=": value <= target, ">": value > target,
               ">=": value >= target, "=": value === target, "!=": value !== target }[op];
    }
    var text = cell.textContent.trim().toLowerCase(), want = wanted.toLowerCase();
    if (op === "=") return text === want;
    if (op === "!=") return text !== want;
    return false;
  }

  function filterTable(table, input, counter) {
    var heads = table.tHead.rows[0].cells, columns = {};
    Array.prototype.forEach.call(heads, function (th, i) {
      columns[(th.getAttribute("data-key") || "").toLowerCase()] = i;
    });
    var terms = parseTerms(input.value), shown = 0, rows = table.tBodies[0].rows;
    Array.prototype.forEach.call(rows, function (row) {
      var text = row.textContent.toLowerCase();
      var keep = terms.every(function (term) {
        if (term.text !== undefined) return text.indexOf(term.text) !== -1;
        var i = columns[term.key];
        if (i === undefined) return false;
        return compare(row.cells[i], heads[i].getAttribute("data-type") === "num",
                       term.op, term.value);
      });
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    counter.textContent = "showing " + shown + " of " + rows.length;
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () { sortTable(table, th); });
    });
    var input = document.getElementById(table.id + "-filter");
    var counter = document.getElementById(table.id + "-count");
    if (input && counter) {
      input.addEventListener("input", function () { filterTable(table, input, counter); });
      filterTable(table, input, counter);
    }
  });

  var aggregate = document.getElementById("hm-agg");
  var metric = document.getElementById("hm-metric");
  function showMaps() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.heatmap .hm"), function (map) {
      map.hidden = !(map.getAttribute("data-agg") === aggregate.value &&
                     map.getAttribute("data-metric") === metric.value);
    });
  }
  if (aggregate && metric) {
    aggregate.addEventListener("change", showMaps);
    metric.addEventListener("change", showMaps);
    showMaps();  // a reload may restore other selections than the page's defaults
  }
}());
