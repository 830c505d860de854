/**
 * Webhook delivery rules (Standard Webhooks, https://www.standardwebhooks.com): which events an
 * endpoint receives, which URLs it may have, what is sent and signed, and when a failed delivery
 * is tried again. Pure: the queue consumer in src/queues/webhooks.ts does the I/O.
 */

import { parseIpv4, parseIpv6 } from "./ip";

// ── Endpoints ────────────────────────────────────────────────────────────────────────────────

/** At most this many endpoints per merchant and mode (each event is sent to each of them). */
export const MAX_ENDPOINTS = 16;

export const ENDPOINT_DISABLED_REASONS = ["manual", "gone", "failing", "url_refused"] as const;
export type EndpointDisabledReason = (typeof ENDPOINT_DISABLED_REASONS)[number];

/** An event type (`payment.succeeded`) or `*` for every type. */
export const EVENT_TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;

export function eventMatches(enabledEvents: readonly string[], type: string): boolean {
	return enabledEvents.includes("*") || enabledEvents.includes(type);
}

/** A webhook endpoint as the gateway keeps it, secrets excepted. */
export interface WebhookEndpointRecord {
	id: string;
	merchant_id: string;
	livemode: boolean;
	url: string;
	enabled_events: string[];
	description: string | null;
	metadata: Record<string, string>;
	disabled: boolean;
	disabled_reason: EndpointDisabledReason | null;
	/** When the current run of failures began (no success since); null when the last one worked. */
	failing_since: number | null;
	previous_secret_expires_at: number | null;
	version: number;
	created: number;
	updated: number;
}

export function toApiWebhookEndpoint(endpoint: WebhookEndpointRecord, secret?: string) {
	return {
		id: endpoint.id,
		object: "webhook_endpoint" as const,
		livemode: endpoint.livemode,
		url: endpoint.url,
		enabled_events: endpoint.enabled_events,
		description: endpoint.description,
		metadata: endpoint.metadata,
		disabled: endpoint.disabled,
		disabled_reason: endpoint.disabled_reason,
		failing_since: endpoint.failing_since,
		previous_secret_expires_at: endpoint.previous_secret_expires_at,
		created: endpoint.created,
		updated: endpoint.updated,
		...(secret !== undefined ? { secret } : {}),
	};
}

/** Seconds the previous secret keeps signing after a roll: 24 h unless asked, at most 7 days. */
export const ROLL_OVERLAP_DEFAULT_SECONDS = 24 * 60 * 60;
export const ROLL_OVERLAP_MAX_SECONDS = 7 * 24 * 60 * 60;

// ── URLs (SSRF) ──────────────────────────────────────────────────────────────────────────────

export type UrlCheck = { ok: true } | { ok: false; reason: string };

/** Names that never resolve on the public internet (RFC 6761, 6762, 8375 and common practice). */
const PRIVATE_SUFFIXES = [".local", ".internal", ".localdomain", ".home.arpa"];

/**
 * Whether the gateway may POST to `value`. Workers cannot resolve DNS before a fetch, so the host
 * is judged as written: IP literals by their range, names by their suffix. Live mode needs https
 * and a public host; test mode also allows http and loopback, for a receiver on the developer's
 * machine. Checked when an endpoint is saved and again before every delivery.
 */
export function checkWebhookUrl(value: string, livemode: boolean): UrlCheck {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return { ok: false, reason: "is not a valid URL" };
	}
	if (url.protocol !== "https:" && url.protocol !== "http:") {
		return { ok: false, reason: "must use https (or http in test mode)" };
	}
	if (livemode && url.protocol !== "https:") {
		return { ok: false, reason: "must use https in live mode" };
	}
	if (url.username !== "" || url.password !== "") {
		return { ok: false, reason: "must not contain credentials" };
	}
	const host = url.hostname.toLowerCase().replace(/\.$/, "");
	if (host === "") return { ok: false, reason: "has no host" };
	const kind = hostKind(host);
	if (kind === "public") return { ok: true };
	if (kind === "loopback" && !livemode) return { ok: true };
	return { ok: false, reason: `must not point at ${HOST_KIND_WORDS[kind]} (${url.hostname})` };
}

type HostKind =
	| "public"
	| "loopback"
	| "private"
	| "link-local"
	| "cgnat"
	| "multicast"
	| "unspecified"
	| "reserved"
	| "local-name";

const HOST_KIND_WORDS: Record<Exclude<HostKind, "public">, string> = {
	loopback: "a loopback address",
	private: "a private address",
	"link-local": "a link-local address",
	cgnat: "a carrier-grade NAT address",
	multicast: "a multicast address",
	unspecified: "an unspecified address",
	reserved: "a reserved address",
	"local-name": "a local host name",
};

