// Render the formulas that pymdownx.arithmatex (generic: true) leaves in the page as
// \(...\) and \[...\] inside elements of class "arithmatex", with the KaTeX copy that is
// served from assets/katex/ (nothing is loaded from the network).
(function () {
  function render(root) {
    root.querySelectorAll(".arithmatex").forEach(function (element) {
      renderMathInElement(element, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { render(document.body); });  // Material's page events
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { render(document.body); });
  } else {
    render(document.body);
  }
})();
