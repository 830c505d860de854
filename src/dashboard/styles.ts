/** The dashboard's stylesheet, served as a hashed file so the CSP needs no 'unsafe-inline'. */
export const DASHBOARD_CSS = `
:root{color-scheme:light;--fg:#16161a;--muted:#55555f;--line:#dcdce3;--bg:#f5f5f8;--accent:#4b2bd1;--bad:#a4001d;--ok:#036b35;--warn:#7a5200}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1.25rem;background:#16161a;color:#fff}
header.top a{color:#fff;text-decoration:none}
header.top nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header.top nav a[aria-current=page]{text-decoration:underline;text-underline-offset:4px}
header.top .brand{font-weight:700}
header.top .who{margin-left:auto;display:flex;align-items:center;gap:.75rem}
header.top form{margin:0}
.mode{display:inline-block;border-radius:4px;padding:0 .45rem;font-size:.8rem;font-weight:600}
.mode.test{background:#fff1c2;color:#5c4300}.mode.live{background:#d8f5e3;color:var(--ok)}
main{max-width:80rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:1rem;margin:0 0 1rem}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr))}
.stats{display:grid;gap:.75rem;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));margin-bottom:1rem}
.stat{background:#fff;border:1px solid var(--line);border-radius:10px;padding:.75rem 1rem}
.stat b{display:block;font-size:1.3rem;font-variant-numeric:tabular-nums}
.stat span{color:var(--muted);font-size:.85rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
.status{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.8rem;font-weight:600;background:#eceef6}
.status.succeeded,.status.delivered,.status.ready,.status.completed{background:#e3f7ea;color:var(--ok)}
.status.failed,.status.expired,.status.canceled{background:#fde8ec;color:var(--bad)}
.status.processing,.status.pending,.status.requires_review,.status.requires_capture{background:#fff6dd;color:var(--warn)}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
label{display:block;font-size:.85rem;font-weight:600;margin-bottom:.2rem}
input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #8a8a96;border-radius:6px;background:#fff;min-height:2.2rem}
button{font:inherit;border:0;border-radius:6px;padding:.45rem .9rem;background:var(--accent);color:#fff;font-weight:600;cursor:pointer;min-height:2.2rem}
button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent)}
button.danger{background:var(--bad)}
header.top button{background:transparent;border:1px solid #fff;padding:.2rem .7rem;min-height:0}
button:focus-visible,input:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.inline{display:inline-flex;gap:.5rem;align-items:center;margin:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.25rem;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.notice{border-radius:8px;padding:.6rem .8rem;margin:0 0 1rem;background:#eef0ff}
.notice.error{background:#fde8ec;color:var(--bad)}.notice.ok{background:#e3f7ea;color:var(--ok)}
.empty{color:var(--muted);padding:1.5rem;text-align:center;background:#fff;border:1px dashed var(--line);border-radius:10px}
.pager{display:flex;gap:1rem;margin:.75rem 0}
.secret{font-family:ui-monospace,monospace;font-size:1rem;background:#16161a;color:#14f195;padding:.75rem;border-radius:8px;word-break:break-all}
.chart{min-height:16rem}
.chart .uplot{width:100%}
.muted{color:var(--muted)}
.signin{max-width:30rem;margin:3rem auto}
.signin input{width:100%}
.signin button{margin-top:1rem;width:100%}
.scroll{overflow-x:auto}
[hidden]{display:none!important}
`;

/**
 * uPlot's own stylesheet (uplot@1.6.32, dist/uPlot.min.css, MIT licence, (c) Leon Sorokin), served
 * from the gateway with the dashboard's styles: no third-party origin in the CSP.
 */
export const UPLOT_CSS =
	'.uplot, .uplot *, .uplot *::before, .uplot *::after {box-sizing: border-box;}.uplot {font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Segoe UI Symbol", "Noto Color Emoji";line-height: 1.5;width: min-content;}.u-title {text-align: center;font-size: 18px;font-weight: bold;}.u-wrap {position: relative;user-select: none;}.u-over, .u-under {position: absolute;}.u-under {overflow: hidden;}.uplot canvas {display: block;position: relative;width: 100%;height: 100%;}.u-axis {position: absolute;}.u-legend {font-size: 14px;margin: auto;text-align: center;}.u-inline {display: block;}.u-inline * {display: inline-block;}.u-inline tr {margin-right: 16px;}.u-legend th {font-weight: 600;}.u-legend th > * {vertical-align: middle;display: inline-block;}.u-legend .u-marker {width: 1em;height: 1em;margin-right: 4px;background-clip: padding-box !important;}.u-inline.u-live th::after {content: ":";vertical-align: middle;}.u-inline:not(.u-live) .u-value {display: none;}.u-series > * {padding: 4px;}.u-series th {cursor: pointer;}.u-legend .u-off > * {opacity: 0.3;}.u-select {background: rgba(0,0,0,0.07);position: absolute;pointer-events: none;}.u-cursor-x, .u-cursor-y {position: absolute;left: 0;top: 0;pointer-events: none;will-change: transform;}.u-hz .u-cursor-x, .u-vt .u-cursor-y {height: 100%;border-right: 1px dashed #607D8B;}.u-hz .u-cursor-y, .u-vt .u-cursor-x {width: 100%;border-bottom: 1px dashed #607D8B;}.u-cursor-pt {position: absolute;top: 0;left: 0;border-radius: 50%;border: 0 solid;pointer-events: none;will-change: transform;/*this has to be !important since we set inline "background" shorthand */background-clip: padding-box !important;}.u-axis.u-off, .u-select.u-off, .u-cursor-x.u-off, .u-cursor-y.u-off, .u-cursor-pt.u-off {display: none;}';
