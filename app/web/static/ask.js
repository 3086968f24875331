// The ask page, streamed: POST /v1/chat with stream=true, show tokens as they arrive, then
// replace them with the server-rendered answer (one renderer: the template). Untrusted text is
// only ever set through textContent. Without this script the form posts and the server answers.
"use strict";
(function () {
  const form = document.getElementById("ask-form");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const thread = document.getElementById("thread");
  const status = document.getElementById("ask-status");
  const panel = document.getElementById("source");

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "alert" : "meta";
  }

  async function fragment(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(response.status + "");
    const html = await response.text();
    return document.createRange().createContextualFragment(html);
  }

  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { name, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  // the first question of a new conversation starts it; the address then names it
  async function conversationFor(question) {
    const field = document.getElementById("conversation-id");
    if (field.value) return field.value;
    const response = await fetch("/v1/conversations", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ title: question }),
    });
    if (!response.ok) throw new Error(response.statusText);
    const started = await response.json();
    field.value = started.conversation_id;
    history.replaceState(null, "", "/ask?c=" + started.conversation_id);
    const link = document.createElement("a");
    link.href = "/ask?c=" + started.conversation_id;
    link.textContent = started.title;
    link.setAttribute("aria-current", "page");
    const entry = document.createElement("li");
    entry.append(link);
    document.getElementById("conversation-list").prepend(entry);
    return started.conversation_id;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const question = form.elements.question.value.trim();
    if (!question) return;
    const collections = Array.from(form.querySelectorAll('input[name="collections"]:checked'))
      .map(function (box) { return box.value; });
    const item = document.createElement("article");
    item.className = "card answer";
    const asked = document.createElement("p");
    asked.className = "question";
    asked.textContent = question;
    const live = document.createElement("p");
    live.className = "streaming";
    live.dataset.label = form.dataset.checking;
    item.append(asked, live);
    thread.append(item);
    form.querySelector("button[type=submit]").disabled = true;
    say(form.dataset.working, false);
    try {
      const conversation = await conversationFor(question);
      const response = await fetch("/v1/chat", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf,
                   "Accept": "text/event-stream" },
        body: JSON.stringify({ question: question, collections: collections, stream: true,
                               conversation_id: conversation }),
      });
      if (!response.ok) {
        const body = await response.json().catch(function () { return {}; });
        throw new Error((body.error && body.error.message) || response.statusText);
      }
      for await (const ev of events(response)) {
        if (ev.name === "token") live.textContent += ev.data.text;
        else if (ev.name === "error") throw new Error(ev.data.error.message);
        else if (ev.name === "answer") {
          item.replaceWith(await fragment("/ask/answers/" + ev.data.answer_id +
                                          "/fragment?c=" + encodeURIComponent(conversation)));
        }
      }
      form.elements.question.value = "";
      say("", false);
    } catch (error) {
      item.remove();
      say(error.message, true);
    } finally {
      form.querySelector("button[type=submit]").disabled = false;
      form.elements.question.focus();
    }
  });

  // a citation chip opens its source in the side panel instead of a new page
  document.addEventListener("click", async function (event) {
    const chip = event.target.closest("a.cite");
    if (!chip || !panel) return;
    event.preventDefault();
    try {
      panel.replaceChildren(await fragment(chip.getAttribute("href") + "/fragment"));
      panel.hidden = false;
      panel.focus();
    } catch (error) {
      say(error.message, true);
    }
  });
})();
