(function(){
  "use strict";
  function all(open){
    document.querySelectorAll(".tree details").forEach(function(d){ d.open = open; });
  }
  var e = document.getElementById("expand-all");
  if (e) e.addEventListener("click", function(){ all(true); });
  var c = document.getElementById("collapse-all");
  if (c) c.addEventListener("click", function(){ all(false); });
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
