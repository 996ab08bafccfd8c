/// The dashboard's one stylesheet and one script, served by the binary from
/// `/dashboard/assets/` (the Content-Security-Policy allows scripts and styles from this origin only).
enum DashboardAssets {
    static let stylesheet = """
        :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; --accent: #0b57d0; --bad: #b42318; --good: #1a7f37; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
        .top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem; background: var(--bg); border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; }
        nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
        nav a { color: var(--accent); text-decoration: none; padding: .2rem 0; }
        nav a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid var(--accent); }
        .sign-out { margin-left: auto; }
        main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
        main:focus { outline: none; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; word-break: break-all; }
        h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
        button { font: inherit; padding: .35rem .9rem; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
        button.danger { background: var(--bad); border-color: var(--bad); }
        .sign-out button { background: #fff; color: var(--accent); }
        input, select { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; max-width: 100%; }
        label { font-weight: 600; }
        .card { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; display: grid; gap: .4rem; max-width: 40rem; }
        .narrow { max-width: 24rem; }
        .filters, .actions { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0 1rem; }
        .actions .filters, .actions form { margin: 0; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .75rem; }
        .tile { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; display: flex; flex-direction: column; }
        .tile .label, .muted { color: var(--muted); font-size: .9rem; }
        .tile .number { font-size: 1.4rem; font-weight: 700; }
        .scroll { overflow-x: auto; position: relative; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        thead th { background: var(--bg); }
        td.prompt, dd.prompt, td.url { word-break: break-word; max-width: 28rem; }
        .status { padding: .05rem .45rem; border-radius: 999px; background: var(--bg); border: 1px solid var(--line); white-space: nowrap; }
        .status.completed, .status.delivered { color: var(--good); border-color: var(--good); }
        .status.failed, .status.dead { color: var(--bad); border-color: var(--bad); }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
        .facts dt { font-weight: 600; }
        .facts dd { margin: 0; }
        .flash { padding: .6rem .8rem; border-radius: 6px; background: #e7f3ff; border: 1px solid #9cc3f5; }
        .flash.error { background: #fdecea; border-color: var(--bad); }
        .inline { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
        .paging { display: flex; gap: 1rem; margin: 1rem 0; }
        figure.media { margin: 0 0 1rem; }
        figure.media img, figure.media video { max-width: 100%; height: auto; display: block; }
        figure.media audio { width: min(100%, 28rem); }
        pre { background: var(--bg); padding: .75rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        @media (max-width: 600px) {
          .facts { grid-template-columns: 1fr; }
          .facts dd { margin-bottom: .4rem; }
          .sign-out { margin-left: 0; }
          main { padding: .75rem; }
        }
        """

    /// The tab's icon (browsers ask for one; without it, a 404 in every console).
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b57d0"/><path d="M4 12V4l4 5 4-5v8" stroke="#fff" stroke-width="1.6" fill="none"/></svg>
        """

    static let script = """
        "use strict";
        // Auto-refresh of the overview and actions without full page loads; every page also works without it.
        (function () {
          function swapMain(html) {
            var page = new DOMParser().parseFromString(html, "text/html");
            var fresh = page.querySelector("main");
            var main = document.querySelector("main");
            if (!fresh || !main) { return false; }
            main.replaceChildren.apply(main, Array.from(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
            if (page.title) { document.title = page.title; }
            var flash = document.getElementById("flash");
            (flash || main).focus();
            return true;
          }

          document.addEventListener("submit", function (event) {
            var form = event.target;
            if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-enhance")) { return; }
            event.preventDefault();
            var buttons = form.querySelectorAll("button");
            buttons.forEach(function (b) { b.disabled = true; });
            fetch(form.action, {
              method: "POST", credentials: "same-origin", redirect: "follow",
              headers: { "Content-Type": "application/x-www-form-urlencoded" },
              body: new URLSearchParams(new FormData(form)).toString()
            }).then(function (response) {
              if (response.redirected) { window.location.assign(response.url); return; }
              return response.text().then(function (html) {
                if (!swapMain(html)) { window.location.reload(); }
              });
            }).catch(function () {
              buttons.forEach(function (b) { b.disabled = false; });
              window.location.reload();
            });
          });

          var overview = document.getElementById("overview");
          if (overview) {
            var seconds = parseInt(overview.getAttribute("data-refresh"), 10) || 5;
            window.setInterval(function () {
              fetch(window.location.href, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
                if (!response.ok) { return; }
                return response.text().then(function (html) {
                  var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("overview");
                  var current = document.getElementById("overview");
                  if (fresh && current) {
                    current.replaceChildren.apply(current, Array.from(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
                  }
                });
              }).catch(function () { /* the next tick tries again */ });
            }, seconds * 1000);
          }
        })();
        """
}
