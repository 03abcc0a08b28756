(function(){
  "use strict";
  function all(open){
    document.querySelectorAll(".tree details").forEach(function(d){ d.open = open; });
  }
  var e = document.getElementById("expand-all");
  if (e) e.addEventListener("click", function(){ all(true); });
  var c = document.getElementById("collapse-all");
  if (c) c.addEventListener("click", function(){ all(false); });
  // Text diffs side by side, or unified (the default, and in print).
  var s = document.getElementById("side-by-side");
  if (s) s.addEventListener("click", function(){
    var on = document.body.classList.toggle("sbs");
    s.setAttribute("aria-pressed", on ? "true" : "false");
  });
  // Printing shows everything, whatever was folded.
  window.addEventListener("beforeprint", function(){
    document.querySelectorAll("details").forEach(function(d){ d.open = true; });
  });
  // Opening a link to a node (#n-12) opens the nodes around it.
  function reveal(){
    if (!location.hash) return;
    var t = document.getElementById(location.hash.slice(1));
    for (var n = t; n; n = n.parentElement) {
      if (n.tagName === "DETAILS") n.open = true;
    }
    if (t) t.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