function hostKind(host: string): HostKind {
	if (host.startsWith("[") && host.endsWith("]")) {
		const groups = parseIpv6(host.slice(1, -1));
		return groups ? ipv6Kind(groups) : "reserved";
	}
	const v4 = parseIpv4(host);
	if (v4) return ipv4Kind(v4);
	if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
	if (PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) return "local-name";
	// A single label ("intranet", "db") only resolves inside some private network.
	if (!host.includes(".")) return "local-name";
	return "public";
}

function ipv4Kind([a, b, c]: number[]): HostKind {
	if (a === undefined || b === undefined || c === undefined) return "reserved";
	if (a === 0) return "unspecified";
	if (a === 127) return "loopback";
	if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
	if (a === 100 && b >= 64 && b <= 127) return "cgnat";
	if (a === 169 && b === 254) return "link-local";
	if (a >= 224 && a <= 239) return "multicast";
	if (a >= 240) return "reserved";
	// IETF protocol assignments, documentation, 6to4 relays, benchmarking.
	if (a === 192 && b === 0 && (c === 0 || c === 2)) return "reserved";
	if (a === 192 && b === 88 && c === 99) return "reserved";
	if (a === 198 && (b === 18 || b === 19)) return "reserved";
	if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) {
		return "reserved";
	}
	return "public";
}

function ipv6Kind(g: number[]): HostKind {
	const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
	const embedded = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
	const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
	if (zeroTo(8)) return "unspecified";
	if (zeroTo(7) && g7 === 1) return "loopback";
	// IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address inside.
	if (zeroTo(5) && g5 === 0xffff) return ipv4Kind(embedded);
	if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
		return ipv4Kind(embedded);
	}
	if (g0 === 0x2002) return ipv4Kind([g1 >> 8, g1 & 0xff, g2 >> 8, g2 & 0xff]);
	if (zeroTo(6)) return "reserved"; // IPv4-compatible, deprecated
	if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return "private"; // local-use NAT64
	if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
	if ((g0 & 0xffc0) === 0xfe80) return "link-local";
	if ((g0 & 0xffc0) === 0xfec0) return "private"; // site-local, deprecated
	if ((g0 & 0xff00) === 0xff00) return "multicast";
	if (g0 === 0x2001 && g1 === 0x0db8) return "reserved"; // documentation
	if (g0 === 0x2001 && g1 === 0) return "reserved"; // Teredo hides the IPv4 address it reaches
	if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "reserved"; // discard-only
	if (g0 === 0) return "reserved";
	return "public";
}

// ── What is sent ─────────────────────────────────────────────────────────────────────────────

/** An event row as the consumer reads it from D1. */
export interface StoredEvent {
	id: string;
	type: string;
	livemode: boolean;
	created: number;
	/** The object at the event, JSON. */
	data: string;
	object_version: number | null;
}

/**
 * The request body: the event exactly as `GET /v1/events/:id` shows it, plus `data.sequence`,
 * the object's version at the event, so a receiver can drop an update older than one it has.
 */
export function webhookBody(event: StoredEvent): string {
	return JSON.stringify({
		id: event.id,
		object: "event",
		type: event.type,
		livemode: event.livemode,
		created: event.created,
		data: { object: JSON.parse(event.data) as unknown, sequence: event.object_version },
	});
}

export const WEBHOOK_USER_AGENT = "StreamPayments-Webhooks/1";
export const SECRET_PREFIX = "whsec_";

/** The raw HMAC key of a `whsec_…` secret: the base64 after the prefix. */
export function secretKeyBytes(secret: string): Uint8Array {
	const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
	return Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
}

/**
 * `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each secret, space
 * separated, so a receiver holding either secret verifies during a roll's overlap.
 */
export async function signatureHeader(
	secrets: readonly string[],
	messageId: string,
	timestamp: number,
	body: string,
): Promise<string> {
	const content = new TextEncoder().encode(`${messageId}.${timestamp}.${body}`);
	const signatures = await Promise.all(
		secrets.map(async (secret) => {
			const key = await crypto.subtle.importKey(
				"raw",
				secretKeyBytes(secret),
				{ name: "HMAC", hash: "SHA-256" },
				false,
				["sign"],
			);
			const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
			return `v1,${btoa(String.fromCharCode(...mac))}`;
		}),
	);
	return signatures.join(" ");
}

