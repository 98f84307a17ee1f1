// The live auction page: the auction's event stream (snapshot, bid, extended, closed) applied to
// the page the server rendered, and the bid form's confirmation. The server decides everything;
// this only shows it. EventSource reconnects by itself and resumes with Last-Event-ID.
(function () {
  "use strict";

  var BEIJING_MS = 8 * 3600 * 1000; // UTC+8 all year: Beijing has no summer time

  function yuan(fen) {
    var whole = Math.floor(Math.abs(fen) / 100), cents = Math.abs(fen) % 100;
    return (fen < 0 ? "-" : "") + "¥" + whole.toLocaleString("en-US") + "." + (cents < 10 ? "0" : "") + cents;
  }

  function plainYuan(fen) {
    var cents = fen % 100;
    return String(Math.floor(fen / 100)) + (cents ? "." + (cents < 10 ? "0" : "") + cents : "");
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // As the server's ``beijing_seconds`` writes it: 2027年1月28日 16:05:00
  function beijingSeconds(iso) {
    var t = new Date(Date.parse(iso) + BEIJING_MS);
    return t.getUTCFullYear() + "年" + (t.getUTCMonth() + 1) + "月" + t.getUTCDate() + "日 " +
      pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes()) + ":" + pad(t.getUTCSeconds());
  }

  function clockOnly(iso) { return beijingSeconds(iso).split(" ")[1]; }

  // The API's labels in Chinese, as the page's server side writes them.
  function bidderName(label) { return label === "you" ? "您" : String(label).replace("bidder ", "竞买人 "); }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function start(root) {
    var increment = parseInt(root.getAttribute("data-increment"), 10);
    var lastSeq = 0;
    root.querySelectorAll("#bids tr[data-seq]").forEach(function (row) {
      lastSeq = Math.max(lastSeq, parseInt(row.getAttribute("data-seq"), 10));
    });

    function setMinimum(fen) {
      text("minimum-bid", fen === null || fen === undefined ? "—" : yuan(fen));
      var grid = document.getElementById("grid");
      if (grid && fen !== null && fen !== undefined) {
        grid.querySelectorAll("li").forEach(function (li, i) {
          var amount = fen + i * increment, button = li.querySelector("button");
          if (button) {
            button.textContent = yuan(amount);
            button.setAttribute("data-amount", plainYuan(amount));
          } else {
            li.textContent = yuan(amount);
          }
        });
      }
    }

    function moveEnd(iso, notice) {
      var countdown = document.getElementById("countdown");
      if (countdown) countdown.setAttribute("data-countdown", iso);
      var ends = document.getElementById("ends-at");
      if (ends) {
        ends.setAttribute("datetime", iso);
        ends.textContent = beijingSeconds(iso);
      }
      if (notice) {
        text("extended-text", "竞价延时至 " + clockOnly(iso));
        document.getElementById("extended").hidden = false;
      }
    }

    function addBid(bid) {
      if (bid.seq <= lastSeq) return; // already shown (the page, or a replay after reconnecting)
      lastSeq = bid.seq;
      var row = document.createElement("tr");
      row.setAttribute("data-seq", bid.seq);
      [[bid.seq, "num"], [bidderName(bid.bidder), ""], [yuan(bid.amount), "num"], [beijingSeconds(bid.created_at), ""]]
        .forEach(function (cell) {
          var td = document.createElement("td");
          td.textContent = cell[0];
          if (cell[1]) td.className = cell[1];
          row.appendChild(td);
        });
      var body = document.getElementById("bids");
      body.insertBefore(row, body.firstChild);
      var none = document.getElementById("no-bids");
      if (none) none.remove();
      text("high-amount", yuan(bid.amount));
      text("high-bidder", bidderName(bid.bidder));
      text("bid-count", String(bid.seq));
      setMinimum(bid.amount + increment);
    }

    function close(data) {
      root.setAttribute("data-status", "closed");
      var badge = document.getElementById("auction-status");
      badge.textContent = "已结束";
      badge.className = "badge closed";
      moveEnd(data.ends_at, false);
      document.getElementById("extended").hidden = true;
      setMinimum(null);
      var bidding = document.getElementById("bidding");
      if (bidding) bidding.remove();
      var box = document.createElement("div"), p = document.createElement("p");
      if (data.winning_amount !== null && data.winning_amount !== undefined) {
        box.className = "answer accepted";
        p.textContent = "竞价已结束：成交价 " + yuan(data.winning_amount) + "，买受人 " + bidderName(data.winner) + "。";
      } else {
        box.className = "answer refused";
        p.textContent = "竞价已结束：无人出价，本次竞价流拍。";
      }
      box.appendChild(p);
      var result = document.getElementById("result");
      result.replaceChildren(box);
      // Ended: the countdown stops here, whatever the reader's clock says.
      var countdown = document.getElementById("countdown");
      countdown.removeAttribute("data-countdown");
      countdown.textContent = "已结束";
    }

    var source = new EventSource(root.getAttribute("data-stream"));
    source.addEventListener("snapshot", function (e) {
      var s = JSON.parse(e.data);
      root.setAttribute("data-live", "yes"); // connected: what happens from now on shows here
      if (s.status === "closed") return; // its ``closed`` event follows
      moveEnd(s.ends_at, s.ends_at !== s.scheduled_end);
      text("bid-count", String(s.bid_count));
      if (s.high_amount !== null) text("high-amount", yuan(s.high_amount));
      if (s.high_bidder) text("high-bidder", bidderName(s.high_bidder));
      setMinimum(s.minimum_next_bid);
    });
    source.addEventListener("bid", function (e) { addBid(JSON.parse(e.data)); });
    source.addEventListener("extended", function (e) { moveEnd(JSON.parse(e.data).ends_at, true); });
    source.addEventListener("closed", function (e) {
      close(JSON.parse(e.data));
      source.close(); // the stream ends after ``closed``: do not reconnect
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("auction");
    if (root && root.getAttribute("data-status") !== "closed" && window.EventSource) start(root);

    // The amounts of the grid fill the form; the form asks to confirm the amount in yuan.
    document.addEventListener("click", function (e) {
      var button = e.target.closest && e.target.closest("button[data-amount]");
      var input = document.getElementById("bid-amount");
      if (button && input) {
        input.value = button.getAttribute("data-amount");
        input.focus();
      }
    });
    document.body.addEventListener("htmx:confirm", function (e) {
      var form = e.target.closest && e.target.closest("[data-confirm-bid]");
      if (!form) return;
      e.preventDefault();
      var typed = form.querySelector("[name=amount]").value.trim();
      if (window.confirm("确认出价 " + typed + " 元？出价一经受理不可撤回。")) e.detail.issueRequest(true);
    });
  });
})();
