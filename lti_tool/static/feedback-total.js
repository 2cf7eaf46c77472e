// The total of the feedback form (lti_tool/templates/feedback/form.html), explained as the assessor picks
// levels: one line per criterion and the total, in the words and digits the server's engine
// (rubrics/scoring.py) will store when the form is submitted. The server put the engine's own factors in the
// page (lti_tool/feedback/live_total.py); this script redoes its decimal arithmetic with integers: products,
// sums and quotients to 28 significant digits rounded half even (Python's decimal context), the total and
// shares rounded once, half up, to two places. Without the script the form works and the server explains.
(function () {
  "use strict";
  var form = document.querySelector("form.feedback-form");
  var panel = document.querySelector("[data-testid=live-total]");
  if (!form || !panel || typeof BigInt !== "function") { return; }
  var PRECISION = 28;
  var TEN = BigInt(10), ZERO = BigInt(0), ONE = BigInt(1), TWO = BigInt(2);
  var mode = panel.getAttribute("data-mode");
  var list = panel.querySelector("[data-testid=live-lines]");
  var summary = panel.querySelector("[data-testid=live-total-sum]");

  // -- decimals: {c: BigInt, e: Number} is c × 10^e ----------------------------------------------------
  function parse(text) {
    var match = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(text || "");
    if (!match || (match[2] + (match[3] || "")) === "") { return null; }
    var fraction = match[3] || "";
    var c = BigInt((match[2] || "0") + fraction);
    return { c: match[1] === "-" ? -c : c, e: -fraction.length };
  }
  function pow10(n) { return TEN ** BigInt(n); }
  function abs(c) { return c < ZERO ? -c : c; }
  function digits(c) { return abs(c).toString().length; }
  function roundToContext(d) {  // half even, as Python's default context
    var count = digits(d.c);
    if (count <= PRECISION) { return d; }
    var drop = count - PRECISION, unit = pow10(drop), negative = d.c < ZERO;
    var q = abs(d.c) / unit, r = abs(d.c) % unit;
    if (TWO * r > unit || (TWO * r === unit && q % TWO === ONE)) { q += ONE; }
    return { c: negative ? -q : q, e: d.e + drop };
  }
  function multiply(a, b) { return roundToContext({ c: a.c * b.c, e: a.e + b.e }); }
  function add(a, b) {
    var e = Math.min(a.e, b.e);
    return roundToContext({ c: a.c * pow10(a.e - e) + b.c * pow10(b.e - e), e: e });
  }
  function divide(a, b) {
    // Enough digits that rounding to the context's precision is decided, and a sticky last digit for a
    // remainder, so that an exact half is told from a little more than half.
    var shift = PRECISION + 2 + Math.max(0, digits(b.c) - digits(a.c));
    var numerator = abs(a.c) * pow10(shift), divisor = abs(b.c);
    var q = numerator / divisor, r = numerator % divisor;
    q = q * TEN + (r === ZERO ? ZERO : ONE);
    var negative = (a.c < ZERO) !== (b.c < ZERO);
    return roundToContext({ c: negative ? -q : q, e: a.e - b.e - shift - 1 });
  }
  function compare(a, b) {
    var e = Math.min(a.e, b.e);
    var x = a.c * pow10(a.e - e), y = b.c * pow10(b.e - e);
    return x === y ? 0 : (x < y ? -1 : 1);
  }
  function hundredths(d) {  // half up, as rubrics.exact_numbers.round_hundredths
    if (d.e >= -2) { return { c: d.c * pow10(d.e + 2), e: -2 }; }
    var unit = pow10(-2 - d.e), negative = d.c < ZERO;
    var q = abs(d.c) / unit, r = abs(d.c) % unit;
    if (TWO * r >= unit) { q += ONE; }
    return { c: negative ? -q : q, e: -2 };
  }
  function show(d) {  // as rubrics.exact_numbers.format_decimal: no exponent, no trailing zeros
    var c = d.c, e = d.e;
    if (c === ZERO) { return "0"; }
    while (e < 0 && c % TEN === ZERO) { c = c / TEN; e += 1; }
    var negative = c < ZERO, text = abs(c).toString();
    if (e >= 0) { text += "0".repeat(e); }
    else {
      var point = text.length + e;
      text = point > 0 ? text.slice(0, point) + "." + text.slice(point)
        : "0." + "0".repeat(-point) + text;
    }
    return (negative ? "-" : "") + text;
  }
  var HUNDRED = { c: BigInt(100), e: 0 };

  // -- the form ---------------------------------------------------------------------------------------------
  function criterionLine(set) {
    var title = set.getAttribute("data-title");
    var chosen = set.querySelector('input[type="radio"]:checked');
    if (!chosen) { return { text: title + ": no level chosen yet", scored: false }; }
    var levelTitle = chosen.getAttribute("data-title");
    if (mode === "levels_only") {
      return { text: title + ": '" + levelTitle + "' (level " + chosen.getAttribute("data-number") + " of " +
               set.getAttribute("data-level-count") + ")", scored: true };
    }
    var points = parse(chosen.getAttribute("data-points"));
    var least = parse(chosen.getAttribute("data-min-points"));
    var typed = set.querySelector('input[name^="points-"]');
    if (typed && typed.value.trim() !== "") {
      var chosenPoints = parse(typed.value);
      if (!chosenPoints) { return { text: title + ": the points typed are not a number", scored: false }; }
      var isRange = compare(least, points) !== 0;
      if ((!isRange && compare(chosenPoints, points) !== 0) ||
          compare(chosenPoints, least) < 0 || compare(chosenPoints, points) > 0) {
        return { text: title + ": the points typed are outside the level's " +
                 (isRange ? "range " + show(least) + " to " + show(points) : "points (" + show(points) + ")"),
                 scored: false };
      }
      points = chosenPoints;
    }
    var maxPoints = parse(set.getAttribute("data-max-points"));
    var exact = multiply(points, parse(set.getAttribute("data-factor")));
    var most = parse(set.getAttribute("data-max-contribution"));
    var weight = parse(set.getAttribute("data-weight"));
    var text = title + ": '" + levelTitle + "' = " + show(points) + " of " + show(maxPoints) + " points";
    var shown = exact;
    if (mode === "weighted_percentage") {
      shown = hundredths(exact);
      var share = hundredths(divide(multiply(points, HUNDRED), maxPoints));
      text += " (" + show(share) + "%) × weight share " + show(most) + "% = " + show(shown) + " of " + show(most);
    } else if (compare(weight, { c: ONE, e: 0 }) !== 0) {
      text += " × weight " + show(weight) + " = " + show(exact) + " of " + show(most);
    }
    return { text: text, scored: true, exact: exact, shown: shown, most: most };
  }

  function update() {
    var lines = [], scored = 0, total = { c: ZERO, e: 0 }, shownSum = { c: ZERO, e: 0 }, reached = { c: ZERO, e: 0 };
    var sets = form.querySelectorAll("fieldset[data-criterion]");
    Array.prototype.forEach.call(sets, function (set) {
      var line = criterionLine(set);
      lines.push(line.text);
      if (!line.scored) { return; }
      scored += 1;
      if (line.exact) {
        total = add(total, line.exact);
        shownSum = add(shownSum, line.shown);
        reached = add(reached, line.most);
      }
    });
    var complete = scored === sets.length, sentence;
    if (mode === "levels_only") {
      if (complete) { lines.push("This rubric records levels only, so there is no points total."); }
      sentence = complete ? "Every criterion has a level." : scored + " of " + sets.length + " criteria have a level.";
    } else {
      var maxPossible = parse(panel.getAttribute("data-max-possible"));
      var final, percentage, closing;
      if (mode === "weighted_percentage") {
        final = hundredths(total);
        percentage = final;
        closing = "Total: " + show(final) + " of 100 = " + show(percentage) + "%";
      } else {
        final = total;
        percentage = hundredths(divide(multiply(total, HUNDRED), maxPossible));
        closing = "Total: " + show(final) + " of " + show(maxPossible) + " points = " + show(percentage) + "%";
      }
      if (complete) {
        lines.push(closing);
        if (mode === "weighted_percentage" && compare(shownSum, final) !== 0) {
          lines.push("Lines are rounded to 2 decimal places; the total is rounded once, after adding.");
        }
        sentence = closing + ".";
      } else {
        sentence = "So far " + show(mode === "weighted_percentage" ? hundredths(total) : total) + " of " +
          show(mode === "weighted_percentage" ? hundredths(reached) : reached) + " from " + scored + " of " +
          sets.length + " criteria; the total out of " + show(maxPossible) +
          (mode === "points" ? " points" : "") + " comes once every criterion has a level.";
      }
    }
    list.textContent = "";
    lines.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    if (summary.textContent !== sentence) { summary.textContent = sentence; }
  }

  panel.hidden = false;
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  form.addEventListener("cadre-filled", update);  // feedback-form.js filled the form (a kept or saved copy)
  update();
}());
