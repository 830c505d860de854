import { expect } from "vitest";
import { ERROR_CODES } from "../../../src/lib/errors";
import { REQUEST_ID } from "../../worker/helpers/api";

/**
 * Asserts a refusal in the house shape: a 4xx whose status belongs to its code, a JSON error with
 * exactly the documented keys, and a request id equal to the Request-Id header. Never a 5xx.
 */
export async function expectHouse4xx(res: Response, context: string): Promise<string> {
	const text = await res.text();
	expect(res.status, `${context}: ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
	expect(res.status, `${context}: ${text.slice(0, 300)}`).toBeLessThan(500);
	return expectHouseShape(res, text, context);
}

/** The house error shape for any status (for paths where a 5xx is the documented answer). */
export function expectHouseShape(res: Response, text: string, context: string): string {
	const requestId = res.headers.get("Request-Id");
	expect(requestId, `${context}: Request-Id header`).toMatch(REQUEST_ID);
	let body: { error?: Record<string, unknown> };
	try {
		body = JSON.parse(text);
	} catch {
		throw new Error(`${context}: not JSON: ${text.slice(0, 200)}`);
	}
	const error = body.error ?? {};
	// The gateway's own table: a code added there is part of the house set (errors.test.ts pins it).
	const code = error.code as keyof typeof ERROR_CODES;
	const expected = ERROR_CODES[code];
	expect(expected, `${context}: unknown error code ${String(code)}`).toBeDefined();
	expect(res.status, `${context}: status for ${code}`).toBe(expected.status);
	expect(Object.keys(body), context).toEqual(["error"]);
	expect(error.type, context).toBe(expected.type);
	expect(typeof error.message, context).toBe("string");
	expect(error.request_id, context).toBe(requestId);
	for (const key of Object.keys(error))
		expect(["type", "code", "message", "param", "request_id"], `${context}: key ${key}`).toContain(
			key,
		);
	return code;
}
