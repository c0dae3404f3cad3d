// gdcourse site: loaded after require.js and before the widget manager (embed-amd.js).
// The widget manager's modules take their own address from require.js and load their icon
// fonts from next to it; without this they would look for them under the page's folder
// (…/@jupyter-widgets/html-manager/dist/*.woff2) and get a 404.  Point every module bundled in
// embed-amd.js at the vendored file, so the fonts come from _static/vendor/html-manager/.
(function () {
  "use strict";
  var manager = new URL("vendor/html-manager/embed-amd", document.currentScript.src).href;
  var bundled = ["@jupyter-widgets/base", "@jupyter-widgets/base7", "@jupyter-widgets/controls",
                 "@jupyter-widgets/controls7", "@jupyter-widgets/html-manager",
                 "@jupyter-widgets/html-manager/dist/libembed-amd"];
  var paths = {};
  bundled.forEach(function (name) { paths[name] = manager; });
  window.require.config({paths: paths});
}());
