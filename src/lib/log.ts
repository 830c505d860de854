/**
 * Shapes of secrets and personal data that must never reach a log line, whatever field they hide
 * in (an error message that quotes a header, a URL with a token): API keys, webhook secrets,
 * Stripe client secrets, JWTs (checkout tokens, payer sessions), card numbers and emails.
 */
const REDACTIONS: [RegExp, string][] = [
	[/\b(sk|pk|rk)_(test|live)_[0-9A-Za-z]{8,}/g, "$1_$2_[redacted]"],
	[/\bwhsec_[A-Za-z0-9+/=]{8,}/g, "whsec_[redacted]"],
	[/\b(pi|seti)_[0-9A-Za-z]+_secret_[0-9A-Za-z]+/g, "$1_[redacted client secret]"],
	[/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, "[redacted jwt]"],
	[/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, "[redacted email]"],
];

/** 13 to 19 digits, optionally grouped by spaces or dashes, starting like a card brand's. */
const CARD_NUMBER = /\b[2-6](?:[ -]?\d){12,18}\b/g;

/** A text with anything shaped like a secret, card number or email replaced. */
export function redact(text: string): string {
	let out = text;
	for (const [pattern, replacement] of REDACTIONS) out = out.replace(pattern, replacement);
	return out.replace(CARD_NUMBER, (digits) =>
		luhnValid(digits.replace(/\D/g, "")) ? "[redacted card number]" : digits,
	);
}

function luhnValid(digits: string): boolean {
	let sum = 0;
	for (let i = 0; i < digits.length; i++) {
		let d = Number(digits[digits.length - 1 - i]);
		if (i % 2 === 1) {
			d *= 2;
			if (d > 9) d -= 9;
		}
		sum += d;
	}
	return sum % 10 === 0;
}

/** Structured logs: one JSON object per line, picked up by Workers Logs. */
export function log(
	level: "debug" | "info" | "warn" | "error",
	message: string,
	fields: Record<string, unknown> = {},
): void {
	// Fields never overwrite the level or the message.
	// Strings are redacted one by one, so the line stays valid JSON.
	const line = JSON.stringify({ ...fields, level, message }, (_key, value) =>
		typeof value === "string" ? redact(value) : value,
	);
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
