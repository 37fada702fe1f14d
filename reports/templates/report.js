/* Sorting, filtering and search for the inventory. No network, no eval, no innerHTML: it only
   reads the text of cells and moves or hides rows, so device strings stay text. The page's
   Content-Security-Policy allows this script alone, by its hash. */
(function () {
  "use strict";
  var table = document.getElementById("inventory-table");
  if (!table) { return; }  // an empty scan: nothing to sort
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var status = document.getElementById("filter-status");
  var vendor = document.getElementById("filter-vendor");
  var site = document.getElementById("filter-site");
  var search = document.getElementById("filter-search");
  var shown = document.getElementById("filter-count");
  var texts = null;

  function column(name) {
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("data-col") === name) { return i; }
    }
    return -1;
  }
  var vendorCol = column("vendor");
  var siteCol = column("site");

  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent : "";
  }

  function apply() {
    var wantStatus = status.value;
    var wantVendor = vendor.value;
    var wantSite = site ? site.value : "";
    var query = search.value.trim().toLowerCase();
    if (query && texts === null) {
      texts = new Map();
      rows.forEach(function (row) { texts.set(row, row.textContent.toLowerCase()); });
    }
    var count = 0;
    rows.forEach(function (row) {
      var ok = (!wantStatus || row.classList.contains(wantStatus)) &&
        (!wantVendor || cellText(row, vendorCol).trim() === wantVendor) &&
        (!wantSite || cellText(row, siteCol).trim() === wantSite) &&
        (!query || texts.get(row).indexOf(query) !== -1);
      if (row.hidden === ok) { row.hidden = !ok; }
      if (ok) { count++; }
    });
    shown.textContent = count === rows.length
      ? "Showing all " + rows.length + " devices"
      : "Showing " + count + " of " + rows.length + " devices";
  }

  var RANK = { "row-covered": 0, "row-review": 1, "row-clear": 2 };
  function statusRank(row) {
    for (var name in RANK) {
      if (row.classList.contains(name)) { return RANK[name]; }
    }
    return 3;
  }

  function ipKey(row, index) {
    // The cell's first text is the address; dotted quads sort by number, anything else after.
    var cell = row.cells[index];
    var first = cell && cell.firstChild ? (cell.firstChild.nodeValue || "") : "";
    var parts = first.trim().split(".");
    if (parts.length === 4 && parts.every(function (p) { return /^[0-9]{1,3}$/.test(p); })) {
      return parts.reduce(function (n, p) { return n * 256 + Number(p); }, 0);
    }
    return Number.MAX_SAFE_INTEGER;
  }

  function sortBy(head, index) {
    var kind = head.getAttribute("data-sort");
    var ascending = head.getAttribute("aria-sort") !== "ascending";
    var keyed = rows.map(function (row, position) {
      var key;
      if (kind === "status") { key = statusRank(row); }
      else if (kind === "ip") { key = ipKey(row, index); }
      else if (kind === "num") { key = parseFloat(cellText(row, index)) || 0; }
      else { key = cellText(row, index).trim().toLowerCase(); }
      return [key, position, row];
    });
    keyed.sort(function (a, b) {
      if (a[0] < b[0]) { return ascending ? -1 : 1; }
      if (a[0] > b[0]) { return ascending ? 1 : -1; }
      return a[1] - b[1];
    });
    rows = keyed.map(function (item) { return item[2]; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
    head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  heads.forEach(function (head, index) {
    var button = head.querySelector("button");
    if (button) { button.addEventListener("click", function () { sortBy(head, index); }); }
  });
  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, rows.length > 5000 ? 250 : 60);
  });
  [status, vendor, site].forEach(function (control) {
    if (control) { control.addEventListener("change", apply); }
  });
  document.getElementById("inventory-controls").hidden = false;
  apply();
})();
document.documentElement.classList.add("ready");