/** The headers of one delivery attempt (Standard Webhooks names). */
export function webhookHeaders(input: {
	eventId: string;
	timestamp: number;
	signature: string;
	sequence: number | null;
}): Record<string, string> {
	return {
		"Content-Type": "application/json",
		"User-Agent": WEBHOOK_USER_AGENT,
		"webhook-id": input.eventId,
		"webhook-timestamp": String(input.timestamp),
		"webhook-signature": input.signature,
		...(input.sequence !== null ? { "webhook-sequence": String(input.sequence) } : {}),
	};
}

// ── When ─────────────────────────────────────────────────────────────────────────────────────

/** A receiver has this long to answer with a 2xx. */
export const DELIVERY_TIMEOUT_MS = 15_000;

/**
 * Waits before attempts 2 to 10 (Standard Webhooks' suggested schedule, stretched to about three
 * days): after the tenth failure the delivery is given up.
 */
export const RETRY_SCHEDULE_SECONDS = [
	5,
	5 * 60,
	30 * 60,
	2 * 3600,
	5 * 3600,
	10 * 3600,
	10 * 3600,
	14 * 3600,
	20 * 3600,
] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;

/** Queues delays a message by at most 12 hours; a longer wait is taken in several steps. */
export const MAX_QUEUE_DELAY_SECONDS = 43_200;

/** An attempt claimed but without an outcome after this long died with its consumer. */
export const STALE_ATTEMPT_MS = DELIVERY_TIMEOUT_MS + 45_000;

/** An endpoint whose every attempt failed for longer than this is disabled. */
export const FAILING_DISABLE_AFTER_SECONDS = 3 * 24 * 3600;

export type AttemptOutcome = "succeeded" | "gone" | "failed";

/** 2xx is success; 410 Gone means the receiver asks never to be called again; the rest retries. */
export function outcomeOf(status: number): AttemptOutcome {
	if (status >= 200 && status < 300) return "succeeded";
	if (status === 410) return "gone";
	return "failed";
}

/** Seconds to wait after attempt `attempt` failed; null after the last. */
export function retryDelaySeconds(attempt: number): number | null {
	return RETRY_SCHEDULE_SECONDS[attempt - 1] ?? null;
}

/**
 * A wait the queue can take in one step: whole seconds (rounded to the nearest; planDelivery
 * accepts an arrival up to a second early), at least 1, at most 12 h.
 */
export function queueDelaySeconds(seconds: number): number {
	return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, Math.round(seconds)));
}

/** A webhook delivery attempt: claimed (pending), then succeeded or failed. */
export const WEBHOOK_ATTEMPT_STATUSES = ["pending", "succeeded", "failed"] as const;
export type WebhookAttemptStatus = (typeof WEBHOOK_ATTEMPT_STATUSES)[number];

/** The latest recorded attempt of one delivery. */
export interface LastAttempt {
	attempt: number;
	status: WebhookAttemptStatus;
	/** When it was claimed (ms). */
	startedMs: number;
	/** How long it took; null while pending, or when its consumer died before recording it. */
	durationMs: number | null;
}

export type DeliveryStep =
	| { action: "attempt"; attempt: number }
	| { action: "wait"; delaySeconds: number }
	| { action: "done" };

/** A pending attempt whose consumer has had more than enough time to record its outcome. */
export function isStale(last: LastAttempt, nowMs: number): boolean {
	return last.status === "pending" && nowMs - last.startedMs >= STALE_ATTEMPT_MS;
}

/**
 * What a delivery message does now, from the delivery's latest attempt alone: so a retried, late
 * or duplicated message always lands on the same schedule, and a wait longer than the queue's
 * limit is just another early arrival that waits again.
 */
export function planDelivery(last: LastAttempt | null, nowMs: number): DeliveryStep {
	if (last === null) return { action: "attempt", attempt: 1 };
	if (last.status === "succeeded") return { action: "done" };
	if (last.status === "pending") {
		return {
			action: "wait",
			delaySeconds: queueDelaySeconds((last.startedMs + STALE_ATTEMPT_MS - nowMs) / 1000),
		};
	}
	const delay = retryDelaySeconds(last.attempt);
	if (delay === null) return { action: "done" };
	// The wait runs from the end of the failed attempt (a timeout took 15 s of it already).
	const dueMs = last.startedMs + (last.durationMs ?? 0) + delay * 1000;
	// A message may come back a moment before its delay is over; that is close enough.
	if (nowMs >= dueMs - 1000) return { action: "attempt", attempt: last.attempt + 1 };
	return { action: "wait", delaySeconds: queueDelaySeconds((dueMs - nowMs) / 1000) };
}

/** The endpoint has failed every attempt since `failingSince` for longer than allowed. */
export function failingTooLong(failingSince: number | null, nowSeconds: number): boolean {
	return failingSince !== null && nowSeconds - failingSince > FAILING_DISABLE_AFTER_SECONDS;
}
