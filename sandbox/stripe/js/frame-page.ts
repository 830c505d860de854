import { createHash } from "node:crypto";

// The card frame's HTML: labelled inputs with the autocomplete tokens browsers and password
// managers fill cards by, the frame's script from the emulator's own origin, and a strict CSP
// (the only inline code is the stylesheet, allowed by its hash).

const CSS = `
:root {
	--color-primary: #0570de;
	--color-background: #ffffff;
	--color-text: #30313d;
	--color-danger: #df1b41;
	--font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
	--font-size-base: 16px;
	--border-radius: 6px;
	--spacing-unit: 4px;
	--color-border: #e6e6e6;
	--color-label: #30313d;
}
:root[data-theme="night"] {
	--color-primary: #0085ff;
	--color-background: #30313d;
	--color-text: #ffffff;
	--color-danger: #fe87a1;
	--color-border: #424353;
	--color-label: #ffffff;
}
:root[data-theme="flat"] { --color-background: #f1f1f1; --color-border: transparent; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: transparent; }
body { font-family: var(--font-family); font-size: var(--font-size-base); color: var(--color-text); }
form { padding: 2px 2px calc(var(--spacing-unit) * 2); }
fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
legend { font-weight: 600; font-size: 0.9em; margin-bottom: calc(var(--spacing-unit) * 3); color: var(--color-label); }
.field { margin-bottom: calc(var(--spacing-unit) * 3); }
.row { display: flex; gap: calc(var(--spacing-unit) * 3); }
.row > .field { flex: 1 1 0; min-width: 0; }
label { display: block; font-size: 0.875em; margin-bottom: var(--spacing-unit); color: var(--color-label); }
input {
	width: 100%;
	font: inherit;
	color: var(--color-text);
	background: var(--color-background);
	border: 1px solid var(--color-border);
	border-radius: var(--border-radius);
	padding: calc(var(--spacing-unit) * 3);
	box-shadow: 0 1px 1px rgba(0, 0, 0, 0.03), 0 3px 6px rgba(0, 0, 0, 0.02);
	transition: border-color 0.15s, box-shadow 0.15s;
}
input::placeholder { color: #87898f; }
input:focus { outline: none; border-color: var(--color-primary); box-shadow: 0 0 0 3px color-mix(in srgb, var(--color-primary) 25%, transparent); }
input[aria-invalid="true"] { border-color: var(--color-danger); color: var(--color-danger); }
input[aria-invalid="true"]:focus { box-shadow: 0 0 0 3px color-mix(in srgb, var(--color-danger) 25%, transparent); }
#card-number { padding-right: 9em; }
.control { position: relative; }
.brand { position: absolute; right: calc(var(--spacing-unit) * 3); top: 50%; transform: translateY(-50%); font-size: 0.75em; font-weight: 600; color: #6d6e78; pointer-events: none; }
.error { color: var(--color-danger); font-size: 0.875em; margin: var(--spacing-unit) 0 0; }
.error[hidden] { display: none; }
:root[data-busy] input { opacity: 0.6; }
`.trim();

const CSS_HASH = createHash("sha256").update(CSS).digest("base64");

/** The frame's response headers: its own CSP, and it may be framed by any merchant's page. */
export const FRAME_HEADERS: Record<string, string> = {
	"content-type": "text/html; charset=utf-8",
	"cache-control": "no-cache",
	"x-content-type-options": "nosniff",
	"referrer-policy": "no-referrer",
	"content-security-policy": [
		"default-src 'none'",
		"script-src 'self'",
		`style-src 'sha256-${CSS_HASH}'`,
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
	].join("; "),
};

function field(options: {
	id: string;
	label: string;
	name: string;
	autocomplete: string;
	placeholder: string;
	inputmode: "numeric" | "text";
	extra?: string;
}): string {
	const { id, label, name, autocomplete, placeholder, inputmode, extra = "" } = options;
	return `<div class="field"><label for="${id}">${label}</label><div class="control"><input id="${id}" name="${name}" type="text" inputmode="${inputmode}" autocomplete="${autocomplete}" placeholder="${placeholder}" spellcheck="false" autocorrect="off" autocapitalize="off" aria-invalid="false" aria-describedby="${id}-error">${extra}</div><p class="error" id="${id}-error" role="alert" hidden></p></div>`;
}

export const FRAME_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Secure payment input frame</title>
<style>${CSS}</style>
</head>
<body>
<form id="payment-form" novalidate>
<fieldset>
<legend>Card</legend>
${field({ id: "card-number", label: "Card number", name: "cardnumber", autocomplete: "cc-number", placeholder: "1234 1234 1234 1234", inputmode: "numeric", extra: '<span class="brand" id="card-brand" aria-hidden="true"></span>' })}
<div class="row">
${field({ id: "card-expiry", label: "Expiration date", name: "exp-date", autocomplete: "cc-exp", placeholder: "MM / YY", inputmode: "numeric" })}
${field({ id: "card-cvc", label: "Security code", name: "cvc", autocomplete: "cc-csc", placeholder: "CVC", inputmode: "numeric" })}
</div>
${field({ id: "postal-code", label: "ZIP code", name: "postal", autocomplete: "billing postal-code", placeholder: "12345", inputmode: "numeric" })}
</fieldset>
</form>
<script src="elements-frame.js"></script>
</body>
</html>
`;
