// TechX portal: the few lines of behaviour the server cannot render — countdowns kept on the
// server's clock, the answers of htmx actions shown even when they are refusals, and signatures
// verified in the reader's own browser with WebCrypto Ed25519.
(function () {
  "use strict";

  // htmx swaps 4xx answers too: a refused bid or objection is shown in place, in Chinese.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      window.htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "[45]..", swap: true, error: true },
      ];
    }
  });

  // The server's clock minus the browser's, from <body data-server-time>: countdowns never drift
  // with a wrong clock on the reader's phone.
  function serverOffset() {
    var at = document.body && document.body.getAttribute("data-server-time");
    var given = at ? Date.parse(at) : NaN;
    return isNaN(given) ? 0 : given - window.TECHX_PAGE_LOADED;
  }
  window.TECHX_PAGE_LOADED = Date.now();

  // A page the browser kept (revalidated with 304 Not Modified, or restored on "back") holds the
  // server time of its first answer: ask the server again for the page, whose fresh answer carries
  // the time of now (the server keeps pages in memory, so this costs it little).
  function resyncServerTime() {
    var asked = Date.now();
    fetch(location.href, { cache: "no-store", headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (answer) { return answer.text(); })
      .then(function (text) {
        var found = /data-server-time="([^"]+)"/.exec(text);
        if (!found || !document.body) return;
        document.body.setAttribute("data-server-time", found[1]);
        window.TECHX_PAGE_LOADED = asked + (Date.now() - asked) / 2;
      })
      .catch(function () { /* the first answer's time stays */ });
  }
  var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (navigation && navigation.encodedBodySize > 0 && navigation.transferSize < navigation.encodedBodySize) {
    resyncServerTime();
  }
  window.addEventListener("pageshow", function (event) { if (event.persisted) resyncServerTime(); });

  function remaining(ms) {
    if (ms <= 0) return "已结束";
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d > 0 ? d + " 天 " : "") + pad(h) + ":" + pad(m) + ":" + pad(sec);
  }

  function tick() {
    var now = Date.now() + serverOffset();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-countdown"));
      if (!isNaN(end)) el.textContent = remaining(end - now);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  function bytesOfBase64(text) {
    var normal = text.replace(/-/g, "+").replace(/_/g, "/");
    while (normal.length % 4) normal += "=";
    var raw = atob(normal), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  // Verifies the signed text of a [data-verify] block against the published key it names.
  async function verify(block) {
    var status = block.querySelector("[data-verify-status]");
    var signed = document.getElementById(block.getAttribute("data-signed")).textContent;
    var signature = block.getAttribute("data-signature"), kid = block.getAttribute("data-key-id");
    try {
      var keys = await (await fetch("/api/v1/keys", { headers: { Accept: "application/json" } })).json();
      var jwk = (keys.keys || []).find(function (k) { return k.kid === kid; });
      if (!jwk) throw new Error("key " + kid + " is not published");
      var key = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]);
      var ok = await crypto.subtle.verify({ name: "Ed25519" }, key, bytesOfBase64(signature), new TextEncoder().encode(signed));
      block.classList.toggle("ok", ok);
      block.classList.toggle("bad", !ok);
      block.setAttribute("data-verified", ok ? "yes" : "no");
      status.textContent = ok ? "✔ 签名有效：内容与交易所发布时一致（密钥 " + kid + "）" : "✘ 签名无效：内容已被改动，或不是交易所签发的";
    } catch (err) {
      block.classList.add("bad");
      block.setAttribute("data-verified", "error");
      status.textContent = "✘ 无法验证签名：" + err.message + "（可用页面下方的离线方法验证）";
    }
  }
  window.TechX = { verify: verify, remaining: remaining, serverOffset: serverOffset };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-verify]").forEach(verify);
  });
})();
