// Set-up for the vendored Jupyter widgets bundle. Pages that hold widgets load, in this order:
// require.js, this file, embed-amd.js (see `nb_ipywidgets_js` in _config.yml).
(function () {
  "use strict";

  // 1. Icon fonts. The bundle loads its Font Awesome files relative to the URLs of its AMD
  //    modules ("@jupyter-widgets/controls", "@jupyter-widgets/html-manager/dist/libembed-amd"),
  //    which RequireJS would place next to the page. Map both to this folder, where
  //    tools/vendor_assets.sh put the fonts, so every page finds them wherever it lives.
  //    (The modules themselves are defined inside embed-amd.js: nothing else is fetched.)
  var src = document.currentScript.src;
  var here = src.slice(0, src.lastIndexOf("/"));
  window.requirejs.config({
    paths: {
      "@jupyter-widgets": here,
      "@jupyter-widgets/html-manager/dist": here,
    },
  });

  // 2. LaTeX in widget labels. The bundle typesets labels through the MathJax 2 call
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3, which
  //    has no Hub. Provide that one call on top of MathJax 3's typesetPromise.
  function queue() {
    var elements = [];
    Array.prototype.forEach.call(arguments, function (job) {
      if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
        elements.push(job[2]);
      }
    });
    var mathjax = window.MathJax;
    if (!elements.length || !mathjax.startup) {
      return;
    }
    mathjax.startup.promise
      .then(function () {
        return mathjax.typesetPromise(elements);
      })
      .catch(function (err) {
        console.warn("MathJax could not typeset a widget label:", err);
      });
  }

  function addHub() {
    var mathjax = window.MathJax;
    // Before MathJax 3 has loaded, window.MathJax may be its configuration object (no version).
    if (mathjax && mathjax.version && !mathjax.Hub) {
      mathjax.Hub = { Queue: queue };
    }
  }

  addHub();
  document.addEventListener("DOMContentLoaded", addHub);
  // MathJax is loaded with `defer` or `async`, both of which finish before the load event;
  // the widgets render after it.
  window.addEventListener("load", addHub);
})();
