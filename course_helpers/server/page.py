"""The relay's one page: a prompt box and an answer that grows as the SSE events arrive.

Self-contained (no CDN, no external file): the browser's ``EventSource`` can only ``GET``, so the
script ``POST``s with ``fetch()`` and parses the event stream from ``response.body`` itself, frame
by frame (a frame ends at a blank line). Model text is only ever set with ``textContent``.
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LLM relay</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
         color: #1d1d1f; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .hint, #status, #meta, #history li { color: #5f6368; font-size: .9rem; }
  textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .5rem; min-height: 5rem; }
  .row { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; flex-wrap: wrap; }
  button, select { font: inherit; padding: .35rem 1rem; }
  #refresh { font-size: .8rem; padding: .1rem .6rem; margin-left: .5rem; }
  #answer { white-space: pre-wrap; border: 1px solid #d2d2d7; border-radius: 6px; padding: .75rem;
            min-height: 6rem; background: #fafafa; }
  #answer.error { border-color: #c5221f; }
  #error { color: #c5221f; white-space: pre-wrap; }
  #ttft { font-weight: 600; }
</style>
</head>
<body>
<h1>LLM relay</h1>
<p class="hint">The answer streams from <code>POST /chat</code> as Server-Sent Events; every
exchange is logged (see <a href="/history">/history</a>), also when you press Stop.</p>
<label for="prompt">Prompt</label>
<textarea id="prompt" placeholder="Ask something (Ctrl+Enter sends)"></textarea>
<div class="row">
  <select id="provider" aria-label="Provider">
    <option value="">default provider</option>
    <option value="openai">OpenAI</option>
    <option value="anthropic">Anthropic</option>
  </select>
  <button id="send" type="button">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
  <span id="status" role="status">Ready.</span>
</div>
<div id="answer" aria-live="polite"></div>
<p>Time to first token: <span id="ttft">–</span></p>
<p id="meta"></p>
<p id="error"></p>
<h2 style="font-size:1.1rem">Recent exchanges
  <button id="refresh" type="button">Refresh</button></h2>
<ul id="history"></ul>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let controller = null;

function parseFrame(lines) {
  // One SSE event: "event:" names it, "data:" lines are joined with newlines.
  let event = "message";
  const data = [];
  for (const line of lines) {
    if (line.startsWith(":")) continue;  // a comment, e.g. the relay's keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: JSON.parse(data.join("\\n")) } : null;
}

async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let frame = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\\r\\n|\\r|\\n/);
    buffer = lines.pop();  // an unfinished line waits for the next chunk
    for (const line of lines) {
      if (line === "") {  // a blank line ends the event
        const parsed = parseFrame(frame);
        frame = [];
        if (parsed) yield parsed;
      } else {
        frame.push(line);
      }
    }
  }
}

function ms(seconds) { return (seconds * 1000).toFixed(0) + " ms"; }

async function send() {
  const prompt = $("prompt").value;
  if (!prompt.trim()) { $("status").textContent = "Type a prompt first."; return; }
  const request = { prompt };
  if ($("provider").value) request.provider = $("provider").value;
  $("answer").textContent = "";
  $("answer").classList.remove("error");
  $("error").textContent = $("meta").textContent = "";
  $("ttft").textContent = "waiting…";
  $("send").disabled = true;
  $("stop").disabled = false;
  $("status").textContent = "Sending…";
  controller = new AbortController();
  const started = performance.now();
  let first = null;
  try {
    const response = await fetch("/chat", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error((body.error && body.error.message) || "HTTP " + response.status);
    }
    for await (const { event, data } of events(response.body)) {
      if (event === "start") {
        $("status").textContent = "Waiting for " + data.provider + "/" + data.model + "…";
      } else if (event === "delta") {
        if (first === null) {
          first = performance.now() - started;
          $("ttft").textContent = first.toFixed(0) + " ms";
          $("status").textContent = "Streaming…";
        }
        $("answer").textContent += data.text;
      } else if (event === "done") {
        $("status").textContent = "Done.";
        $("meta").textContent = data.provider + "/" + data.model + " · " +
          data.usage.input_tokens + " in + " + data.usage.output_tokens + " out tokens · " +
          "relay TTFT " + ms(data.ttft_s) + " · total " + ms(data.latency_s) +
          " · exchange " + data.exchange_id;
      } else if (event === "error") {
        $("answer").classList.add("error");
        $("status").textContent = "The provider failed.";
        $("error").textContent = data.error.class + ": " + data.error.message +
          (data.error.retriable ? " (worth retrying)" : "");
      }
    }
  } catch (err) {
    if (err.name === "AbortError") {
      $("status").textContent =
        "Stopped: the relay logs the partial answer as client_disconnected.";
    } else {
      $("status").textContent = "Failed.";
      $("error").textContent = String(err.message || err);
    }
  } finally {
    if (first === null) $("ttft").textContent = "–";
    $("send").disabled = false;
    $("stop").disabled = true;
    controller = null;
    refresh();
  }
}

async function refresh() {
  const response = await fetch("/history?limit=10");
  if (!response.ok) return;
  const { exchanges } = await response.json();
  const list = $("history");
  list.replaceChildren(...exchanges.map((row) => {
    const item = document.createElement("li");
    item.textContent = row.outcome + " · " + row.provider + "/" + row.model + " · " +
      JSON.stringify(row.prompt.slice(0, 60)) + " → " + row.text.length + " chars";
    return item;
  }));
}

$("send").addEventListener("click", send);
$("stop").addEventListener("click", () => controller && controller.abort());
$("refresh").addEventListener("click", refresh);
$("prompt").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !$("send").disabled) send();
});
refresh();
</script>
</body>
</html>
"""
