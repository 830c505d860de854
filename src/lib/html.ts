import type { Context } from "hono";
import type { AppEnv } from "../types";

/**
 * Headers of every HTML page the gateway serves: the page's Content-Security-Policy (directives
 * given by the caller), no MIME sniffing, no referrer, no framing, and HSTS on https.
 */
export function setPageSecurityHeaders(c: Context<AppEnv>, csp: string[]): void {
	c.header("Content-Security-Policy", csp.join("; "));
	c.header("X-Content-Type-Options", "nosniff");
	c.header("Referrer-Policy", "no-referrer");
	c.header("X-Frame-Options", "DENY");
	if (new URL(c.env.PUBLIC_BASE_URL).protocol === "https:") {
		c.header("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
	}
}

/** JSON that cannot close its <script> element or open a comment inside it. */
export function jsonForScript(value: unknown): string {
	return JSON.stringify(value)
		.replace(/</g, "\\u003c")
		.replace(/>/g, "\\u003e")
		.replace(/&/g, "\\u0026")
		.replace(/\u2028/g, "\\u2028")
		.replace(/\u2029/g, "\\u2029");
}

/** A short, stable fingerprint for cache-busting (FNV-1a; not a security hash). */
export function hashText(text: string): string {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return (h >>> 0).toString(16).padStart(8, "0");
}
