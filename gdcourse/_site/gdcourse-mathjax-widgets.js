// gdcourse site: loaded (deferred) right after MathJax 3.
// The widget manager typesets widget labels through MathJax 2's API, MathJax.Hub.Queue, whenever
// window.MathJax exists; MathJax 3 has no Hub, so every slider would throw "Cannot read properties
// of undefined (reading 'Queue')".  Give MathJax 3 that one call, mapped onto typesetPromise.
(function () {
  "use strict";
  var mj = window.MathJax;
  if (!mj || mj.Hub || typeof mj.version !== "string" || mj.version.charAt(0) !== "3") return;
  mj.Hub = {
    Queue: function (job) {
      var element = Array.isArray(job) ? job[2] : undefined;
      var typeset = function () { return mj.typesetPromise(element ? [element] : undefined); };
      (mj.startup && mj.startup.promise ? mj.startup.promise.then(typeset) : typeset())
        .catch(function (err) { console.warn("gdcourse: MathJax could not typeset a widget label", err); });
    }
  };
}());
