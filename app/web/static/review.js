// The draft page's shortcuts: Alt+key (Option+key on a Mac) presses the button whose
// accesskey is that key. The browsers' own access keys differ (Chromium: Alt, Firefox:
// Alt+Shift, Safari: Ctrl+Option) and synthetic key presses never reach them; this one
// combination works in all of them. The keydown is cancelled, so the browser's own access key
// does not press the same button a second time. Without this script the accesskey attributes
// still work the browser's own way.
"use strict";
(function () {
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const match = /^Key([A-Z])$/.exec(event.code);
    if (!match) return;
    const button = document.querySelector(
      'button[accesskey="' + match[1].toLowerCase() + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    button.focus();
    button.click();
  });

  // one post per form: a second press while the first is on its way would lose to itself
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
    });
  });
})();
