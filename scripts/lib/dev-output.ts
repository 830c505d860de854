import { stripVTControlCharacters } from "node:util";

// What `npm run dev` shows of its children: by default the banner, one line per request and real
// warnings; `VERBOSE=1 npm run dev` (or `npm run dev -- --verbose`) passes everything through.

/** A line to print (possibly shortened), or null to drop it. */
export type LineFilter = (line: string) => string | null;

export function isVerbose(env: NodeJS.ProcessEnv, argv: readonly string[]): boolean {
	return argv.includes("--verbose") || Boolean(env.VERBOSE && env.VERBOSE !== "0");
}

/** Requests `npm run dev` makes itself: readiness probes and the cron ticker. */
const OWN_REQUESTS = /\[wrangler:info\] (GET|HEAD) \/(health|__scheduled)\b/;
/** The gateway's structured log lines (src/lib/log.ts) below warn: routine, not news. */
const ROUTINE_LOG = /^\{.*"level":"(debug|info)"/;

/**
 * wrangler dev's output without the start-up chatter: the bindings table (wrangler.toml says the
 * same), the custom build's npm header (its size line stays), blank lines, our own probes and
 * routine log lines. Warnings, errors, "Ready on" and each request's line pass.
 */
export function gatewayFilter(): LineFilter {
	let inBindings = false;
	return (line) => {
		const plain = stripVTControlCharacters(line).trim();
		if (inBindings) {
			// The table ends at the first line that is not a row of it.
			if (/^(env\.|Binding\s)/.test(plain)) return null;
			inBindings = false;
		}
		if (/^Your Worker has access to the following bindings/.test(plain)) {
			inBindings = true;
			return null;
		}
		if (plain === "" || /^Using (secrets|vars) defined in /.test(plain)) return null;
		if (/^\[custom build\]/.test(plain)) {
			return /client assets:/.test(plain) ? line : null;
		}
		// A notice about telemetry this script turns off (WRANGLER_SEND_METRICS=false).
		if (/^Cloudflare collects anonymous telemetry/.test(plain)) return null;
		if (/^⎔ (Starting local server|Connection status updated)/.test(plain)) return null;
		if (OWN_REQUESTS.test(plain) || ROUTINE_LOG.test(plain)) return null;
		return line;
	};
}

/** The sandbox's start-up list of its URLs: the banner shows them. */
export function sandboxFilter(): LineFilter {
	return (line) =>
		/^(Solana JSON-RPC|Stripe emulator|Sandbox control)\s/.test(stripVTControlCharacters(line))
			? null
			: line;
}

/**
 * One line for `wrangler d1 migrations apply`'s output (a banner and a table per migration):
 * how many were applied, or that none were due.
 */
export function summariseMigrations(output: readonly string[]): string {
	const text = output.map((line) => stripVTControlCharacters(line)).join("\n");
	if (/No migrations to apply/i.test(text)) return "D1 migrations: up to date";
	const names = [...new Set(text.match(/\b\d{4}_[\w-]+\.sql\b/g) ?? [])];
	if (names.length === 0) return "D1 migrations applied";
	const range = names.length === 1 ? names[0] : `${names[0]} … ${names.at(-1)}`;
	return `D1 migrations: ${names.length} applied (${range})`;
}
