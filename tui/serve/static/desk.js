// The r2k desk in a browser: xterm.js (DOM renderer, so the screen's text is in the page) on a
// websocket to the monitor's PTY. Keys go up as ["stdin", text], the size as ["resize",
// {cols, rows}]; the monitor's output comes down as binary frames.
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const fontSize = parseInt(params.get("fontsize") || "15", 10);
  const term = new Terminal({
    fontFamily: "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace",
    fontSize: fontSize,
    scrollback: 0,
    allowProposedApi: true,
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById("terminal"));
  fit.fit();
  window.r2kTerm = term;  // for tests and the curious: window.r2kScreen() gives the text
  window.r2kScreen = function () {
    const buf = term.buffer.active;
    const lines = [];
    for (let y = 0; y < term.rows; y++) {
      const line = buf.getLine(buf.viewportY + y);
      lines.push(line ? line.translateToString(true) : "");
    }
    return lines.join("\n");
  };
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const base = window.location.pathname.replace(/[^/]*$/, "");
  const url = scheme + "//" + window.location.host + base + "ws?cols=" + term.cols +
    "&rows=" + term.rows;
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const send = (msg) => { if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg)); };
  socket.addEventListener("open", () => {
    send(["resize", { cols: term.cols, rows: term.rows }]);
    term.focus();
  });
  socket.addEventListener("message", (ev) => {
    if (typeof ev.data === "string") return;
    term.write(new Uint8Array(ev.data));
  });
  socket.addEventListener("close", () => {
    document.getElementById("ended").style.display = "block";
    document.body.dataset.ended = "1";
  });
  term.onData((data) => send(["stdin", data]));
  term.onBinary((data) => send(["binary", data]));
  term.onResize((size) => send(["resize", { cols: size.cols, rows: size.rows }]));
  window.addEventListener("resize", () => fit.fit());
})();
