// Copy buttons: <button data-copy="element-id"> copies that element's text to the clipboard.
"use strict";
document.addEventListener("click", async function (event) {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  const status = document.getElementById("copy-status");
  try {
    await navigator.clipboard.writeText(text);
    if (status) status.textContent = button.dataset.done;
  } catch (error) {
    if (status) status.textContent = error.message;
  }
});
