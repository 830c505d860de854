import type { z } from "@hono/zod-openapi";
import { ApiError } from "./errors";

/** Stripe-style parameter names: `metadata[order_id]`, `payment_method_types[1]`. */
export function paramName(path: readonly PropertyKey[]): string {
	const [head, ...rest] = path.map(String);
	return `${head ?? ""}${rest.map((p) => `[${p}]`).join("")}`;
}

/** Turns the first zod issue into the house error, naming the offending parameter. */
export function zodToApiError(error: z.ZodError, target: string): ApiError {
	const issue = error.issues[0];
	if (!issue) return new ApiError("parameter_invalid", "Invalid request.");
	if (issue.code === "unrecognized_keys") {
		const key = paramName([...issue.path, issue.keys[0] ?? ""]);
		return new ApiError("parameter_invalid", `Received unknown parameter: ${key}`, key);
	}
	const param =
		target === "header"
			? paramName(issue.path).replace(/^idempotency-key$/, "Idempotency-Key")
			: paramName(issue.path);
	if (issue.path.length === 0 && target === "json") {
		return new ApiError("body_invalid", "The request body must be a JSON object.");
	}
	// zod 4 leaves `input` off issues unless asked; a missing value reads "received undefined".
	if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
		return new ApiError("parameter_missing", `Missing required param: ${param}.`, param);
	}
	return new ApiError(
		"parameter_invalid",
		`Invalid ${param}: ${issue.message}`,
		param || undefined,
	);
}
