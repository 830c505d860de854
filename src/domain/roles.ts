/**
 * Dashboard roles and what each may see and do. One table, read by the dashboard's guards and by
 * the test that walks every route × role: a permission not granted here is refused.
 */
export const ROLES = ["owner", "admin", "developer", "analyst", "support"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
	owner: "everything, including the team",
	admin: "everything except the team",
	developer: "API keys, webhooks and logs",
	analyst: "read-only: payments, balances, payouts, reports and analytics",
	support: "payments and refunds, nothing else",
};

export type Permission =
	| "analytics.read"
	| "payments.read"
	| "payments.cancel"
	| "refunds.create"
	| "balances.read"
	| "payouts.read"
	| "payouts.write"
	| "reports.read"
	| "webhooks.read"
	| "webhooks.write"
	| "keys.read"
	| "keys.write"
	| "rules.read"
	| "rules.write"
	| "settings.read"
	| "settings.write"
	| "audit.read"
	| "team.read"
	| "team.write";

const GRANTS: Record<Role, readonly Permission[]> = {
	owner: [
		"analytics.read",
		"payments.read",
		"payments.cancel",
		"refunds.create",
		"balances.read",
		"payouts.read",
		"payouts.write",
		"reports.read",
		"webhooks.read",
		"webhooks.write",
		"keys.read",
		"keys.write",
		"rules.read",
		"rules.write",
		"settings.read",
		"settings.write",
		"audit.read",
		"team.read",
		"team.write",
	],
	admin: [
		"analytics.read",
		"payments.read",
		"payments.cancel",
		"refunds.create",
		"balances.read",
		"payouts.read",
		"payouts.write",
		"reports.read",
		"webhooks.read",
		"webhooks.write",
		"keys.read",
		"keys.write",
		"rules.read",
		"rules.write",
		"settings.read",
		"settings.write",
		"audit.read",
		"team.read",
	],
	developer: [
		"webhooks.read",
		"webhooks.write",
		"keys.read",
		"keys.write",
		"rules.read",
		"audit.read",
	],
	analyst: ["analytics.read", "payments.read", "balances.read", "payouts.read", "reports.read"],
	support: ["payments.read", "payments.cancel", "refunds.create"],
};

export function can(role: Role, permission: Permission): boolean {
	return GRANTS[role].includes(permission);
}

export function isRole(value: unknown): value is Role {
	return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Where a role lands when it opens /dashboard: the first page it may see. */
export function homeOf(role: Role): string {
	if (can(role, "analytics.read")) return "/dashboard";
	if (can(role, "payments.read")) return "/dashboard/payments";
	return "/dashboard/keys";
}

/** How recent a passkey assertion must be for a sensitive action. */
export const STEP_UP_WINDOW_SECONDS = 5 * 60;

export function steppedUpRecently(steppedUpAt: number | null, now: number): boolean {
	return steppedUpAt !== null && steppedUpAt > now - STEP_UP_WINDOW_SECONDS;
}

/**
 * Whether a refund of `amount` minor units of `currency` needs a step-up under the merchant's
 * threshold: above it in its currency, and always in another currency (no rate to compare by).
 * No threshold: never.
 */
export function refundNeedsStepUp(
	threshold: { amount: number; currency: string } | null,
	amount: number,
	currency: string,
): boolean {
	if (!threshold) return false;
	if (threshold.currency !== currency) return true;
	return amount > threshold.amount;
}
