/** The checkout's stylesheet, served as a hashed file so the CSP needs no 'unsafe-inline'. */
export const CHECKOUT_CSS = `
:root{color-scheme:light;--fg:#111;--muted:#4a4a4a;--line:#d7d7d7;--accent:#4b2bd1;--bad:#a4001d;--ok:#036b35}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:#f6f6f8}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem 3rem;background:#fff;min-height:100vh}
@media(min-width:40rem){main{margin:2rem auto;min-height:0;border:1px solid var(--line);border-radius:12px}}
.merchant{font-weight:600;margin:0}
.test{display:inline-block;background:#fff1c2;color:#5c4300;border-radius:4px;padding:0 .4rem;font-size:.8rem;margin-left:.4rem}
h1{font-size:2rem;margin:.25rem 0 0}
.description{color:var(--muted);margin:.25rem 0 1rem}
#status{font-weight:600;padding:.5rem .75rem;border-radius:8px;background:#eef0ff;margin:1rem 0}
[data-status=processing] #status{background:#fff6dd}
[data-status=succeeded] #status{background:#e3f7ea;color:var(--ok)}
[data-status=expired] #status,[data-status=canceled] #status,[data-status=failed] #status{background:#fde8ec;color:var(--bad)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
select,button{font:inherit;min-height:44px}
select{width:100%;padding:.4rem;border:1px solid #8a8a8a;border-radius:8px;background:#fff}
dl.quote{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}
dl.quote dt{color:var(--muted)}
dl.quote dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
button{display:block;width:100%;border:0;border-radius:8px;padding:.6rem 1rem;background:var(--accent);color:#fff;font-weight:600;cursor:pointer}
button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent);margin-top:.5rem}
button:disabled{background:#9b9b9b;cursor:not-allowed}
button:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
#wallet-error{color:var(--bad);background:#fde8ec;border-radius:8px;padding:.5rem .75rem;margin:.5rem 0}
.hint{color:var(--muted);font-size:.9rem}
#qr{width:14rem;max-width:80%;margin:1rem auto .5rem}
#qr svg{display:block;width:100%;height:auto}
.center{text-align:center}
a{color:var(--accent)}
#account{border-top:1px solid var(--line);margin-top:1.5rem;padding-top:1rem}
#account ul{padding-left:1.2rem}
.addr{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.tabs{display:flex;gap:.5rem;margin:1rem 0}
.tabs button{flex:1;background:#fff;color:var(--accent);border:1px solid var(--accent)}
.tabs button[aria-selected=true]{background:var(--accent);color:#fff}
#card-element{margin:1rem 0;min-height:3rem}
#card-error{color:var(--bad);background:#fde8ec;border-radius:8px;padding:.5rem .75rem;margin:.5rem 0}
footer{color:var(--muted);font-size:.9rem;margin-top:1.5rem}
[hidden]{display:none!important}
`;
