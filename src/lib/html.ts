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
