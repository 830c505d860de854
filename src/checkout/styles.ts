/** The checkout's stylesheet, served as a hashed file so the CSP needs no 'unsafe-inline'. */
export const CHECKOUT_CSS = `
:root{color-scheme:light dark;--fg:#111;--muted:#4a4a4a;--line:#d7d7d7;--bg:#f6f6f8;--card:#fff;--accent:#4b2bd1;--on-accent:#fff;--bad:#a4001d;--bad-bg:#fde8ec;--ok:#036b35;--ok-bg:#e3f7ea;--info-bg:#eef0ff;--wait-bg:#fff6dd;--test-bg:#fff1c2;--test-fg:#5c4300;--off:#6b6b6b}
@media(prefers-color-scheme:dark){:root{--fg:#ececf1;--muted:#b4b4be;--line:#3a3a44;--bg:#0f0f13;--card:#1a1a21;--accent:#b3a4ff;--on-accent:#14112b;--bad:#ff9aa9;--bad-bg:#3d1219;--ok:#7ee2a4;--ok-bg:#0f2e1c;--info-bg:#23233a;--wait-bg:#352c10;--test-bg:#4a3b06;--test-fg:#ffe08a;--off:#8a8a94}}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem 3rem;background:var(--card);min-height:100vh}
@media(min-width:40rem){main{margin:2rem auto;min-height:0;border:1px solid var(--line);border-radius:12px}}
.merchant{font-weight:600;margin:0}
.test{display:inline-block;background:var(--test-bg);color:var(--test-fg);border-radius:4px;padding:0 .4rem;font-size:.8rem;margin-left:.4rem}
h1{font-size:2rem;margin:.25rem 0 0}
h2{font-size:1.1rem}
.description{color:var(--muted);margin:.25rem 0 1rem}
#status{font-weight:600;padding:.5rem .75rem;border-radius:8px;background:var(--info-bg);margin:1rem 0}
[data-status=processing] #status{background:var(--wait-bg)}
[data-status=succeeded] #status,[data-status=requires_capture] #status{background:var(--ok-bg);color:var(--ok)}
[data-status=expired] #status,[data-status=canceled] #status,[data-status=failed] #status{background:var(--bad-bg);color:var(--bad)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
select,button,.button{font:inherit;min-height:44px}
select{width:100%;padding:.4rem;border:1px solid var(--off);border-radius:8px;background:var(--card);color:var(--fg)}
dl.quote{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}
dl.quote dt{color:var(--muted)}
dl.quote dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
button,.button{display:block;width:100%;border:0;border-radius:8px;padding:.6rem 1rem;background:var(--accent);color:var(--on-accent);font-weight:600;cursor:pointer;text-align:center;text-decoration:none}
button.secondary{background:var(--card);color:var(--accent);border:1px solid var(--accent);margin-top:.5rem}
button:disabled{background:var(--off);color:#fff;cursor:not-allowed}
button.copy{display:inline-block;width:auto;min-height:32px;padding:.1rem .6rem;margin-left:.5rem;font-size:.85rem;background:var(--card);color:var(--accent);border:1px solid var(--accent)}
button:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
#wallet-error,#card-error{color:var(--bad);background:var(--bad-bg);border-radius:8px;padding:.5rem .75rem;margin:.5rem 0}
.hint{color:var(--muted);font-size:.9rem}
.open-in{display:none;flex-direction:column;gap:.5rem;margin:.75rem 0}
html[data-mobile] .open-in{display:flex}
@media(max-width:40rem){.open-in{display:flex}}
#checkout[data-wallet=yes] .open-in{display:none}
.install{display:flex;gap:1rem;justify-content:center}
#qr{width:14rem;max-width:80%;margin:1rem auto .5rem}
#qr svg{display:block;width:100%;height:auto}
.center{text-align:center}
a{color:var(--accent)}
#receipt{border-top:1px solid var(--line);margin-top:1rem}
#account{border-top:1px solid var(--line);margin-top:1.5rem;padding-top:1rem}
#account ul{padding-left:1.2rem}
.addr{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.tabs{display:flex;gap:.5rem;margin:1rem 0}
.tabs button{flex:1;background:var(--card);color:var(--accent);border:1px solid var(--accent)}
.tabs button[aria-selected=true]{background:var(--accent);color:var(--on-accent)}
#card-element{margin:1rem 0;min-height:3rem}
footer{color:var(--muted);font-size:.9rem;margin-top:1.5rem}
[hidden]{display:none!important}
`;
