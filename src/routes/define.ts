import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { ApiError } from "../lib/errors";
import type { App } from "../types";

/**
 * The shapes every route repeats — who may call it, its `{id}` path parameter, its JSON body and
 * responses — written once, so a route definition reads as what is particular to it.
 */

type Definition = Omit<RouteConfig, "security">;

/** A merchant API operation: a secret or publishable key (`Authorization: Bearer …`). */
export function apiRoute<R extends Definition>(definition: R) {
	return createRoute({ ...definition, security: [{ bearerAuth: [] }] });
}

/** An operator operation: the admin token. */
export function adminRoute<R extends Definition>(definition: R) {
	return createRoute({ ...definition, security: [{ adminAuth: [] }] });
}

/** An operation anyone may call (health checks, Solana Pay transaction requests from wallets). */
export function publicRoute<R extends RouteConfig>(definition: R) {
	return createRoute(definition);
}

/** The `{id}` path parameter of an object, documented with an example id. */
export function idParam(example: string) {
	return z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example }) });
}

/** A JSON request body the operation requires. */
export function jsonBody<T extends z.ZodType>(schema: T) {
	return { required: true as const, content: { "application/json": { schema } } };
}

/** A JSON request body the operation accepts but does not require. */
export function optionalJsonBody<T extends z.ZodType>(schema: T) {
	return { required: false as const, content: { "application/json": { schema } } };
}

/** A JSON response with its description. */
export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
	return { description, content: { "application/json": { schema } } };
}

/**
 * Refuses a PUT to `path` without a JSON body. The app refuses non-JSON bodies on POST only; a PUT
 * that replaces a whole rule set would otherwise validate as `{}` and silently reset it.
 */
export function requireJsonPut(app: App, path: string): void {
	app.use(path, async (c, next) => {
		if (
			c.req.method === "PUT" &&
			!/^application\/json\b/i.test(c.req.header("Content-Type") ?? "")
		) {
			throw new ApiError(
				"body_invalid",
				"Request bodies must be JSON (Content-Type: application/json).",
			);
		}
		await next();
	});
}
